package demo

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// TestConfigFollowsServeDefaults checks that the demo runs with serve's
// defaults but for what it sets on purpose: a setting added to serve with
// a default is not left at its zero value in the demo (the request
// counter's tenant labels once were: every tenant counted as "(other)").
func TestConfigFollowsServeDefaults(t *testing.T) {
	s, err := startSimulator()
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	got, err := Options{}.config(s)
	if err != nil {
		t.Fatal(err)
	}
	testutil.SimulatorEnv(t, s.sim, map[string]string{
		"XDRPROXY_ROUTES":          "/graph/=" + s.sim.URL() + "|https://graph.microsoft.com/.default",
		"XDRPROXY_TOKEN_EMULATION": "true",
	})
	want, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	onPurpose := cmpopts.IgnoreFields(config.Config{},
		"ListenAddr", "AdminAddr", // free ports when the usual ones are taken
		"TenantListeners", // fabrikam's own listener
		"ShutdownTimeout", // Ctrl-C stops a demo quickly
		"LogFormat",       // console lines for a person
		"PublicURL",       // from Options or the environment
	)
	if diff := cmp.Diff(want, got, onPurpose, cmpopts.EquateEmpty(), cmp.Exporter(func(reflect.Type) bool { return true })); diff != "" {
		t.Errorf("the demo's configuration differs from serve's defaults (-serve +demo):\n%s", diff)
	}
}
