package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/auth"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/oidctest"
)

func TestVerifyToken(t *testing.T) {
	clock := apitest.NewClock()
	iss := oidctest.Start(t, clock.Now)
	p := iss.Trust(t)
	ctx := t.Context()

	got, err := p.VerifyToken(ctx, iss.Token("alice-sub", "Alice@Example.com", true))
	if err != nil {
		t.Fatal(err)
	}
	want := &orgd.Identity{Issuer: iss.URL, Subject: "alice-sub", Email: "Alice@Example.com", EmailVerified: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}

	// email_verified counts only as the JSON literal true.
	for _, v := range []any{false, "true", 1, nil} {
		c := iss.Claims("bob-sub", "bob@example.com", true)
		c["email_verified"] = v
		if v == nil {
			delete(c, "email_verified")
		}
		id, err := p.VerifyToken(ctx, iss.Sign(c))
		if err != nil {
			t.Fatalf("email_verified %#v: %v", v, err)
		}
		if id.EmailVerified {
			t.Errorf("email_verified %#v counted as verified", v)
		}
	}

	// Tokens of several audiences, one of them orgd's; ID tokens for a client.
	c := iss.Claims("carol-sub", "carol@example.com", true)
	c["aud"] = []string{"another-api", oidctest.Audience}
	if _, err := p.VerifyToken(ctx, iss.Sign(c)); err != nil {
		t.Errorf("a token for several audiences including orgd's: %v", err)
	}
	c = iss.Claims("carol-sub", "carol@example.com", true)
	c["aud"], c["nonce"] = "orgd-web", "n-0S6_WzA2Mj"
	claims, err := p.Verify(ctx, iss.Sign(c), "orgd-web")
	if err != nil || claims.Nonce != "n-0S6_WzA2Mj" || claims.Subject != "carol-sub" {
		t.Errorf("an ID token for the client: %+v, %v", claims, err)
	}
	if _, err := p.VerifyToken(ctx, iss.Sign(c)); !errors.Is(err, auth.ErrAudience) {
		t.Errorf("an ID token as an API token: %v, want %v", err, auth.ErrAudience)
	}
}

// tokenCase is a token and how orgd must answer it.
type tokenCase struct {
	name  string
	token string
	want  error // nil: accepted
}

// refusedTokens makes a token for every reason to refuse one: made by the
// trusted issuer iss, by a second real issuer other, or forged the way an
// attacker would.
func refusedTokens(t *testing.T, iss, other *oidctest.Issuer, now time.Time) []tokenCase {
	claims := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := iss.Claims("sub-1", "ann@example.com", true)
		change(c)
		return c
	}
	signed := func(change func(jwt.MapClaims)) string { return iss.Sign(claims(change)) }
	strange, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key := iss.Signer()
	plain := claims(func(jwt.MapClaims) {})
	parts := strings.Split(iss.Sign(plain), ".")
	// The valid token's signature under claims that name another subject.
	tampered := strings.Join([]string{parts[0], strings.Split(signed(func(c jwt.MapClaims) { c["sub"] = "sub-2" }), ".")[1], parts[2]}, ".")
	return []tokenCase{
		{"expired", signed(func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() }), auth.ErrExpired},
		{"not yet valid", signed(func(c jwt.MapClaims) { c["nbf"] = now.Add(2 * time.Minute).Unix() }), auth.ErrNotYetValid},
		{"issued in the future", signed(func(c jwt.MapClaims) { c["iat"] = now.Add(2 * time.Minute).Unix() }), auth.ErrNotYetValid},
		{"no expiry", signed(func(c jwt.MapClaims) { delete(c, "exp") }), auth.ErrMissingClaim},
		{"wrong issuer, signed with the trusted key", signed(func(c jwt.MapClaims) { c["iss"] = other.URL }), auth.ErrIssuer},
		{"issuer with a trailing slash", signed(func(c jwt.MapClaims) { c["iss"] = iss.URL + "/" }), auth.ErrIssuer},
		{"a second real issuer", other.Token("sub-1", "ann@example.com", true), auth.ErrUnknownKey},
		{"wrong audience", signed(func(c jwt.MapClaims) { c["aud"] = "another-api" }), auth.ErrAudience},
		{"no audience", signed(func(c jwt.MapClaims) { delete(c, "aud") }), auth.ErrMissingClaim},
		{"no subject", signed(func(c jwt.MapClaims) { delete(c, "sub") }), auth.ErrMissingClaim},
		{"empty subject", signed(func(c jwt.MapClaims) { c["sub"] = "" }), auth.ErrMissingClaim},
		{"subject too long", signed(func(c jwt.MapClaims) { c["sub"] = strings.Repeat("s", 256) }), auth.ErrMissingClaim},
		{"alg none", oidctest.Forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, key.ID, plain), auth.ErrAlgorithm},
		{"HMAC with the public key as secret", oidctest.Forge(t, jwt.SigningMethodHS256, key.PublicKeyPEM(t), key.ID, plain), auth.ErrAlgorithm},
		{"signed by another key under the trusted kid", oidctest.Forge(t, jwt.SigningMethodRS256, strange, key.ID, plain), auth.ErrSignature},
		{"signed by another key without a kid", oidctest.Forge(t, jwt.SigningMethodRS256, strange, "", plain), auth.ErrSignature},
		{"claims changed after signing", tampered, auth.ErrSignature},
		{"signature removed", parts[0] + "." + parts[1] + ".", auth.ErrSignature},
		{"not a JWT", "not.a.jwt", auth.ErrMalformed},
	}
}

// TestVerifyRefuses checks every reason to refuse a token, and the clock
// skew allowed.
func TestVerifyRefuses(t *testing.T) {
	clock := apitest.NewClock()
	iss := oidctest.Start(t, clock.Now)
	p := iss.Trust(t)
	now := clock.Now()
	skewed := func(claim string, d time.Duration) string {
		c := iss.Claims("sub-1", "ann@example.com", true)
		c[claim] = now.Add(d).Unix()
		return iss.Sign(c)
	}
	tests := append([]tokenCase{
		{"valid", iss.Token("sub-1", "ann@example.com", true), nil},
		{"expired within the clock skew", skewed("exp", -30*time.Second), nil},
		{"not yet valid within the clock skew", skewed("nbf", 30*time.Second), nil},
	}, refusedTokens(t, iss, oidctest.Start(t, clock.Now), now)...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := p.VerifyToken(t.Context(), tc.token)
			switch {
			case tc.want == nil && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("got %v, %v; want %v", id, err, tc.want)
			case err != nil && strings.Contains(err.Error(), tc.token):
				t.Errorf("the error %q contains the token", err)
			}
		})
	}
}

// TestKeyRotation rotates the issuer's keys: a token with a new key id is
// accepted after one fetch of the JWKS, old tokens keep working until their
// key leaves the JWKS, and the JWKS is never fetched per request.
func TestKeyRotation(t *testing.T) {
	clock := apitest.NewClock()
	iss := oidctest.Start(t, clock.Now)
	p := iss.Trust(t)
	ctx := t.Context()
	verify := func(what, token string, want error) {
		t.Helper()
		if _, err := p.VerifyToken(ctx, token); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", what, err, want)
		}
	}
	hits := func(want int) {
		t.Helper()
		if got := iss.JWKSHits(); got != want {
			t.Errorf("the JWKS was fetched %d times, want %d", got, want)
		}
	}
	first := iss.Token("sub-1", "ann@example.com", true)
	for range 20 {
		verify("a token of the first key", first, nil)
	}
	hits(1)

	// A new key, signing from now on; the old one stays published.
	firstKey := iss.Signer()
	iss.Rotate(jwt.SigningMethodES256)
	second := iss.Token("sub-1", "ann@example.com", true)
	verify("a token of the new key", second, nil)
	hits(2)
	for range 20 {
		verify("a token of the new key", second, nil)
		verify("a token of the old key", first, nil)
	}
	hits(2)

	// Unknown key ids cause no more fetches until UnknownKeyRefresh has passed.
	other := oidctest.Start(t, clock.Now)
	for range 20 {
		verify("a token of another issuer", other.Token("sub-1", "ann@example.com", true), auth.ErrUnknownKey)
	}
	hits(2)

	// The old key leaves the JWKS; a third key's token makes orgd fetch it
	// again, and then the old key's tokens are refused.
	iss.Retire(firstKey)
	iss.Rotate(jwt.SigningMethodRS256)
	third := iss.Token("sub-1", "ann@example.com", true)
	verify("a token of the old key before the next fetch", first, nil)
	verify("a token of a third key before UnknownKeyRefresh has passed", third, auth.ErrUnknownKey)
	hits(2)
	clock.Advance(auth.DefaultUnknownKeyRefresh)
	verify("a token of a third key", third, nil)
	hits(3)
	verify("a token of the retired key", first, auth.ErrUnknownKey)
	verify("a token of the second key", second, nil)
	hits(3)
}

// TestUnknownKeyFetchesOnce sends many tokens of a new key at once: one
// fetch of the JWKS serves them all.
func TestUnknownKeyFetchesOnce(t *testing.T) {
	clock := apitest.NewClock()
	iss := oidctest.Start(t, clock.Now)
	p := iss.Trust(t)
	iss.Rotate(jwt.SigningMethodES256)
	token := iss.Token("sub-1", "ann@example.com", true)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			_, err := p.VerifyToken(t.Context(), token)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a token of the new key: %v", err)
		}
	}
	if got := iss.JWKSHits(); got != 2 {
		t.Errorf("the JWKS was fetched %d times, want 2 (at start and once for the new key)", got)
	}
}

// TestStartRetries starts orgd's provider while the issuer answers 503:
// tokens are refused as not ready, then the provider retries until the
// issuer answers and is ready.
func TestStartRetries(t *testing.T) {
	clock := apitest.NewClock()
	iss := oidctest.Start(t, clock.Now)
	iss.FailDiscovery(3)
	p := oidctest.NewProvider(t, iss.URL, clock.Now)
	if _, err := p.VerifyToken(t.Context(), iss.Token("sub-1", "ann@example.com", true)); !errors.Is(err, auth.ErrNotReady) {
		t.Errorf("a token before the provider is ready: %v, want %v", err, auth.ErrNotReady)
	}
	if p.Metadata() != nil {
		t.Error("Metadata before the provider is ready is not nil")
	}
	oidctest.Run(t, p)
	if got := iss.DiscoveryHits(); got != 4 {
		t.Errorf("the discovery document was fetched %d times, want 4 (3 answered 503)", got)
	}
	if _, err := p.VerifyToken(t.Context(), iss.Token("sub-1", "ann@example.com", true)); err != nil {
		t.Errorf("a token once ready: %v", err)
	}
	if m := p.Metadata(); m == nil || m.Issuer != iss.URL || m.JWKSURI != iss.URL+"/jwks" {
		t.Errorf("Metadata = %+v", m)
	}
}

// TestDiscoveryErrors serves bad discovery documents and checks that each
// error says what is wrong.
func TestDiscoveryErrors(t *testing.T) {
	serve := func(status int, body func(url string) string) string {
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/.well-known/openid-configuration" {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(status)
			fmt.Fprint(w, body(srv.URL))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	doc := func(issuer, jwks string) string {
		return fmt.Sprintf(`{"issuer":%q,"jwks_uri":%q}`, issuer, jwks)
	}
	stuck := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stuck:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(stuck); slow.Close() })

	tests := []struct {
		name, issuer, want string
	}{
		{"not found", serve(404, func(string) string { return "no" }), "status 404"},
		{"not JSON", serve(200, func(string) string { return "<html>" }), "not a JSON document"},
		{"another issuer", serve(200, func(u string) string { return doc("https://idp.example.com", u+"/jwks") }), `names the issuer "https://idp.example.com"`},
		{"no jwks_uri", serve(200, func(u string) string { return doc(u, "") }), "names no jwks_uri"},
		{"jwks_uri over http", serve(200, func(u string) string { return doc(u, "http://idp.example.com/jwks") }), "must use https://"},
		{"too large", serve(200, func(string) string { return `{"x":"` + strings.Repeat("x", 1<<20) + `"}` }), "larger than"},
		{"slow", slow.URL, "Client.Timeout exceeded"},
		{"nobody listening", "http://127.0.0.1:1", "connection refused"},
	}
	client := &http.Client{Timeout: 200 * time.Millisecond}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.Discover(context.Background(), client, tc.issuer)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "OpenID Connect discovery") {
				t.Errorf("got %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://idp.example.com":                  true,
		"https://idp.example.com/realms/acme":      true,
		"https://tenant.auth0.example/":            true,
		"http://localhost:8080/realms/acme":        true,
		"http://127.0.0.1:5556":                    true,
		"http://[::1]:5556":                        true,
		"http://idp.example.com":                   false,
		"idp.example.com":                          false,
		"/realms/acme":                             false,
		"ftp://idp.example.com":                    false,
		"https://user:pass@idp.example.com":        false,
		"https://idp.example.com/#fragment":        false,
		"https://idp.example.com/realms/acme%zz":   false,
		"http://localhost.idp.example.com/realms/": false,
	} {
		if err := auth.CheckURL(u); (err == nil) != ok {
			t.Errorf("CheckURL(%q) = %v, want ok=%v", u, err, ok)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	if _, err := auth.New(auth.Config{Issuer: "https://idp.example.com"}); err == nil {
		t.Error("New accepted an issuer without an audience")
	}
	if _, err := auth.New(auth.Config{Issuer: "http://idp.example.com", Audience: "orgd"}); err == nil {
		t.Error("New accepted an http:// issuer that is not on localhost")
	}
}
