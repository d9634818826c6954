package server_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/server"
)

// TestFailedLookupsAreLimitedPerAddress guesses keys on both surfaces and
// tokens on the Elastic one, from two addresses behind a trusted proxy.
func TestFailedLookupsAreLimitedPerAddress(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		srv := apitest.StartWith(t, url, apitest.Setup{FailureBurst: 3,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		good := srv.User("ann@x.test", false)
		from := func(addr, auth string) map[string]string {
			return map[string]string{"X-Forwarded-For": "198.51.100.1, " + addr, "Authorization": auth}
		}
		const mallory, alice = "203.0.113.66", "203.0.113.7"

		srv.Request("GET", "/api/v1/user", from(mallory, "Bearer orgd_guess1"), nil).Want(t, 401)
		srv.Request("GET", "/api/v1/organizations", from(mallory, "ApiKey orgd_guess2"), nil).Want(t, 401)
		srv.Request("GET", "/api/v1/user", from(mallory, "Bearer orgd_guess3"), nil).Want(t, 401)
		// The address is out of failures: even a good key waits.
		for _, path := range []string{"/api/v1/user", "/api/v1/organizations"} {
			auth := "Bearer " + good.Key
			if !strings.HasPrefix(path, "/api/v1/user") {
				auth = "ApiKey " + good.Key
			}
			r := srv.Request("GET", path, from(mallory, auth), nil).Want(t, 429)
			if r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), "root.too_many_failed_attempts") {
				t.Errorf("%s: 429 without Retry-After or code: %s", path, r.Body)
			}
		}
		// Another client behind the same proxy is not affected.
		srv.Request("GET", "/api/v1/user", from(alice, "Bearer "+good.Key), nil).Want(t, 200)
		// Health needs no look-up.
		srv.Request("GET", "/api/v1/health", from(mallory, ""), nil).Want(t, 200)
		// The bucket refills with time.
		srv.Clock.Advance(2 * time.Second)
		srv.Request("GET", "/api/v1/user", from(mallory, "Bearer "+good.Key), nil).Want(t, 200)

		// Guessing invitation tokens with a good key uses the same budget.
		srv.Clock.Advance(time.Minute)
		for i := range 3 {
			srv.Request("GET", "/api/v1/organizations/invitations/guess"+string(rune('a'+i)), from(alice, "ApiKey "+good.Key), nil).Want(t, 404)
		}
		srv.Request("GET", "/api/v1/organizations/invitations/guessd", from(alice, "ApiKey "+good.Key), nil).Want(t, 429)
	})
}

// TestUntrustedForwardedForIsIgnored: a client cannot pick its address by
// sending X-Forwarded-For to a server that trusts no proxy.
func TestUntrustedForwardedForIsIgnored(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		srv := apitest.StartWith(t, url, apitest.Setup{FailureBurst: 2})
		for i := range 2 {
			srv.Request("GET", "/api/v1/user", map[string]string{"X-Forwarded-For": "203.0.113." + string(rune('1'+i)), "Authorization": "Bearer orgd_x"}, nil).Want(t, 401)
		}
		srv.Request("GET", "/api/v1/user", map[string]string{"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer orgd_x"}, nil).Want(t, 429)
	})
}

// TestGuessingPageTokensIsLimited: unknown tokens on the invitation page use
// the address's failures too.
func TestGuessingPageTokensIsLimited(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		srv := apitest.StartWith(t, url, apitest.Setup{FailureBurst: 2})
		get := func(path string) *http.Response {
			resp, err := srv.HTTP.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		for _, tok := range []string{"guess-a", "guess-b"} {
			if r := get("/invitations/" + tok); r.StatusCode != 404 {
				t.Fatalf("unknown token: %d", r.StatusCode)
			}
		}
		r := get("/invitations/guess-c")
		if r.StatusCode != 429 || r.Header.Get("Retry-After") == "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("third guess: %d %v", r.StatusCode, r.Header)
		}
	})
}

// TestElasticAccessLogHidesTokens: the Elastic paths that carry invitation
// tokens are logged with their template.
func TestElasticAccessLogHidesTokens(t *testing.T) {
	srv := apitest.Start(t, testdb.URL(t, "sqlite"))
	org := srv.Org("Acme", "acme")
	owner := srv.Member(org, "owner@acme.test", orgd.RoleOwner)
	_, issued, err := srv.Svc.CreateInvitations(t.Context(), orgd.SystemPrincipal, org.ID, orgd.InviteRequest{Emails: []string{"a@x.test"}})
	if err != nil {
		t.Fatal(err)
	}
	token := issued[0].Token
	var logs bytes.Buffer
	h := server.New(srv.Svc, slog.New(slog.NewTextHandler(&logs, nil)), server.Options{Now: srv.Clock.Now})
	for _, rq := range []struct{ method, path string }{
		{"GET", "/api/v1/organizations/invitations/" + token},
		{"POST", "/api/v1/organizations/invitations/" + token + "/_accept"},
		{"DELETE", "/api/v1/organizations/" + org.ID + "/invitations/" + token},
		// No route matches these: a wrong method, a trailing slash.
		{"PUT", "/api/v1/organizations/invitations/" + token},
		{"GET", "/api/v1/organizations/invitations/" + token + "/_accept"},
		{"POST", "/api/v1/organizations/invitations/" + token + "/_accept/"},
		{"GET", "/api/v1/organizations/invitations/" + token + "/"},
		{"PUT", "/api/v1/organizations/" + org.ID + "/invitations/" + token},
		// Paths that are not canonical: the token comes a segment later.
		{"GET", "/api/v1/organizations/invitations//" + token},
		{"DELETE", "/api/v1/organizations/" + org.ID + "/invitations//" + token},
		{"GET", "/api/v1/organizations/invitations/./" + token},
	} {
		req := httptest.NewRequest(rq.method, rq.path, nil)
		req.Header.Set("Authorization", "ApiKey "+owner.Key)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("the access log holds a token:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "path=/api/v1/organizations/invitations/{invitation_token} ") {
		t.Errorf("no templated path in:\n%s", logs.String())
	}
}
