package simulator_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/golang-jwt/jwt/v5"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// fixedTime is a whole second, so iat and exp round-trip exactly.
var fixedTime = time.Date(2026, 10, 2, 10, 0, 0, 0, time.UTC)

func TestTLS(t *testing.T) {
	sim := &simulator.Server{}
	trusting := startSim(t, sim)
	other := &simulator.Server{}
	otherPool, err := other.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := sim.CACertPEM()
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(caPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("CACertPEM is not a PEM certificate: %q", caPEM)
	}
	caCert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !caCert.IsCA {
		t.Error("CACertPEM's certificate is not a CA")
	}
	pemPool := x509.NewCertPool()
	if !pemPool.AppendCertsFromPEM(caPEM) {
		t.Fatal("CACertPEM did not load into a pool")
	}
	transportWith := func(pool *x509.CertPool) *http.Client {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}

	tests := []struct {
		name   string
		client *http.Client
		wantOK bool
	}{
		{"sim CertPool", trusting, true},
		{"pool from CACertPEM", transportWith(pemPool), true},
		{"default roots", &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}, false},
		{"another simulator's CA", transportWith(otherPool), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.client.Get(sim.URL() + "/" + simulator.ContosoTenantID + "/v2.0/.well-known/openid-configuration")
			if tt.wantOK {
				if err != nil {
					t.Fatalf("GET: %v", err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status = %d, want 200", resp.StatusCode)
				}
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatal("GET succeeded, want a certificate error")
			}
			var unknownAuthority x509.UnknownAuthorityError
			var verifyErr *tls.CertificateVerificationError
			if !errors.As(err, &unknownAuthority) && !errors.As(err, &verifyErr) {
				t.Errorf("GET error = %v, want a certificate verification error", err)
			}
		})
	}
}

// newMSAL builds the confidential client the product builds, pointed at sim.
func newMSAL(t *testing.T, sim *simulator.Server, c *http.Client, secret string) confidential.Client {
	t.Helper()
	cred, err := confidential.NewCredFromSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	app, err := confidential.New(sim.URL()+"/organizations", simulator.DefaultClientID, cred,
		confidential.WithHTTPClient(c), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func TestMSALAcquireToken(t *testing.T) {
	tests := []struct {
		name     string
		lifetime time.Duration
		want     time.Duration
	}{
		{"default lifetime", 0, 3599 * time.Second},
		{"custom lifetime", 10 * time.Minute, 10 * time.Minute},
		{"long lifetime", 2 * time.Hour, 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := &simulator.Server{TokenLifetime: tt.lifetime, Now: func() time.Time { return fixedTime }}
			c := startSim(t, sim)
			app := newMSAL(t, sim, c, simulator.DefaultClientSecret)
			ctx := context.Background()

			res, err := app.AcquireTokenByCredential(ctx, []string{defenderScope}, confidential.WithTenantID(simulator.ContosoTenantID))
			if err != nil {
				t.Fatalf("AcquireTokenByCredential: %v", err)
			}
			claims, err := sim.ParseToken(res.AccessToken)
			if err != nil {
				t.Fatalf("ParseToken: %v", err)
			}
			if claims.TenantID != simulator.ContosoTenantID {
				t.Errorf("tid = %q, want %q", claims.TenantID, simulator.ContosoTenantID)
			}
			if claims.AppID != simulator.DefaultClientID {
				t.Errorf("appid = %q, want %q", claims.AppID, simulator.DefaultClientID)
			}
			if want := (jwt.ClaimStrings{"https://api.security.microsoft.com"}); !slices.Equal(claims.Audience, want) {
				t.Errorf("aud = %q, want %q", claims.Audience, want)
			}
			if !slices.Equal(claims.Roles, simulator.DefaultRoles) {
				t.Errorf("roles = %q, want %q", claims.Roles, simulator.DefaultRoles)
			}
			if want := "https://sts.windows.net/" + simulator.ContosoTenantID + "/"; claims.Issuer != want {
				t.Errorf("iss = %q, want %q", claims.Issuer, want)
			}
			if claims.IssuedAt == nil || claims.ExpiresAt == nil {
				t.Fatalf("iat/exp missing: %+v", claims.RegisteredClaims)
			}
			if !claims.IssuedAt.Equal(fixedTime) {
				t.Errorf("iat = %v, want the simulator's clock %v", claims.IssuedAt.Time, fixedTime)
			}
			if got := claims.ExpiresAt.Sub(claims.IssuedAt.Time); got != tt.want {
				t.Errorf("exp-iat = %v, want %v", got, tt.want)
			}
			if claims.AppIDACR != "1" {
				t.Errorf("appidacr = %q, want 1 (client secret)", claims.AppIDACR)
			}
			if claims.Version != "1.0" {
				t.Errorf("ver = %q, want 1.0", claims.Version)
			}
			if got := sim.TokenRequests(simulator.ContosoTenantID); got != 1 {
				t.Errorf("TokenRequests(contoso) = %d, want 1", got)
			}

			// MSAL answers a second call from its cache: no new request.
			res2, err := app.AcquireTokenByCredential(ctx, []string{defenderScope}, confidential.WithTenantID(simulator.ContosoTenantID))
			if err != nil {
				t.Fatalf("second AcquireTokenByCredential: %v", err)
			}
			if res2.AccessToken != res.AccessToken {
				t.Error("second call returned a different token, want the cached one")
			}
			if got := sim.TokenRequests(simulator.ContosoTenantID); got != 1 {
				t.Errorf("after cached call TokenRequests(contoso) = %d, want 1", got)
			}

			// Another tenant is counted on its own.
			res3, err := app.AcquireTokenByCredential(ctx, []string{defenderScope}, confidential.WithTenantID(simulator.FabrikamTenantID))
			if err != nil {
				t.Fatalf("AcquireTokenByCredential(fabrikam): %v", err)
			}
			claims3, err := sim.ParseToken(res3.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if claims3.TenantID != simulator.FabrikamTenantID {
				t.Errorf("fabrikam token tid = %q", claims3.TenantID)
			}
			if got := sim.TokenRequests(simulator.FabrikamTenantID); got != 1 {
				t.Errorf("TokenRequests(fabrikam) = %d, want 1", got)
			}
			if got := sim.TokenRequests(strings.ToUpper(simulator.FabrikamTenantID)); got != 1 {
				t.Errorf("TokenRequests(FABRIKAM upper case) = %d, want 1", got)
			}
			if got := sim.TokenRequests(simulator.ContosoTenantID); got != 1 {
				t.Errorf("TokenRequests(contoso) = %d after fabrikam, want 1", got)
			}
			if got := sim.TotalTokenRequests(); got != 2 {
				t.Errorf("TotalTokenRequests = %d, want 2", got)
			}
		})
	}
}

func TestMSALErrors(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	tests := []struct {
		name   string
		secret string
		tenant string
		want   string // in MSAL's error text
	}{
		{"wrong secret", "not-the-secret", simulator.ContosoTenantID, "AADSTS7000215"},
		{"unconsented tenant", simulator.DefaultClientSecret, simulator.UnconsentedTenantID, "AADSTS700016"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newMSAL(t, sim, c, tt.secret)
			_, err := app.AcquireTokenByCredential(context.Background(), []string{defenderScope}, confidential.WithTenantID(tt.tenant))
			if err == nil {
				t.Fatal("AcquireTokenByCredential succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to mention %s", err, tt.want)
			}
		})
	}
}

// entraErr is Entra ID's OAuth error body.
type entraErr struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	ErrorCodes    []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
	ErrorURI      string `json:"error_uri"`
}

// checkEntraError checks an Entra ID error response against status, error
// and AADSTS code, with the fields Entra ID always sends.
func checkEntraError(t *testing.T, resp *http.Response, body []byte, status int, code string, aadsts int, clock time.Time) entraErr {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status = %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var e entraErr
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("decoding error body: %v: %s", err, body)
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["access_token"]; ok {
		t.Error("error response carries an access_token")
	}
	if e.Error != code {
		t.Errorf("error = %q, want %q", e.Error, code)
	}
	if len(e.ErrorCodes) == 0 || e.ErrorCodes[0] != aadsts {
		t.Errorf("error_codes = %v, want [%d]", e.ErrorCodes, aadsts)
	}
	if prefix := fmt.Sprintf("AADSTS%d:", aadsts); !strings.HasPrefix(e.Description, prefix) {
		t.Errorf("error_description = %q, want prefix %q", e.Description, prefix)
	}
	if e.TraceID == "" || e.CorrelationID == "" || e.Timestamp == "" || e.ErrorURI == "" {
		t.Errorf("missing trace_id/correlation_id/timestamp/error_uri: %s", body)
	}
	if !strings.Contains(e.Description, "Trace ID: "+e.TraceID) {
		t.Errorf("error_description %q lacks \"Trace ID: %s\"", e.Description, e.TraceID)
	}
	if !strings.Contains(e.Description, "Correlation ID: "+e.CorrelationID) {
		t.Errorf("error_description %q lacks \"Correlation ID: %s\"", e.Description, e.CorrelationID)
	}
	if want := clock.UTC().Format("2006-01-02 15:04:05Z"); e.Timestamp != want {
		t.Errorf("timestamp = %q, want %q (the simulator's clock)", e.Timestamp, want)
	}
	if want := "/error?code=" + strconv.Itoa(aadsts); !strings.HasSuffix(e.ErrorURI, want) {
		t.Errorf("error_uri = %q, want suffix %q", e.ErrorURI, want)
	}
	return e
}

func TestTokenErrors(t *testing.T) {
	sim := &simulator.Server{Now: func() time.Time { return fixedTime }}
	c := startSim(t, sim)
	const unknownTenant = "44444444-4444-4444-8444-444444444444"
	const wrongSecret = "wr0ng-S3cret-value-that-must-not-echo"
	v2 := func(tenant string) string { return "/" + tenant + "/oauth2/v2.0/token" }
	v1 := func(tenant string) string { return "/" + tenant + "/oauth2/token" }
	with := func(form url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, v := range form {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				out.Del(kv[i])
			} else {
				out.Set(kv[i], kv[i+1])
			}
		}
		return out
	}
	good := credForm(defenderScope)
	goodV1 := with(good, "scope", "", "resource", "https://api.security.microsoft.com")

	tests := []struct {
		name    string
		path    string
		form    url.Values
		status  int
		code    string
		aadsts  int
		notEcho string // must not appear in the body
	}{
		{"unknown tenant", v2(unknownTenant), good, 400, "invalid_request", 90002, ""},
		{"unconsented tenant", v2(simulator.UnconsentedTenantID), good, 400, "unauthorized_client", 700016, ""},
		{"wrong client id", v2(simulator.ContosoTenantID), with(good, "client_id", "99999999-9999-4999-8999-999999999999"), 400, "unauthorized_client", 700016, ""},
		{"missing client id", v2(simulator.ContosoTenantID), with(good, "client_id", ""), 400, "invalid_request", 900144, ""},
		{"wrong secret", v2(simulator.ContosoTenantID), with(good, "client_secret", wrongSecret), 401, "invalid_client", 7000215, wrongSecret},
		{"missing secret", v2(simulator.ContosoTenantID), with(good, "client_secret", ""), 401, "invalid_client", 7000218, ""},
		{"client assertion", v2(simulator.ContosoTenantID), with(good, "client_secret", "", "client_assertion", "eyJ.x.y"), 401, "invalid_client", 700027, ""},
		{"wrong grant type", v2(simulator.ContosoTenantID), with(good, "grant_type", "password"), 400, "unsupported_grant_type", 70003, ""},
		{"missing grant type", v2(simulator.ContosoTenantID), with(good, "grant_type", ""), 400, "unsupported_grant_type", 70003, ""},
		{"scope without /.default", v2(simulator.ContosoTenantID), with(good, "scope", "https://api.security.microsoft.com"), 400, "invalid_scope", 1002012, ""},
		{"two resources", v2(simulator.ContosoTenantID), with(good, "scope", defenderScope+" https://graph.microsoft.com/.default"), 400, "invalid_request", 700022, ""},
		{"missing scope", v2(simulator.ContosoTenantID), with(good, "scope", ""), 400, "invalid_request", 900144, ""},
		{"unknown resource", v2(simulator.ContosoTenantID), with(good, "scope", "https://unknown.example.com/.default"), 400, "invalid_resource", 500011, ""},
		{"v1 unknown tenant", v1(unknownTenant), goodV1, 400, "invalid_request", 90002, ""},
		{"v1 missing resource", v1(simulator.ContosoTenantID), with(goodV1, "resource", ""), 400, "invalid_request", 900144, ""},
		{"v1 unknown resource", v1(simulator.ContosoTenantID), with(goodV1, "resource", "https://unknown.example.com"), 400, "invalid_resource", 500011, ""},
		{"v1 wrong secret", v1(simulator.ContosoTenantID), with(goodV1, "client_secret", wrongSecret), 401, "invalid_client", 7000215, wrongSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := postForm(t, c, sim, tt.path, tt.form)
			checkEntraError(t, resp, body, tt.status, tt.code, tt.aadsts, fixedTime)
			if tt.notEcho != "" && strings.Contains(string(body), tt.notEcho) {
				t.Errorf("error body echoes the secret that was sent: %s", body)
			}
		})
	}

	t.Run("discovery for unknown tenant", func(t *testing.T) {
		for _, p := range []string{"/v2.0/.well-known/openid-configuration", "/.well-known/openid-configuration"} {
			resp, body := do(t, c, http.MethodGet, sim.URL()+"/"+unknownTenant+p, "", nil)
			checkEntraError(t, resp, body, 400, "invalid_tenant", 90002, fixedTime)
		}
	})

	t.Run("trace ids differ", func(t *testing.T) {
		_, b1 := postForm(t, c, sim, v2(unknownTenant), good)
		_, b2 := postForm(t, c, sim, v2(unknownTenant), good)
		var e1, e2 entraErr
		if err := json.Unmarshal(b1, &e1); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b2, &e2); err != nil {
			t.Fatal(err)
		}
		if e1.TraceID == e2.TraceID || e1.CorrelationID == e2.CorrelationID {
			t.Errorf("two errors share trace/correlation ids: %q/%q", e1.TraceID, e1.CorrelationID)
		}
	})

	// The table's sanity: the good forms do succeed.
	t.Run("good forms succeed", func(t *testing.T) {
		for _, p := range []string{v2(simulator.ContosoTenantID), v1(simulator.ContosoTenantID)} {
			form := good
			if p == v1(simulator.ContosoTenantID) {
				form = goodV1
			}
			resp, body := postForm(t, c, sim, p, form)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("POST %s: status %d: %s", p, resp.StatusCode, body)
			}
		}
	})
}

// The discovery document advertises client_secret_basic: the credentials
// may come in HTTP Basic, and a wrong secret there is refused as in the form.
func TestTokenTakesClientSecretBasic(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	for _, tc := range []struct {
		secret string
		status int
	}{{simulator.DefaultClientSecret, http.StatusOK}, {"wrong", http.StatusUnauthorized}} {
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {defenderScope}}
		req, _ := http.NewRequest(http.MethodPost, sim.URL()+"/"+simulator.ContosoTenantID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(simulator.DefaultClientID, tc.secret)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("Basic with secret %q: status %d, want %d", tc.secret, resp.StatusCode, tc.status)
		}
	}
}

func TestTokenSuccessShapes(t *testing.T) {
	sim := &simulator.Server{Now: func() time.Time { return fixedTime }}
	c := startSim(t, sim)

	t.Run("v2 numbers", func(t *testing.T) {
		resp, body := postForm(t, c, sim, "/"+simulator.ContosoTenantID+"/oauth2/v2.0/token", credForm(defenderScope+" openid profile offline_access"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var tr map[string]any
		if err := json.Unmarshal(body, &tr); err != nil {
			t.Fatal(err)
		}
		if tr["token_type"] != "Bearer" {
			t.Errorf("token_type = %v, want Bearer", tr["token_type"])
		}
		if tr["expires_in"] != float64(3599) {
			t.Errorf("expires_in = %#v, want the number 3599", tr["expires_in"])
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
	})

	t.Run("v1 strings", func(t *testing.T) {
		form := url.Values{
			"grant_type":    {"client_credentials"},
			"client_id":     {simulator.DefaultClientID},
			"client_secret": {simulator.DefaultClientSecret},
			"resource":      {"https://api.security.microsoft.com/"},
		}
		resp, body := postForm(t, c, sim, "/"+simulator.FabrikamTenantID+"/oauth2/token", form)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var tr map[string]any
		if err := json.Unmarshal(body, &tr); err != nil {
			t.Fatal(err)
		}
		wantStr := map[string]string{
			"token_type": "Bearer",
			"expires_in": "3599",
			"expires_on": strconv.FormatInt(fixedTime.Add(3599*time.Second).Unix(), 10),
			"not_before": strconv.FormatInt(fixedTime.Unix(), 10),
			"resource":   "https://api.security.microsoft.com",
		}
		for k, want := range wantStr {
			if got, ok := tr[k].(string); !ok || got != want {
				t.Errorf("%s = %#v, want the string %q", k, tr[k], want)
			}
		}
		at, _ := tr["access_token"].(string)
		claims, err := sim.ParseToken(at)
		if err != nil {
			t.Fatalf("ParseToken: %v", err)
		}
		if claims.TenantID != simulator.FabrikamTenantID {
			t.Errorf("tid = %q, want fabrikam", claims.TenantID)
		}
		if !slices.Equal(claims.Audience, jwt.ClaimStrings{"https://api.security.microsoft.com"}) {
			t.Errorf("aud = %q", claims.Audience)
		}
		// The v1 token works against the API.
		resp, body = do(t, c, http.MethodGet, sim.URL()+"/api/incidents?$top=1", at, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("API with v1 token: status %d: %s", resp.StatusCode, body)
		}
	})
}

func TestSetTenantGrantsConsent(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	app := newMSAL(t, sim, c, simulator.DefaultClientSecret)
	ctx := context.Background()
	acquire := func() (confidential.AuthResult, error) {
		return app.AcquireTokenByCredential(ctx, []string{defenderScope}, confidential.WithTenantID(simulator.UnconsentedTenantID))
	}

	if _, err := acquire(); err == nil || !strings.Contains(err.Error(), "AADSTS700016") {
		t.Fatalf("before consent: err = %v, want AADSTS700016", err)
	}
	if err := sim.SetTenant(simulator.Tenant{ID: simulator.UnconsentedTenantID, Name: "Northwind", Consented: true, Roles: simulator.DefaultRoles}); err != nil {
		t.Fatal(err)
	}
	res, err := acquire()
	if err != nil {
		t.Fatalf("after consent: %v", err)
	}
	claims, err := sim.ParseToken(res.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if claims.TenantID != simulator.UnconsentedTenantID {
		t.Errorf("tid = %q, want %q", claims.TenantID, simulator.UnconsentedTenantID)
	}
	if got := sim.TokenRequests(simulator.UnconsentedTenantID); got != 2 {
		t.Errorf("TokenRequests = %d, want 2", got)
	}
}

func TestBeforeToken(t *testing.T) {
	var failing atomic.Bool
	var sawTenant atomic.Value
	sim := &simulator.Server{
		BeforeToken: func(w http.ResponseWriter, r *http.Request, tenantID string) bool {
			sawTenant.Store(tenantID)
			if !failing.Load() {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":"temporarily_unavailable","error_description":"AADSTS90033: try later","error_codes":[90033]}`)
			return true
		},
	}
	c := startSim(t, sim)
	path := "/" + strings.ToUpper(simulator.ContosoTenantID) + "/oauth2/v2.0/token"

	tests := []struct {
		name    string
		failing bool
		status  int
	}{
		{"hook answers 503", true, http.StatusServiceUnavailable},
		{"hook passes", false, http.StatusOK},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failing.Store(tt.failing)
			resp, body := postForm(t, c, sim, path, credForm(defenderScope))
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if got := sawTenant.Load(); got != simulator.ContosoTenantID {
				t.Errorf("hook saw tenant %v, want lower-case %s", got, simulator.ContosoTenantID)
			}
			if got := sim.TokenRequests(simulator.ContosoTenantID); got != i+1 {
				t.Errorf("TokenRequests = %d, want %d (faults count too)", got, i+1)
			}
		})
	}

	t.Run("MSAL sees the fault", func(t *testing.T) {
		failing.Store(true)
		app := newMSAL(t, sim, c, simulator.DefaultClientSecret)
		_, err := app.AcquireTokenByCredential(context.Background(), []string{defenderScope}, confidential.WithTenantID(simulator.FabrikamTenantID))
		if err == nil {
			t.Fatal("AcquireTokenByCredential succeeded through a 503")
		}
		failing.Store(false)
		if _, err := app.AcquireTokenByCredential(context.Background(), []string{defenderScope}, confidential.WithTenantID(simulator.FabrikamTenantID)); err != nil {
			t.Fatalf("after the fault cleared: %v", err)
		}
	})
}

func TestDiscovery(t *testing.T) {
	sim := &simulator.Server{}
	startSim(t, sim)
	addr := simAddr(t, sim)
	_, port, _ := strings.Cut(addr, ":")
	c := trustingClient(t, sim, &addr)

	tests := []struct {
		name, host, path            string
		issuer, tokenPath, jwksPath string
	}{
		{
			name: "v2 by IP", host: addr, path: "/v2.0/.well-known/openid-configuration",
			issuer: "https://" + addr + "/" + simulator.ContosoTenantID + "/v2.0", tokenPath: "/oauth2/v2.0/token", jwksPath: "/discovery/v2.0/keys",
		},
		{
			name: "v2 by localhost", host: "localhost:" + port, path: "/v2.0/.well-known/openid-configuration",
			issuer: "https://localhost:" + port + "/" + simulator.ContosoTenantID + "/v2.0", tokenPath: "/oauth2/v2.0/token", jwksPath: "/discovery/v2.0/keys",
		},
		{
			name: "v1 by localhost", host: "localhost:" + port, path: "/.well-known/openid-configuration",
			issuer: "https://sts.windows.net/" + simulator.ContosoTenantID + "/", tokenPath: "/oauth2/token", jwksPath: "/discovery/keys",
		},
	}
	tok := token(t, c, sim, simulator.ContosoTenantID, defenderScope)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := "https://" + tt.host
			resp, body := do(t, c, http.MethodGet, base+"/"+simulator.ContosoTenantID+tt.path, "", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var doc struct {
				Issuer        string `json:"issuer"`
				TokenEndpoint string `json:"token_endpoint"`
				JWKSURI       string `json:"jwks_uri"`
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Issuer != tt.issuer {
				t.Errorf("issuer = %q, want %q", doc.Issuer, tt.issuer)
			}
			if want := base + "/" + simulator.ContosoTenantID + tt.tokenPath; doc.TokenEndpoint != want {
				t.Errorf("token_endpoint = %q, want %q", doc.TokenEndpoint, want)
			}
			if want := base + "/" + simulator.ContosoTenantID + tt.jwksPath; doc.JWKSURI != want {
				t.Errorf("jwks_uri = %q, want %q", doc.JWKSURI, want)
			}

			pub := fetchJWK(t, c, doc.JWKSURI, tok)
			parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"RS256"}))
			if err != nil {
				t.Fatalf("verifying the token with the JWKS key: %v", err)
			}
			if !parsed.Valid {
				t.Error("token not valid under the JWKS key")
			}
		})
	}

	t.Run("token from another simulator does not verify", func(t *testing.T) {
		other := &simulator.Server{}
		oc := startSim(t, other)
		otherTok := token(t, oc, other, simulator.ContosoTenantID, defenderScope)
		pub := fetchJWK(t, c, sim.URL()+"/"+simulator.ContosoTenantID+"/discovery/v2.0/keys", "")
		_, err := jwt.Parse(otherTok, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"RS256"}))
		if !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			t.Errorf("verifying another simulator's token: err = %v, want ErrTokenSignatureInvalid", err)
		}
	})
}

// fetchJWK reads the JWKS at uri, checks it holds one RSA signing key whose
// kid matches tok's header (if tok is set), and returns that key.
func fetchJWK(t *testing.T, c *http.Client, uri, tok string) *rsa.PublicKey {
	t.Helper()
	resp, body := do(t, c, http.MethodGet, uri, "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", uri, resp.StatusCode, body)
	}
	var set struct {
		Keys []struct {
			Kty, Use, Kid, N, E string
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1: %s", len(set.Keys), body)
	}
	k := set.Keys[0]
	if k.Kty != "RSA" || k.Use != "sig" {
		t.Errorf("key kty/use = %q/%q, want RSA/sig", k.Kty, k.Use)
	}
	if tok != "" {
		parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
		if err != nil {
			t.Fatal(err)
		}
		if parsed.Header["kid"] != k.Kid || k.Kid == "" {
			t.Errorf("token kid = %v, JWKS kid = %q", parsed.Header["kid"], k.Kid)
		}
		if parsed.Header["alg"] != "RS256" {
			t.Errorf("token alg = %v, want RS256", parsed.Header["alg"])
		}
	}
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		t.Fatalf("n: %v", err)
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil {
		t.Fatalf("e: %v", err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if pub.E != 65537 {
		t.Errorf("e = %d, want 65537", pub.E)
	}
	if pub.N.BitLen() < 2048 {
		t.Errorf("modulus is %d bits, want at least 2048", pub.N.BitLen())
	}
	return pub
}

func TestAdminConsentPageGrantsConsent(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	tokenStatus := func() int {
		t.Helper()
		resp, err := c.PostForm(sim.URL()+"/"+simulator.UnconsentedTenantID+"/oauth2/v2.0/token", url.Values{
			"grant_type": {"client_credentials"}, "client_id": {simulator.DefaultClientID},
			"client_secret": {simulator.DefaultClientSecret}, "scope": {"https://api.security.microsoft.com/.default"},
		})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	consent := func(clientID string) (int, string) {
		t.Helper()
		resp, err := c.Get(sim.URL() + "/" + simulator.UnconsentedTenantID + "/oauth2/authorize?client_id=" + clientID + "&prompt=consent&response_type=code&sso_reload=true")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}

	if st, _ := consent("00000000-0000-0000-0000-000000000000"); st != http.StatusBadRequest {
		t.Fatalf("consent for another application: status %d, want 400", st)
	}
	if st := tokenStatus(); st != http.StatusBadRequest {
		t.Fatalf("a refused consent granted consent: token status %d", st)
	}
	if st, body := consent(simulator.DefaultClientID); st != 200 || !strings.Contains(body, "consent granted") {
		t.Fatalf("consent page: %d %s", st, body)
	}
	if st := tokenStatus(); st != 200 {
		t.Errorf("token after consent: status %d, want 200", st)
	}
}
