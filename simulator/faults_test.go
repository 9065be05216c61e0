package simulator_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/xdrproxy/xdrproxy/simulator"
)

func TestFailTokens(t *testing.T) {
	v2 := "/" + simulator.ContosoTenantID + "/oauth2/v2.0/token"

	t.Run("n=2 then success", func(t *testing.T) {
		sim := &simulator.Server{Now: func() time.Time { return fixedTime }}
		c := startSim(t, sim)
		sim.FailTokens(strings.ToUpper(simulator.ContosoTenantID), http.StatusServiceUnavailable, "temporarily_unavailable", 90033, 2)
		for i := range 2 {
			resp, body := postForm(t, c, sim, v2, credForm(defenderScope))
			checkEntraError(t, resp, body, http.StatusServiceUnavailable, "temporarily_unavailable", 90033, fixedTime)
			if ra := resp.Header.Get("Retry-After"); ra != "" {
				t.Errorf("request %d: a 503 fault carries Retry-After %q", i+1, ra)
			}
		}
		if resp, body := postForm(t, c, sim, v2, credForm(defenderScope)); resp.StatusCode != http.StatusOK {
			t.Errorf("third request: status %d, want 200: %s", resp.StatusCode, body)
		}
		if got := sim.TokenRequests(simulator.ContosoTenantID); got != 3 {
			t.Errorf("TokenRequests = %d, want 3 (faults count)", got)
		}
		if resp, body := postForm(t, c, sim, "/"+simulator.FabrikamTenantID+"/oauth2/v2.0/token", credForm(defenderScope)); resp.StatusCode != http.StatusOK {
			t.Errorf("another tenant was failed too: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("429 carries Retry-After", func(t *testing.T) {
		sim := &simulator.Server{Now: func() time.Time { return fixedTime }}
		c := startSim(t, sim)
		sim.FailTokens(simulator.ContosoTenantID, http.StatusTooManyRequests, "temporarily_unavailable", 90055, 1)
		resp, body := postForm(t, c, sim, v2, credForm(defenderScope))
		checkEntraError(t, resp, body, http.StatusTooManyRequests, "temporarily_unavailable", 90055, fixedTime)
		if ra := resp.Header.Get("Retry-After"); ra != "1" {
			t.Errorf("Retry-After = %q, want 1", ra)
		}
	})

	t.Run("until cleared, on both endpoints", func(t *testing.T) {
		sim := &simulator.Server{Now: func() time.Time { return fixedTime }}
		c := startSim(t, sim)
		sim.FailTokens(simulator.ContosoTenantID, http.StatusUnauthorized, "invalid_client", 7000222, -1)
		v1Form := credForm("")
		v1Form.Del("scope")
		v1Form.Set("resource", "https://api.security.microsoft.com")
		for range 3 {
			resp, body := postForm(t, c, sim, v2, credForm(defenderScope))
			e := checkEntraError(t, resp, body, http.StatusUnauthorized, "invalid_client", 7000222, fixedTime)
			if !strings.Contains(e.Description, "expired") {
				t.Errorf("7000222 description %q does not say expired", e.Description)
			}
			resp, body = postForm(t, c, sim, "/"+simulator.ContosoTenantID+"/oauth2/token", v1Form)
			checkEntraError(t, resp, body, http.StatusUnauthorized, "invalid_client", 7000222, fixedTime)
		}
		sim.FailTokens(simulator.ContosoTenantID, 0, "", 0, 0)
		if resp, body := postForm(t, c, sim, v2, credForm(defenderScope)); resp.StatusCode != http.StatusOK {
			t.Errorf("after clearing: status %d: %s", resp.StatusCode, body)
		}
	})

	t.Run("BeforeToken runs first", func(t *testing.T) {
		var hookAnswers atomic.Int32
		hookAnswers.Store(1)
		sim := &simulator.Server{
			Now: func() time.Time { return fixedTime },
			BeforeToken: func(w http.ResponseWriter, _ *http.Request, _ string) bool {
				if hookAnswers.Add(-1) < 0 {
					return false
				}
				w.WriteHeader(http.StatusTeapot)
				return true
			},
		}
		c := startSim(t, sim)
		sim.FailTokens(simulator.ContosoTenantID, http.StatusServiceUnavailable, "temporarily_unavailable", 90033, 1)
		want := []int{http.StatusTeapot, http.StatusServiceUnavailable, http.StatusOK}
		for i, st := range want {
			if resp, body := postForm(t, c, sim, v2, credForm(defenderScope)); resp.StatusCode != st {
				t.Errorf("request %d: status %d, want %d: %s", i+1, resp.StatusCode, st, body)
			}
		}
	})

	t.Run("MSAL sees the AADSTS code", func(t *testing.T) {
		sim := &simulator.Server{}
		c := startSim(t, sim)
		sim.FailTokens(simulator.ContosoTenantID, http.StatusBadRequest, "unauthorized_client", 700016, 1)
		app := newMSAL(t, sim, c, simulator.DefaultClientSecret)
		_, err := app.AcquireTokenByCredential(context.Background(), []string{defenderScope}, confidential.WithTenantID(simulator.ContosoTenantID))
		if err == nil || !strings.Contains(err.Error(), "AADSTS700016") {
			t.Fatalf("error = %v, want AADSTS700016", err)
		}
		if _, err := app.AcquireTokenByCredential(context.Background(), []string{defenderScope}, confidential.WithTenantID(simulator.ContosoTenantID)); err != nil {
			t.Errorf("after the fault: %v", err)
		}
	})

	t.Run("concurrent requests use up exactly n", func(t *testing.T) {
		sim := &simulator.Server{}
		c := startSim(t, sim)
		const n, total = 5, 16
		sim.FailTokens(simulator.ContosoTenantID, http.StatusServiceUnavailable, "temporarily_unavailable", 90033, n)
		var failed, ok atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, total)
		for range total {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := c.PostForm(sim.URL()+v2, credForm(defenderScope))
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusServiceUnavailable:
					failed.Add(1)
				case http.StatusOK:
					ok.Add(1)
				default:
					errs <- fmt.Errorf("status %d", resp.StatusCode)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if failed.Load() != n || ok.Load() != total-n {
			t.Errorf("%d failed and %d succeeded, want %d and %d", failed.Load(), ok.Load(), n, total-n)
		}
		if got := sim.TokenRequests(simulator.ContosoTenantID); got != total {
			t.Errorf("TokenRequests = %d, want %d", got, total)
		}
	})
}
