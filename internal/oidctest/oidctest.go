// Package oidctest runs a real OpenID Connect issuer on a loopback port for
// tests: its own signing keys (RSA and ECDSA), a discovery document and a
// JWKS endpoint, key rotation, counters of the requests it serves, and the
// authorization-code flow with PKCE (signin.go) for registered clients and
// a user the test chooses. Its tokens are signed for real with golang-jwt;
// nothing skips verification.
package oidctest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/orgd/orgd/auth"
)

// Audience is the audience of the API tokens Token makes.
const Audience = "https://orgd.test/api"

// Key is a signing key of the issuer.
type Key struct {
	ID      string
	Method  jwt.SigningMethod
	private crypto.Signer
}

// Issuer is a running OpenID Connect issuer.
type Issuer struct {
	URL string
	t   testing.TB
	now func() time.Time

	mu        sync.Mutex
	published []*Key // in the JWKS
	signer    *Key
	failing   int // discovery requests still to answer with 503
	flows     flows

	discoveryHits, jwksHits atomic.Int64
}

// Start runs an issuer with one RS256 key until the test ends. Its tokens
// are issued at now().
func Start(t testing.TB, now func() time.Time) *Issuer {
	t.Helper()
	i := &Issuer{t: t, now: now, flows: newFlows()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", i.discovery)
	mux.HandleFunc("GET /jwks", i.jwks)
	mux.HandleFunc("GET /authorize", i.authorize)
	mux.HandleFunc("POST /authorize", i.decide)
	mux.HandleFunc("POST /token", i.token)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	i.URL = srv.URL
	i.Rotate(jwt.SigningMethodRS256)
	return i
}

func (i *Issuer) discovery(w http.ResponseWriter, r *http.Request) {
	i.discoveryHits.Add(1)
	i.mu.Lock()
	fail := i.failing > 0
	if fail {
		i.failing--
	}
	i.mu.Unlock()
	if fail {
		http.Error(w, "starting up", http.StatusServiceUnavailable)
		return
	}
	i.mu.Lock()
	authMethods := i.flows.authMethods
	i.mu.Unlock()
	writeJSON(w, map[string]any{
		"issuer":                                i.URL,
		"jwks_uri":                              i.URL + "/jwks",
		"authorization_endpoint":                i.URL + "/authorize",
		"token_endpoint":                        i.URL + "/token",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": authMethods,
	})
}

func (i *Issuer) jwks(w http.ResponseWriter, r *http.Request) {
	i.jwksHits.Add(1)
	i.mu.Lock()
	keys := slices.Clone(i.published)
	i.mu.Unlock()
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for _, k := range keys {
		jwk, err := jwkset.NewJWKFromKey(k.private.Public(), jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: k.ID, ALG: jwkset.ALG(k.Method.Alg()), USE: jwkset.UseSig}})
		if err != nil {
			i.t.Errorf("oidctest: JWK of %s: %v", k.ID, err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		set.Keys = append(set.Keys, jwk.Marshal())
	}
	writeJSON(w, set)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// Rotate makes a new key with method (RS256 or ES256), publishes it beside
// the others and signs with it from now on. It returns the new key.
func (i *Issuer) Rotate(method jwt.SigningMethod) *Key {
	i.t.Helper()
	var priv crypto.Signer
	var err error
	switch method {
	case jwt.SigningMethodRS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jwt.SigningMethodES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		i.t.Fatalf("oidctest: no keys for %s", method.Alg())
	}
	if err != nil {
		i.t.Fatal(err)
	}
	var id [8]byte
	rand.Read(id[:])
	k := &Key{ID: hex.EncodeToString(id[:]), Method: method, private: priv}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = append(i.published, k)
	i.signer = k
	return k
}

// Retire removes a key from the JWKS; the issuer no longer vouches for its tokens.
func (i *Issuer) Retire(k *Key) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = slices.DeleteFunc(i.published, func(p *Key) bool { return p == k })
}

// Signer returns the key tokens are signed with.
func (i *Issuer) Signer() *Key {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.signer
}

// FailDiscovery answers the next n discovery requests with 503.
func (i *Issuer) FailDiscovery(n int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.failing = n
}

// DiscoveryHits counts the requests for the discovery document.
func (i *Issuer) DiscoveryHits() int { return int(i.discoveryHits.Load()) }

// JWKSHits counts the requests for the JWKS.
func (i *Issuer) JWKSHits() int { return int(i.jwksHits.Load()) }

// Claims returns the claims of an API token for subject: the issuer, the
// audience Audience, email and email_verified, issued now and valid for
// ten minutes. Tests change them before Sign.
func (i *Issuer) Claims(subject, email string, verified bool) jwt.MapClaims {
	now := i.now()
	return jwt.MapClaims{
		"iss": i.URL, "sub": subject, "aud": Audience,
		"email": email, "email_verified": verified,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
}

// Token is an API token for subject, signed with the current key.
func (i *Issuer) Token(subject, email string, verified bool) string {
	return i.Sign(i.Claims(subject, email, verified))
}

// Sign signs claims with the current key.
func (i *Issuer) Sign(claims jwt.Claims) string {
	return i.SignWith(i.Signer(), claims)
}

// SignWith signs claims with k, naming it in the header.
func (i *Issuer) SignWith(k *Key, claims jwt.Claims) string {
	i.t.Helper()
	return Forge(i.t, k.Method, k.private, k.ID, claims)
}

// PublicKeyPEM is the PEM form of k's public key: what a careless verifier
// would take as an HMAC secret.
func (k *Key) PublicKeyPEM(t testing.TB) []byte {
	der, err := x509.MarshalPKIXPublicKey(k.private.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Forge signs claims with any method and key (jwt.UnsafeAllowNoneSignatureType
// for "none"), with kid in the header unless it is "": tokens an attacker
// can make.
func Forge(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign a token with %s: %v", method.Alg(), err)
	}
	return s
}

// NewProvider returns a provider that trusts issuer for Audience, with now
// as its clock and start-up retries every few milliseconds. It is not
// started.
func NewProvider(t testing.TB, issuer string, now func() time.Time) *auth.Provider {
	t.Helper()
	p, err := auth.New(auth.Config{Issuer: issuer, Audience: Audience, Now: now, Log: slog.New(slog.DiscardHandler),
		RetryMin: time.Millisecond, RetryMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Run runs p until the test ends and waits until it is ready.
func Run(t testing.TB, p *auth.Provider) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-p.Ready():
	case <-time.After(time.Minute):
		t.Fatal("the provider did not become ready within a minute")
	}
}

// Trust returns a running, ready provider that trusts i.
func (i *Issuer) Trust(t testing.TB) *auth.Provider {
	t.Helper()
	p := NewProvider(t, i.URL, i.now)
	Run(t, p)
	return p
}
