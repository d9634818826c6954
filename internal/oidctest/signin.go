package oidctest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The authorization-code flow with PKCE, as an issuer runs it: the
// authorization endpoint checks the request of a registered client and
// shows a page that signs in the user the test chose (a person, or
// Approve, presses its button); the token endpoint checks the code, the
// PKCE verifier and the client's credentials, and answers with an ID token
// that carries the request's nonce.

// Client is a client registered at the issuer.
type Client struct {
	ID          string
	Secret      string // "" for a public client
	RedirectURI string // the only redirect_uri the issuer accepts for it
}

// User is who signs in at the authorization endpoint.
type User struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// CodeLifetime is how long a code can be exchanged, on the issuer's clock.
const CodeLifetime = time.Minute

// grant is one authorization request, then its code.
type grant struct {
	id                 string // of the request, in the form of the sign-in page
	client             Client
	state, nonce, pkce string
	user               User
	issued             time.Time // of the code
	used               bool
}

type flows struct {
	authMethods []string // token_endpoint_auth_methods_supported
	clients     map[string]Client
	user        *User
	requests    map[string]*grant // by the id in the form of the sign-in page
	codes       map[string]*grant
	editIDToken func(jwt.MapClaims)
	failTokens  int
	refusals    []string
}

func newFlows() flows {
	return flows{authMethods: []string{"client_secret_basic", "client_secret_post"},
		clients: map[string]Client{}, requests: map[string]*grant{}, codes: map[string]*grant{}}
}

// RegisterClient registers a client.
func (i *Issuer) RegisterClient(c Client) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.flows.clients[c.ID] = c
}

// AuthMethods sets the token_endpoint_auth_methods_supported of the
// discovery document, and the only ones the token endpoint takes (default
// client_secret_basic and client_secret_post). Set it before a provider
// reads the document.
func (i *Issuer) AuthMethods(methods ...string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.flows.authMethods = methods
}

// SignInAs makes u the user whom the authorization endpoint signs in from
// now on.
func (i *Issuer) SignInAs(u User) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.flows.user = &u
}

// EditIDTokens lets edit change the claims of every ID token from now on,
// before it is signed: a nonce, an audience the client did not ask for.
func (i *Issuer) EditIDTokens(edit func(jwt.MapClaims)) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.flows.editIDToken = edit
}

// FailTokenRequests answers the next n token requests with 503.
func (i *Issuer) FailTokenRequests(n int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.flows.failTokens = n
}

// Refusals lists why the authorization and token endpoints refused
// requests, oldest first.
func (i *Issuer) Refusals() []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return slices.Clone(i.flows.refusals)
}

// refuse records why a request is refused; the caller holds mu.
func (i *Issuer) refuse(format string, args ...any) string {
	reason := fmt.Sprintf(format, args...)
	i.flows.refusals = append(i.flows.refusals, reason)
	return reason
}

func randomString() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var verifierPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// authorize is the authorization endpoint: a request it cannot trust to
// redirect (unknown client, another redirect_uri) gets a 400 page; any
// other fault goes back to the client as error=invalid_request; a good one
// gets the sign-in page.
func (i *Issuer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	i.mu.Lock()
	defer i.mu.Unlock()
	c, ok := i.flows.clients[q.Get("client_id")]
	if !ok {
		http.Error(w, i.refuse("authorize: unknown client_id %q", q.Get("client_id")), http.StatusBadRequest)
		return
	}
	if q.Get("redirect_uri") != c.RedirectURI {
		http.Error(w, i.refuse("authorize: redirect_uri %q is not the client's %q", q.Get("redirect_uri"), c.RedirectURI), http.StatusBadRequest)
		return
	}
	var fault string
	switch {
	case q.Get("response_type") != "code":
		fault = "response_type must be code"
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		fault = "scope must include openid"
	case q.Get("state") == "":
		fault = "state is required"
	case q.Get("nonce") == "":
		fault = "nonce is required"
	case q.Get("code_challenge_method") != "S256":
		fault = "code_challenge_method must be S256"
	case len(q.Get("code_challenge")) != 43:
		fault = "code_challenge must be the 43 characters of a SHA-256 in base64url"
	case i.flows.user == nil:
		fault = "the test chose nobody to sign in (SignInAs)"
	}
	if fault != "" {
		redirect(w, r, c.RedirectURI, url.Values{"error": {"invalid_request"}, "error_description": {i.refuse("authorize: %s", fault)}, "state": {q.Get("state")}})
		return
	}
	g := &grant{id: randomString(), client: c, state: q.Get("state"), nonce: q.Get("nonce"), pkce: q.Get("code_challenge"), user: *i.flows.user}
	i.flows.requests[g.id] = g
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	signInPage.Execute(w, map[string]string{"Request": g.id, "Client": c.ID, "Name": g.user.Name, "Email": g.user.Email})
}

var signInPage = template.Must(template.New("signin").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Test issuer: sign in</title></head>
<body><main>
<h1>Sign in to the test issuer</h1>
<p>Sign in to {{.Client}} as {{.Name}} ({{.Email}}).</p>
<form method="post" action="/authorize">
<input type="hidden" name="request" value="{{.Request}}">
<button type="submit" name="decision" value="allow" id="allow">Sign in</button>
<button type="submit" name="decision" value="deny" id="deny">Cancel</button>
</form>
</main></body></html>
`))

// decide answers the sign-in page: a code for the client, or access_denied.
func (i *Issuer) decide(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	defer i.mu.Unlock()
	g, ok := i.flows.requests[r.PostFormValue("request")]
	if !ok {
		http.Error(w, i.refuse("authorize: unknown request"), http.StatusBadRequest)
		return
	}
	delete(i.flows.requests, r.PostFormValue("request"))
	if r.PostFormValue("decision") != "allow" {
		redirect(w, r, g.client.RedirectURI, url.Values{"error": {"access_denied"}, "error_description": {"the user cancelled"}, "state": {g.state}})
		return
	}
	code := randomString()
	g.issued = i.now()
	i.flows.codes[code] = g
	redirect(w, r, g.client.RedirectURI, url.Values{"code": {code}, "state": {g.state}})
}

func redirect(w http.ResponseWriter, r *http.Request, to string, q url.Values) {
	http.Redirect(w, r, to+"?"+q.Encode(), http.StatusSeeOther)
}

// token is the token endpoint.
func (i *Issuer) token(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.flows.failTokens > 0 {
		i.flows.failTokens--
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	refuse := func(status int, code, format string, args ...any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": i.refuse("token: "+format, args...)})
	}
	if err := r.ParseForm(); err != nil {
		refuse(http.StatusBadRequest, "invalid_request", "the body is no form: %v", err)
		return
	}
	c, err := i.clientOf(r)
	if err != nil {
		refuse(http.StatusUnauthorized, "invalid_client", "%v", err)
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		refuse(http.StatusBadRequest, "unsupported_grant_type", "grant_type %q", r.PostForm.Get("grant_type"))
		return
	}
	g, ok := i.flows.codes[r.PostForm.Get("code")]
	switch {
	case !ok:
		refuse(http.StatusBadRequest, "invalid_grant", "unknown code")
		return
	case g.client.ID != c.ID:
		refuse(http.StatusBadRequest, "invalid_grant", "the code was issued to another client")
		return
	case g.used:
		refuse(http.StatusBadRequest, "invalid_grant", "the code was already used")
		return
	}
	g.used = true // one presentation, whatever its outcome
	switch {
	case i.now().Sub(g.issued) > CodeLifetime:
		refuse(http.StatusBadRequest, "invalid_grant", "the code expired")
		return
	case r.PostForm.Get("redirect_uri") != c.RedirectURI:
		refuse(http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request's")
		return
	case !verifierPattern.MatchString(r.PostForm.Get("code_verifier")):
		refuse(http.StatusBadRequest, "invalid_grant", "code_verifier is missing or malformed")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.pkce {
		refuse(http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		return
	}
	now := i.now()
	claims := jwt.MapClaims{
		"iss": i.URL, "sub": g.user.Subject, "aud": c.ID, "azp": c.ID, "nonce": g.nonce,
		"email": g.user.Email, "email_verified": g.user.EmailVerified, "name": g.user.Name,
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
	if i.flows.editIDToken != nil {
		i.flows.editIDToken(claims)
	}
	idToken := Forge(i.t, i.signer.Method, i.signer.private, i.signer.ID, claims)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, map[string]any{"access_token": randomString(), "token_type": "Bearer", "expires_in": 600, "id_token": idToken})
}

// clientOf authenticates the client of a token request by a method the
// discovery document advertises, or by its id alone if it is public.
func (i *Issuer) clientOf(r *http.Request) (Client, error) {
	id, secret, basic := r.BasicAuth()
	method := "client_secret_basic"
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return Client{}, fmt.Errorf("the Basic credentials are not form-encoded")
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		method = "client_secret_post"
	}
	c, ok := i.flows.clients[id]
	switch {
	case !ok:
		return Client{}, fmt.Errorf("unknown client %q", id)
	case c.Secret == "" && secret == "":
		return c, nil // a public client
	case !slices.Contains(i.flows.authMethods, method):
		return Client{}, fmt.Errorf("%s is not a method the issuer advertises", method)
	case secret != c.Secret:
		return Client{}, fmt.Errorf("wrong client secret by %s", method)
	}
	return c, nil
}

// Approve acts as the person at the issuer: it opens authURL (where orgd
// sent the browser), presses Sign in, and returns where the issuer sends
// the browser back (the client's redirect_uri with a code and the state).
func (i *Issuer) Approve(t testing.TB, authURL string) string {
	t.Helper()
	return i.answer(t, authURL, "allow")
}

// Deny is Approve pressing Cancel: the redirect carries error=access_denied.
func (i *Issuer) Deny(t testing.TB, authURL string) string {
	t.Helper()
	return i.answer(t, authURL, "deny")
}

var requestField = regexp.MustCompile(`name="request" value="([^"]+)"`)

func (i *Issuer) answer(t testing.TB, authURL, decision string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := requestField.FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("the issuer's sign-in page: %d %s (location %q)", resp.StatusCode, page, resp.Header.Get("Location"))
	}
	resp, err = client.PostForm(i.URL+"/authorize", url.Values{"request": {string(m[1])}, "decision": {decision}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing in at the issuer: status %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}
