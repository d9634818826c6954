package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/orgd/orgd/auth"
	"github.com/orgd/orgd/internal/oidctest"
)

// TestClientRefusesWhatItCannotUse serves discovery documents that offer no
// sign-in orgd can run (the flows that work are tested through the page in
// package web), and one whose authorization endpoint has a query of its own.
func TestClientRefusesWhatItCannotUse(t *testing.T) {
	iss := oidctest.Start(t, time.Now)
	good := func(base string) map[string]any {
		return map[string]any{"issuer": base, "jwks_uri": iss.URL + "/jwks", "authorization_endpoint": base + "/authorize?tenant=acme",
			"token_endpoint": base + "/token", "code_challenge_methods_supported": []string{"S256", "plain"}}
	}
	tests := []struct {
		name      string
		edit      func(doc map[string]any)
		authURL   error // of AuthCodeURL
		exchange  error // of Exchange; ErrTokenEndpoint when it sends (this server answers with no tokens)
		noSecret  bool
		wantQuery url.Values
	}{
		{name: "good", edit: func(map[string]any) {}, exchange: auth.ErrTokenEndpoint,
			wantQuery: url.Values{"tenant": {"acme"}, "client_id": {"orgd-web"}, "code_challenge_method": {"S256"}}},
		{name: "no authorization endpoint", edit: func(d map[string]any) { delete(d, "authorization_endpoint") },
			authURL: auth.ErrSignInUnsupported, exchange: auth.ErrSignInUnsupported},
		{name: "token endpoint over http", edit: func(d map[string]any) { d["token_endpoint"] = "http://idp.example.com/token" },
			authURL: auth.ErrSignInUnsupported, exchange: auth.ErrSignInUnsupported},
		{name: "no S256", edit: func(d map[string]any) { d["code_challenge_methods_supported"] = []string{"plain"} },
			authURL: auth.ErrSignInUnsupported, exchange: auth.ErrSignInUnsupported},
		{name: "no client authentication orgd has", edit: func(d map[string]any) {
			d["token_endpoint_auth_methods_supported"] = []string{"private_key_jwt"}
		}, exchange: auth.ErrSignInUnsupported},
		{name: "a public client needs none", noSecret: true, edit: func(d map[string]any) {
			d["token_endpoint_auth_methods_supported"] = []string{"private_key_jwt"}
		}, exchange: auth.ErrTokenEndpoint},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				doc := good(srv.URL)
				tc.edit(doc)
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(doc)
			}))
			t.Cleanup(srv.Close)
			p := oidctest.NewProvider(t, srv.URL, time.Now)
			secret := "hunter2"
			if tc.noSecret {
				secret = ""
			}
			c := p.NewClient("orgd-web", secret)
			if _, err := c.AuthCodeURL(srv.URL+"/callback", auth.NewAuthRequest(), ""); !errors.Is(err, auth.ErrNotReady) {
				t.Errorf("before the issuer is reached: %v, want %v", err, auth.ErrNotReady)
			}
			oidctest.Run(t, p)
			where, err := c.AuthCodeURL(srv.URL+"/callback", auth.NewAuthRequest(), "")
			if !errors.Is(err, tc.authURL) {
				t.Errorf("AuthCodeURL: %v, want %v", err, tc.authURL)
			}
			if tc.wantQuery != nil {
				u, _ := url.Parse(where)
				for k := range tc.wantQuery {
					if u.Query().Get(k) != tc.wantQuery.Get(k) {
						t.Errorf("%s: %s=%q, want %q", where, k, u.Query().Get(k), tc.wantQuery.Get(k))
					}
				}
			}
			if _, err := c.Exchange(context.Background(), srv.URL+"/callback", "code", auth.NewAuthRequest()); !errors.Is(err, tc.exchange) {
				t.Errorf("Exchange: %v, want %v", err, tc.exchange)
			}
		})
	}
}
