package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orgd/orgd/internal/oidctest"
	"github.com/orgd/orgd/web"
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

// TestServeSignsInOnThePage runs serve with signing in required on the
// invitation page: Accept sends the browser to the configured issuer as the
// configured client, and the callback accepts as the signed-in user.
func TestServeSignsInOnThePage(t *testing.T) {
	iss := oidctest.Start(t, time.Now)
	e := newTestEnv(t, "")
	e.vars["ORGD_OIDC_ISSUER"] = iss.URL
	e.vars["ORGD_OIDC_AUDIENCE"] = oidctest.Audience
	e.vars["ORGD_OIDC_CLIENT_ID"] = "orgd-web"
	e.vars["ORGD_OIDC_CLIENT_SECRET"] = "hunter2"
	e.vars["ORGD_PAGE_REQUIRE_SIGNIN"] = "true"
	s := e.serve()
	iss.RegisterClient(oidctest.Client{ID: "orgd-web", Secret: "hunter2", RedirectURI: s.URL + web.CallbackPath})
	iss.SignInAs(oidctest.User{Subject: "bea-sub", Email: "bea@example.com", EmailVerified: true})
	_, key := e.bootstrap()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(req *http.Request) (*http.Response, string) {
		t.Helper()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}

	req, _ := http.NewRequest("POST", s.URL+"/api/v1/org/acme/invitations", strings.NewReader(`{"email":"bea@example.com","send_email":false}`))
	req.Header.Set("Authorization", "Bearer "+key.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, body := send(req)
	var inv struct {
		AcceptURL string `json:"accept_url"`
	}
	if err := json.Unmarshal([]byte(body), &inv); resp.StatusCode != 200 || err != nil {
		t.Fatalf("invite: %d %s", resp.StatusCode, body)
	}
	req, _ = http.NewRequest("GET", inv.AcceptURL, nil)
	_, page := send(req)
	m := regexp.MustCompile(`name="form_token" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form on the invitation page:\n%s", page)
	}
	req, _ = http.NewRequest("POST", inv.AcceptURL+"/accept", strings.NewReader(url.Values{"form_token": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ = send(req)
	authURL := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(authURL, iss.URL+"/authorize?") || len(resp.Cookies()) != 1 {
		t.Fatalf("accept: %d to %q with cookies %v, want 303 to the issuer with a cookie", resp.StatusCode, authURL, resp.Cookies())
	}
	req, _ = http.NewRequest("GET", iss.Approve(t, authURL), nil)
	req.AddCookie(resp.Cookies()[0])
	resp, page = send(req)
	if resp.StatusCode != 200 || !strings.Contains(page, "bea@example.com is now a member") {
		t.Errorf("the callback: %d\n%s", resp.StatusCode, page)
	}
	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited with %d", code)
	}
	if log := s.stderr.String(); strings.Contains(log, "hunter2") {
		t.Errorf("the log shows the client secret:\n%s", log)
	}
}

func TestServeRefusesSignInWithoutClient(t *testing.T) {
	e := newTestEnv(t, "")
	e.vars["ORGD_OIDC_ISSUER"] = "https://idp.example.com"
	e.vars["ORGD_OIDC_AUDIENCE"] = "orgd"
	e.vars["ORGD_PAGE_REQUIRE_SIGNIN"] = "true"
	r := e.run("serve")
	if r.code != exitUsage || !strings.Contains(r.stderr, "ORGD_OIDC_CLIENT_ID: required when ORGD_PAGE_REQUIRE_SIGNIN is true") {
		t.Errorf("serve requiring sign-in without a client id: exit %d\n%s", r.code, r.stderr)
	}
}
