package simulator_test

import (
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/golang-jwt/jwt/v5"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// clientCert is a certificate credential made by NewClientCertificate,
// with its key parsed back from the PEM.
type clientCert struct {
	certPEM, keyPEM []byte
	cert            *x509.Certificate
	key             *rsa.PrivateKey
}

func newClientCert(t *testing.T, cn string) clientCert {
	t.Helper()
	certPEM, keyPEM, cert, err := simulator.NewClientCertificate(cn)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("key PEM is not a PKCS#8 PRIVATE KEY block: %q", keyPEM)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("key is %T, want *rsa.PrivateKey", k)
	}
	return clientCert{certPEM: certPEM, keyPEM: keyPEM, cert: cert, key: key}
}

// newMSALWith builds a confidential client with cred, pointed at sim.
func newMSALWith(t *testing.T, sim *simulator.Server, c *http.Client, cred confidential.Credential, opts ...confidential.Option) confidential.Client {
	t.Helper()
	opts = append([]confidential.Option{confidential.WithHTTPClient(c), confidential.WithInstanceDiscovery(false)}, opts...)
	app, err := confidential.New(sim.URL()+"/organizations", simulator.DefaultClientID, cred, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// certMSAL builds a confidential client that authenticates with cc, the
// way the product loads XDRPROXY_CLIENT_CERTIFICATE_FILE.
func certMSAL(t *testing.T, sim *simulator.Server, c *http.Client, cc clientCert, opts ...confidential.Option) confidential.Client {
	t.Helper()
	certs, key, err := confidential.CertFromPEM(append(append([]byte(nil), cc.certPEM...), cc.keyPEM...), "")
	if err != nil {
		t.Fatalf("CertFromPEM: %v", err)
	}
	cred, err := confidential.NewCredFromCert(certs, key)
	if err != nil {
		t.Fatal(err)
	}
	return newMSALWith(t, sim, c, cred, opts...)
}

// assertionRecorder is a BeforeToken hook that keeps the last
// client_assertion it saw.
type assertionRecorder struct {
	mu   sync.Mutex
	last string
}

func (a *assertionRecorder) hook(_ http.ResponseWriter, r *http.Request, _ string) bool {
	if err := r.ParseForm(); err == nil {
		a.mu.Lock()
		a.last = r.PostForm.Get("client_assertion")
		a.mu.Unlock()
	}
	return false
}

func (a *assertionRecorder) header(t *testing.T) map[string]any {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	tok, _, err := jwt.NewParser().ParseUnverified(a.last, jwt.MapClaims{})
	if err != nil {
		t.Fatalf("recorded assertion %q: %v", a.last, err)
	}
	return tok.Header
}

func TestCertificateCredentialMSAL(t *testing.T) {
	registered := newClientCert(t, "xdrproxy-registered")
	other := newClientCert(t, "xdrproxy-other")
	clock := testutil.NewClock(time.Now().Truncate(time.Second))
	rec := &assertionRecorder{}
	sim := &simulator.Server{ClientCertificate: registered.cert, Now: clock.Now, BeforeToken: rec.hook}
	c := startSim(t, sim)
	ctx := context.Background()

	tests := []struct {
		name    string
		cert    clientCert
		opts    []confidential.Option
		wantErr string   // AADSTS code in MSAL's error, empty for success
		header  []string // header parameters the assertion must carry
	}{
		{"registered certificate", registered, nil, "", []string{"x5t#S256"}},
		{"registered certificate with x5c", registered, []confidential.Option{confidential.WithX5C()}, "", []string{"x5t#S256", "x5c"}},
		{"certificate the app does not have", other, nil, "AADSTS700027", []string{"x5t#S256"}},
		{"unregistered certificate with x5c", other, []confidential.Option{confidential.WithX5C()}, "AADSTS700027", []string{"x5c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := certMSAL(t, sim, c, tt.cert, tt.opts...)
			res, err := app.AcquireTokenByCredential(ctx, []string{defenderScope}, confidential.WithTenantID(simulator.ContosoTenantID))
			h := rec.header(t)
			for _, p := range tt.header {
				if h[p] == nil {
					t.Errorf("MSAL's assertion header %v lacks %s", h, p)
				}
			}
			if tt.wantErr != "" {
				if err == nil {
					t.Fatal("AcquireTokenByCredential succeeded, want a refusal")
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("AcquireTokenByCredential: %v", err)
			}
			claims, err := sim.ParseToken(res.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if claims.AppIDACR != "2" {
				t.Errorf("appidacr = %q, want 2 (certificate)", claims.AppIDACR)
			}
			if claims.TenantID != simulator.ContosoTenantID || claims.AppID != simulator.DefaultClientID {
				t.Errorf("tid/appid = %q/%q", claims.TenantID, claims.AppID)
			}
			if !slices.Equal(claims.Roles, simulator.DefaultRoles) {
				t.Errorf("roles = %q, want %q", claims.Roles, simulator.DefaultRoles)
			}
		})
	}

	t.Run("no certificate registered", func(t *testing.T) {
		bare := &simulator.Server{}
		bc := startSim(t, bare)
		app := certMSAL(t, bare, bc, registered)
		_, err := app.AcquireTokenByCredential(ctx, []string{defenderScope}, confidential.WithTenantID(simulator.ContosoTenantID))
		if err == nil || !strings.Contains(err.Error(), "AADSTS700027") {
			t.Errorf("error = %v, want AADSTS700027", err)
		}
	})

	t.Run("registered certificate has expired", func(t *testing.T) {
		clock.Set(registered.cert.NotAfter.Add(time.Hour))
		defer clock.Set(time.Now().Truncate(time.Second))
		app := certMSAL(t, sim, c, registered)
		_, err := app.AcquireTokenByCredential(ctx, []string{defenderScope}, confidential.WithTenantID(simulator.ContosoTenantID))
		if err == nil || !strings.Contains(err.Error(), "AADSTS700027") || !strings.Contains(err.Error(), "expired") {
			t.Errorf("error = %v, want AADSTS700027 saying the key expired", err)
		}
	})
}

// b64 is standard base64, as MSAL Go writes x5t#S256 and x5c.
func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestCertificateAssertionRefusals(t *testing.T) {
	registered := newClientCert(t, "xdrproxy-registered")
	other := newClientCert(t, "xdrproxy-other")
	now := time.Now().Truncate(time.Second)
	sim := &simulator.Server{ClientCertificate: registered.cert, Now: func() time.Time { return now }}
	c := startSim(t, sim)
	v2 := sim.URL() + "/" + simulator.ContosoTenantID + "/oauth2/v2.0/token"
	v1 := sim.URL() + "/" + simulator.ContosoTenantID + "/oauth2/token"
	sha1Print := sha1.Sum(registered.cert.Raw)
	sha256Print := sha256.Sum256(registered.cert.Raw)

	type assertion struct {
		method jwt.SigningMethod
		key    any
		header map[string]any
		claims jwt.MapClaims
	}
	good := func() assertion {
		return assertion{
			method: jwt.SigningMethodPS256,
			key:    registered.key,
			header: map[string]any{"x5t#S256": b64(sha256Print[:])},
			claims: jwt.MapClaims{
				"iss": simulator.DefaultClientID, "sub": simulator.DefaultClientID, "aud": v2,
				"nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "jti": "j1",
			},
		}
	}
	with := func(edit func(*assertion)) assertion {
		a := good()
		edit(&a)
		return a
	}
	sign := func(t *testing.T, a assertion) string {
		t.Helper()
		tok := jwt.NewWithClaims(a.method, a.claims)
		for k, v := range a.header {
			tok.Header[k] = v
		}
		s, err := tok.SignedString(a.key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	tests := []struct {
		name   string
		path   string // v2 when empty
		a      assertion
		form   map[string]string // extra or replaced form fields; "" deletes
		status int
		code   string
		aadsts int
		inDesc string
	}{
		{name: "PS256 with x5t#S256", a: good(), status: 200},
		{name: "RS256 with x5t (SHA-1)", a: with(func(a *assertion) {
			a.method = jwt.SigningMethodRS256
			a.header = map[string]any{"x5t": base64.RawURLEncoding.EncodeToString(sha1Print[:])}
		}), status: 200},
		{name: "x5c of the registered certificate", a: with(func(a *assertion) {
			a.header = map[string]any{"x5c": []string{b64(registered.cert.Raw)}}
		}), status: 200},
		{name: "aud is the v1 token endpoint", a: with(func(a *assertion) { a.claims["aud"] = v1 }), status: 200},
		{name: "aud is the v2.0 issuer", a: with(func(a *assertion) {
			a.claims["aud"] = sim.URL() + "/" + simulator.ContosoTenantID + "/v2.0"
		}), status: 200},
		{name: "v1 endpoint", path: v1, a: good(), form: map[string]string{"scope": "", "resource": "https://api.security.microsoft.com"}, status: 200},

		{name: "thumbprint of another certificate", a: with(func(a *assertion) {
			p := sha256.Sum256(other.cert.Raw)
			a.key = other.key
			a.header = map[string]any{"x5t#S256": b64(p[:])}
		}), status: 401, code: "invalid_client", aadsts: 700027, inDesc: "not registered on application"},
		{name: "x5c of another certificate", a: with(func(a *assertion) {
			a.header["x5c"] = []string{b64(other.cert.Raw)}
		}), status: 401, code: "invalid_client", aadsts: 700027, inDesc: "The key was not found"},
		{name: "bad signature", a: with(func(a *assertion) { a.key = other.key }),
			status: 401, code: "invalid_client", aadsts: 700027, inDesc: "did not match the expected signature"},
		{name: "HS256 is not accepted", a: with(func(a *assertion) {
			a.method = jwt.SigningMethodHS256
			a.key = []byte(simulator.DefaultClientSecret)
		}),
			status: 401, code: "invalid_client", aadsts: 700027, inDesc: "invalid signature"},
		{name: "expired", a: with(func(a *assertion) {
			a.claims["nbf"] = now.Add(-time.Hour).Unix()
			a.claims["exp"] = now.Add(-time.Second).Unix()
		}), status: 401, code: "invalid_client", aadsts: 700024, inDesc: "not within its valid time range"},
		{name: "no exp", a: with(func(a *assertion) { delete(a.claims, "exp") }),
			status: 401, code: "invalid_client", aadsts: 700024},
		{name: "not yet valid", a: with(func(a *assertion) {
			a.claims["nbf"] = now.Add(time.Hour).Unix()
			a.claims["exp"] = now.Add(2 * time.Hour).Unix()
		}), status: 401, code: "invalid_client", aadsts: 700024},
		{name: "wrong audience", a: with(func(a *assertion) {
			a.claims["aud"] = sim.URL() + "/" + simulator.FabrikamTenantID + "/oauth2/v2.0/token"
		}), status: 401, code: "invalid_client", aadsts: 700023},
		{name: "iss is not the client", a: with(func(a *assertion) { a.claims["iss"] = "someone-else" }),
			status: 401, code: "invalid_client", aadsts: 700021},
		{name: "sub is not the client", a: with(func(a *assertion) { a.claims["sub"] = "someone-else" }),
			status: 401, code: "invalid_client", aadsts: 700021},
		{name: "no client_assertion_type", a: good(), form: map[string]string{"client_assertion_type": ""},
			status: 400, code: "invalid_request", aadsts: 900144},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{
				"grant_type":            {"client_credentials"},
				"client_id":             {simulator.DefaultClientID},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion":      {sign(t, tt.a)},
				"scope":                 {defenderScope},
			}
			for k, v := range tt.form {
				if v == "" {
					form.Del(k)
				} else {
					form.Set(k, v)
				}
			}
			path := tt.path
			if path == "" {
				path = v2
			}
			resp, body := postForm(t, c, sim, strings.TrimPrefix(path, sim.URL()), form)
			if tt.status == 200 {
				if resp.StatusCode != 200 {
					t.Fatalf("status %d, want 200: %s", resp.StatusCode, body)
				}
				if claims := accessTokenClaims(t, sim, body); claims.AppIDACR != "2" {
					t.Errorf("appidacr = %q, want 2", claims.AppIDACR)
				}
				return
			}
			e := checkEntraError(t, resp, body, tt.status, tt.code, tt.aadsts, now)
			if !strings.Contains(e.Description, tt.inDesc) {
				t.Errorf("error_description = %q, want it to contain %q", e.Description, tt.inDesc)
			}
		})
	}
}

// accessTokenClaims verifies the access_token of a token response body.
func accessTokenClaims(t *testing.T, sim *simulator.Server, body []byte) *simulator.Claims {
	t.Helper()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	claims, err := sim.ParseToken(tr.AccessToken)
	if err != nil {
		t.Fatalf("ParseToken: %v", err)
	}
	return claims
}

const (
	k8sIssuer  = "https://oidc.prod-aks.example/11111111-1111-4111-8111-111111111111/cluster/"
	k8sSubject = "system:serviceaccount:xdrproxy:xdrproxy"
)

func TestFederatedCredentialMSAL(t *testing.T) {
	issuer, err := simulator.NewFederatedIssuer(k8sIssuer)
	if err != nil {
		t.Fatal(err)
	}
	sim := &simulator.Server{FederatedCredentials: []simulator.FederatedCredential{issuer.Credential(k8sSubject)}}
	c := startSim(t, sim)
	ctx := context.Background()

	tests := []struct {
		name     string
		subject  string
		audience string
		lifetime time.Duration
		wantErr  string
	}{
		{"projected service-account token", k8sSubject, "", time.Hour, ""},
		{"explicit default audience", k8sSubject, "api://AzureADTokenExchange", time.Hour, ""},
		{"another service account", "system:serviceaccount:default:default", "", time.Hour, "AADSTS70021"},
		{"wrong audience", k8sSubject, "api://not-entra", time.Hour, "AADSTS700212"},
		{"expired token file", k8sSubject, "", -time.Minute, "AADSTS700024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			cred := confidential.NewCredFromAssertionCallback(func(context.Context, confidential.AssertionRequestOptions) (string, error) {
				calls.Add(1)
				return issuer.Sign(tt.subject, tt.audience, tt.lifetime)
			})
			app := newMSALWith(t, sim, c, cred)
			res, err := app.AcquireTokenByCredential(ctx, []string{"https://graph.microsoft.com/.default"}, confidential.WithTenantID(simulator.FabrikamTenantID))
			if calls.Load() == 0 {
				t.Error("MSAL never asked the callback for an assertion")
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("AcquireTokenByCredential: %v", err)
			}
			claims, err := sim.ParseToken(res.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if claims.AppIDACR != "2" {
				t.Errorf("appidacr = %q, want 2 (federated assertion)", claims.AppIDACR)
			}
			if claims.TenantID != simulator.FabrikamTenantID {
				t.Errorf("tid = %q", claims.TenantID)
			}
			if !slices.Equal(claims.Roles, simulator.DefaultGraphRoles) {
				t.Errorf("roles of a Graph token = %q, want %q", claims.Roles, simulator.DefaultGraphRoles)
			}
		})
	}
}

func TestFederatedAssertionRefusals(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	clock := func() time.Time { return now }
	issuer, err := simulator.NewFederatedIssuer(k8sIssuer)
	if err != nil {
		t.Fatal(err)
	}
	issuer.Now = clock
	// An impostor claims the same issuer URL but holds another key.
	impostor, err := simulator.NewFederatedIssuer(k8sIssuer)
	if err != nil {
		t.Fatal(err)
	}
	impostor.Now = clock
	github, err := simulator.NewFederatedIssuer("https://token.actions.githubusercontent.com")
	if err != nil {
		t.Fatal(err)
	}
	github.Now = clock
	aks := issuer.Credential("system:serviceaccount:xdrproxy:bound")
	aks.Audience = "api://AKSIdentityBinding"
	sim := &simulator.Server{
		Now:                  clock,
		FederatedCredentials: []simulator.FederatedCredential{issuer.Credential(k8sSubject), aks},
	}
	c := startSim(t, sim)

	tests := []struct {
		name              string
		issuer            *simulator.FederatedIssuer
		subject, audience string
		lifetime          time.Duration
		status            int
		code              string
		aadsts            int
		inDesc            []string
	}{
		{"matching credential", issuer, k8sSubject, "", time.Hour, 200, "", 0, nil},
		{"credential with its own audience", issuer, "system:serviceaccount:xdrproxy:bound", "api://AKSIdentityBinding", time.Hour, 200, "", 0, nil},
		{"unknown subject", issuer, "system:serviceaccount:other:sa", "", time.Hour, 400, "invalid_request", 70021,
			[]string{"Assertion Issuer: '" + k8sIssuer + "'", "Assertion Subject: 'system:serviceaccount:other:sa'", "Assertion Audience: 'api://AzureADTokenExchange'"}},
		{"unknown issuer", github, k8sSubject, "", time.Hour, 400, "invalid_request", 70021,
			[]string{"Assertion Issuer: 'https://token.actions.githubusercontent.com'"}},
		{"default audience where the credential wants another", issuer, "system:serviceaccount:xdrproxy:bound", "", time.Hour, 400, "invalid_request", 700212,
			[]string{"assertion audience 'api://AzureADTokenExchange'"}},
		{"wrong audience", issuer, k8sSubject, "api://something-else", time.Hour, 400, "invalid_request", 700212, nil},
		{"signed by another key", impostor, k8sSubject, "", time.Hour, 401, "invalid_client", 700027, nil},
		{"expired", issuer, k8sSubject, "", 0, 401, "invalid_client", 700024,
			[]string{"expiry time of assertion " + now.UTC().Format("2006-01-02T15:04:05")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertion, err := tt.issuer.Sign(tt.subject, tt.audience, tt.lifetime)
			if err != nil {
				t.Fatal(err)
			}
			resp, body := postForm(t, c, sim, "/"+simulator.ContosoTenantID+"/oauth2/v2.0/token", url.Values{
				"grant_type":            {"client_credentials"},
				"client_id":             {simulator.DefaultClientID},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion":      {assertion},
				"scope":                 {defenderScope},
			})
			if tt.status == 200 {
				if resp.StatusCode != 200 {
					t.Fatalf("status %d, want 200: %s", resp.StatusCode, body)
				}
				if claims := accessTokenClaims(t, sim, body); claims.AppIDACR != "2" {
					t.Errorf("appidacr = %q, want 2", claims.AppIDACR)
				}
				return
			}
			e := checkEntraError(t, resp, body, tt.status, tt.code, tt.aadsts, now)
			for _, want := range tt.inDesc {
				if !strings.Contains(e.Description, want) {
					t.Errorf("error_description = %q, want it to contain %q", e.Description, want)
				}
			}
		})
	}

	t.Run("no federated credentials", func(t *testing.T) {
		bare := &simulator.Server{Now: clock}
		bc := startSim(t, bare)
		assertion, err := issuer.Sign(k8sSubject, "", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := postForm(t, bc, bare, "/"+simulator.ContosoTenantID+"/oauth2/v2.0/token", url.Values{
			"grant_type":            {"client_credentials"},
			"client_id":             {simulator.DefaultClientID},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {assertion},
			"scope":                 {defenderScope},
		})
		checkEntraError(t, resp, body, 400, "invalid_request", 70021, now)
	})
}

func TestSecretTokenAppIDACR(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	claims, err := sim.ParseToken(token(t, c, sim, simulator.ContosoTenantID, defenderScope))
	if err != nil {
		t.Fatal(err)
	}
	if claims.AppIDACR != "1" {
		t.Errorf("appidacr = %q, want 1 (client secret)", claims.AppIDACR)
	}
}

func TestNewClientCertificate(t *testing.T) {
	cc := newClientCert(t, "xdrproxy-test")
	block, rest := pem.Decode(cc.certPEM)
	if block == nil || block.Type != "CERTIFICATE" || len(strings.TrimSpace(string(rest))) != 0 {
		t.Fatalf("certificate PEM is not one CERTIFICATE block: %q", cc.certPEM)
	}
	parsed, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !parsed.Equal(cc.cert) {
		t.Error("returned certificate differs from the PEM")
	}
	if parsed.Subject.CommonName != "xdrproxy-test" {
		t.Errorf("CN = %q", parsed.Subject.CommonName)
	}
	if err := parsed.CheckSignature(parsed.SignatureAlgorithm, parsed.RawTBSCertificate, parsed.Signature); err != nil || parsed.Issuer.String() != parsed.Subject.String() {
		t.Errorf("not self-signed (issuer %q): %v", parsed.Issuer, err)
	}
	pub, ok := parsed.PublicKey.(*rsa.PublicKey)
	if !ok || pub.N.BitLen() != 2048 {
		t.Fatalf("public key %T, want RSA-2048", parsed.PublicKey)
	}
	if pub.N.Cmp(cc.key.N) != 0 {
		t.Error("private key does not match the certificate")
	}
	if now := time.Now(); now.Before(parsed.NotBefore) || now.After(parsed.NotAfter) {
		t.Errorf("certificate not valid now: %v to %v", parsed.NotBefore, parsed.NotAfter)
	}
	if _, _, _, err := simulator.NewClientCertificate(""); err == nil {
		t.Error("NewClientCertificate(\"\") succeeded")
	}
}

func TestFederatedIssuerSign(t *testing.T) {
	if _, err := simulator.NewFederatedIssuer("http://insecure.example"); err == nil {
		t.Error("NewFederatedIssuer accepted an http URL")
	}
	issuer, err := simulator.NewFederatedIssuer(k8sIssuer)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 10, 2, 10, 0, 0, 0, time.UTC)
	issuer.Now = func() time.Time { return at }
	cred := issuer.Credential(k8sSubject)
	if cred.Issuer != k8sIssuer || cred.Subject != k8sSubject || cred.Audience != "" || cred.Key == nil {
		t.Errorf("Credential = %+v", cred)
	}

	tests := []struct {
		name, audience, wantAud string
		lifetime                time.Duration
		wantIat, wantExp        time.Time
	}{
		{"default audience", "", "api://AzureADTokenExchange", time.Hour, at, at.Add(time.Hour)},
		{"own audience", "api://custom", "api://custom", 10 * time.Minute, at, at.Add(10 * time.Minute)},
		{"already expired", "", "api://AzureADTokenExchange", -time.Minute, at.Add(-61 * time.Minute), at.Add(-time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signed, err := issuer.Sign(k8sSubject, tt.audience, tt.lifetime)
			if err != nil {
				t.Fatal(err)
			}
			claims := &jwt.RegisteredClaims{}
			tok, err := jwt.ParseWithClaims(signed, claims, func(*jwt.Token) (any, error) { return cred.Key, nil },
				jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
			if err != nil {
				t.Fatalf("token does not verify with the credential's key: %v", err)
			}
			if tok.Header["kid"] == nil {
				t.Error("no kid header")
			}
			if claims.Issuer != k8sIssuer || claims.Subject != k8sSubject {
				t.Errorf("iss/sub = %q/%q", claims.Issuer, claims.Subject)
			}
			if !slices.Equal(claims.Audience, jwt.ClaimStrings{tt.wantAud}) {
				t.Errorf("aud = %q, want %q", claims.Audience, tt.wantAud)
			}
			if claims.IssuedAt == nil || !claims.IssuedAt.Equal(tt.wantIat) || claims.NotBefore == nil || !claims.NotBefore.Equal(tt.wantIat) {
				t.Errorf("iat/nbf = %v/%v, want %v", claims.IssuedAt, claims.NotBefore, tt.wantIat)
			}
			if claims.ExpiresAt == nil || !claims.ExpiresAt.Equal(tt.wantExp) {
				t.Errorf("exp = %v, want %v", claims.ExpiresAt, tt.wantExp)
			}
			if claims.ID == "" {
				t.Error("no jti")
			}
		})
	}
}
