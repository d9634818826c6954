package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Why a sign-in fails, beside the Err values of Verify (which the ID token
// may fail) and ErrNotReady. None ever holds a code, a verifier or a token.
var (
	// ErrSignInUnsupported: the issuer's discovery document offers no way to
	// sign in that orgd can use (no endpoints, no S256, no client
	// authentication that orgd has). A configuration error.
	ErrSignInUnsupported = errors.New("the issuer does not support the sign-in orgd needs")
	// ErrTokenEndpoint: the token endpoint could not be reached or gave an
	// answer that is no token response.
	ErrTokenEndpoint = errors.New("the token endpoint did not answer with tokens")
	// ErrNonce: the ID token's nonce is not the one of the request.
	ErrNonce = errors.New("the ID token's nonce is not the request's")
)

// TokenError is the issuer refusing to exchange a code (RFC 6749, section
// 5.2): a code that is unknown, used, expired, or whose PKCE verifier does
// not match, or a client it does not accept.
type TokenError struct {
	Status      int
	Code        string // "invalid_grant", "invalid_client", ...
	Description string
}

func (e *TokenError) Error() string {
	s := fmt.Sprintf("the issuer refused the code: %s (status %d)", e.Code, e.Status)
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// Scopes are the scopes orgd asks for: an ID token with the address and
// the name.
const Scopes = "openid email profile"

// Client is orgd as a client of the issuer, signing people in with the
// authorization-code flow and PKCE (OpenID Connect Core 1.0, section 3.1;
// RFC 7636) for the invitation page. It keeps nothing between the two
// halves of a flow: the caller keeps the AuthRequest.
type Client struct {
	p      *Provider
	id     string
	secret string // "" for a public client
}

// NewClient returns orgd's client of p's issuer: its client id and secret
// ("" for a public client, which PKCE alone protects).
func (p *Provider) NewClient(id, secret string) *Client {
	return &Client{p: p, id: id, secret: secret}
}

// Provider returns the issuer of the client.
func (c *Client) Provider() *Provider { return c.p }

// AuthRequest is what an authorization request and its callback share,
// 256 random bits each. The caller keeps it where only the browser that
// started the sign-in can give it back, and compares State itself.
type AuthRequest struct {
	State    string
	Nonce    string // Exchange compares it with the ID token's
	Verifier string // the PKCE code_verifier; its S256 challenge goes in the request
}

// NewAuthRequest returns fresh values for one sign-in.
func NewAuthRequest() AuthRequest {
	return AuthRequest{State: random(), Nonce: random(), Verifier: random()}
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails: crypto/rand crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// challenge is the S256 code_challenge of a verifier.
func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// metadata returns the discovery document, or why signing in cannot start.
func (c *Client) metadata() (*Metadata, error) {
	m := c.p.Metadata()
	if m == nil {
		return nil, ErrNotReady
	}
	for name, endpoint := range map[string]string{"authorization_endpoint": m.AuthorizationEndpoint, "token_endpoint": m.TokenEndpoint} {
		if endpoint == "" {
			return nil, fmt.Errorf("%w: the discovery document names no %s", ErrSignInUnsupported, name)
		}
		if err := CheckURL(endpoint); err != nil {
			return nil, fmt.Errorf("%w: its %s %q %v", ErrSignInUnsupported, name, endpoint, err)
		}
	}
	if len(m.CodeChallengeMethodsSupported) > 0 && !slices.Contains(m.CodeChallengeMethodsSupported, "S256") {
		return nil, fmt.Errorf("%w: its code_challenge_methods_supported %v lack S256", ErrSignInUnsupported, m.CodeChallengeMethodsSupported)
	}
	return m, nil
}

// AuthorizationOrigin is the scheme and host of the issuer's authorization
// endpoint, where a browser is sent to sign in; "" until the issuer is
// known.
func (c *Client) AuthorizationOrigin() string {
	m := c.p.Metadata()
	if m == nil {
		return ""
	}
	u, err := url.Parse(m.AuthorizationEndpoint)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// AuthCodeURL returns where to send a browser to sign in: the issuer's
// authorization endpoint with response_type=code, the client id,
// redirectURI, Scopes, the state, the nonce and the S256 challenge of the
// verifier, and loginHint (the address the person should sign in as) if
// not "". Errors: ErrNotReady, ErrSignInUnsupported.
func (c *Client) AuthCodeURL(redirectURI string, req AuthRequest, loginHint string) (string, error) {
	m, err := c.metadata()
	if err != nil {
		return "", err
	}
	u, err := url.Parse(m.AuthorizationEndpoint)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSignInUnsupported, err)
	}
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", c.id)
	q.Set("redirect_uri", redirectURI)
	q.Set("scope", Scopes)
	q.Set("state", req.State)
	q.Set("nonce", req.Nonce)
	q.Set("code_challenge", challenge(req.Verifier))
	q.Set("code_challenge_method", "S256")
	if loginHint != "" {
		q.Set("login_hint", loginHint)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// authMethod chooses how to authenticate at the token endpoint: without a
// secret, none (the client id in the body); with one, client_secret_basic
// (the default of OpenID Connect Discovery when the document lists none)
// or else client_secret_post.
func (c *Client) authMethod(m *Metadata) (string, error) {
	supported := m.TokenEndpointAuthMethodsSupported
	switch {
	case c.secret == "":
		return "none", nil
	case len(supported) == 0 || slices.Contains(supported, "client_secret_basic"):
		return "client_secret_basic", nil
	case slices.Contains(supported, "client_secret_post"):
		return "client_secret_post", nil
	}
	return "", fmt.Errorf("%w: its token endpoint takes %v, and orgd sends client_secret_basic or client_secret_post", ErrSignInUnsupported, supported)
}

// Exchange finishes a sign-in: it trades code at the token endpoint, with
// the request's verifier and the client's credentials, for an ID token,
// which it verifies as Verify does for the audience of the client id, and
// whose azp (if any) must be the client id and whose nonce must be the
// request's. It returns the ID token's claims.
// Errors: ErrNotReady, ErrSignInUnsupported, *TokenError, ErrTokenEndpoint,
// ErrNonce, and the Err values of Verify; none holds code or verifier.
func (c *Client) Exchange(ctx context.Context, redirectURI, code string, req AuthRequest) (*Claims, error) {
	m, err := c.metadata()
	if err != nil {
		return nil, err
	}
	method, err := c.authMethod(m)
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {req.Verifier}}
	switch method {
	case "none":
		form.Set("client_id", c.id)
	case "client_secret_post":
		form.Set("client_id", c.id)
		form.Set("client_secret", c.secret)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, m.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTokenEndpoint, err)
	}
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hreq.Header.Set("Accept", "application/json")
	if method == "client_secret_basic" {
		// RFC 6749, section 2.3.1: both form-encoded, then Basic.
		hreq.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	}
	idToken, err := c.post(hreq, code, req.Verifier)
	if err != nil {
		return nil, err
	}
	claims, err := c.p.Verify(ctx, idToken, c.id)
	if err != nil {
		return nil, fmt.Errorf("ID token: %w", err)
	}
	if claims.AuthorizedParty != "" && claims.AuthorizedParty != c.id {
		return nil, fmt.Errorf("ID token: %w: azp is another client", ErrAudience)
	}
	if claims.Nonce == "" || subtle.ConstantTimeCompare([]byte(claims.Nonce), []byte(req.Nonce)) != 1 {
		return nil, ErrNonce
	}
	return claims, nil
}

// post sends a token request and returns the ID token of the answer. Its
// errors keep out the secrets of the request, should the issuer echo them.
func (c *Client) post(req *http.Request, secrets ...string) (string, error) {
	resp, err := c.p.cfg.Client.Do(req)
	if err != nil {
		// A *url.Error names the URL, which holds no secret: they are in the body.
		return "", fmt.Errorf("%w: %v", ErrTokenEndpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil || len(body) > maxDocumentBytes {
		return "", fmt.Errorf("%w: status %s, the body could not be read or is larger than %d bytes", ErrTokenEndpoint, resp.Status, maxDocumentBytes)
	}
	var answer struct {
		IDToken     string `json:"id_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	jsonErr := json.Unmarshal(body, &answer)
	switch {
	case resp.StatusCode == http.StatusOK && jsonErr == nil && answer.IDToken != "":
		return answer.IDToken, nil
	case resp.StatusCode == http.StatusOK:
		return "", fmt.Errorf("%w: the answer holds no id_token", ErrTokenEndpoint)
	case (resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized) && jsonErr == nil && answer.Error != "":
		return "", &TokenError{Status: resp.StatusCode, Code: clean(answer.Error, 64, secrets), Description: clean(answer.Description, 200, secrets)}
	}
	return "", fmt.Errorf("%w: status %s", ErrTokenEndpoint, resp.Status)
}

// clean makes text of the issuer fit for a log line: printable, at most
// limit bytes, without any of secrets.
func clean(s string, limit int, secrets []string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "..."
	}
	return s
}
