package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orgd/orgd/internal/oidctest"
)

// TestServeTrustsTheIssuer runs serve with an OpenID Connect issuer whose
// first answer is a 503: serve retries, then takes the issuer's JWTs.
func TestServeTrustsTheIssuer(t *testing.T) {
	iss := oidctest.Start(t, time.Now)
	iss.FailDiscovery(1)
	e := newTestEnv(t, "")
	e.vars["ORGD_OIDC_ISSUER"] = iss.URL
	e.vars["ORGD_OIDC_AUDIENCE"] = oidctest.Audience
	s := e.serve()

	req, err := http.NewRequest(http.MethodGet, s.URL+"/api/v1/user", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+iss.Token("ann-sub", "ann@example.com", true))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"email_address":"ann@example.com"`) {
		t.Errorf("GET /api/v1/user with a JWT: %d %s", resp.StatusCode, body)
	}
	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited with %d", code)
	}
	if log := s.stderr.String(); !strings.Contains(log, "503") || !strings.Contains(log, "OpenID Connect issuer ready") {
		t.Errorf("the log should tell of the failed attempt and the ready issuer:\n%s", log)
	}
}

func TestServeRefusesAnIssuerWithoutAudience(t *testing.T) {
	e := newTestEnv(t, "")
	e.vars["ORGD_OIDC_ISSUER"] = "https://idp.example.com"
	r := e.run("serve")
	if r.code != exitUsage || !strings.Contains(r.stderr, "ORGD_OIDC_AUDIENCE: required when ORGD_OIDC_ISSUER is set") {
		t.Errorf("serve with an issuer and no audience: exit %d\n%s", r.code, r.stderr)
	}
}
