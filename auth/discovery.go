// Package auth makes orgd trust one OpenID Connect issuer. A Provider
// discovers the issuer's endpoints, keeps its signing keys (the JWKS) and
// verifies the JWTs it issues. The API surfaces use it through
// orgd.TokenVerifier to turn bearer tokens into identities; a sign-in page
// uses the same Provider for the authorization-code flow: Metadata gives
// the issuer's endpoints, Verify checks its ID tokens.
package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Metadata is the part of an issuer's discovery document
// (OpenID Connect Discovery 1.0, section 3) that orgd uses.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint,omitempty"`
	JWKSURI                           string   `json:"jwks_uri"`
	EndSessionEndpoint                string   `json:"end_session_endpoint,omitempty"`
	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported            []string `json:"response_types_supported,omitempty"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported,omitempty"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported,omitempty"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
}

// maxDocumentBytes bounds the discovery document and the JWKS.
const maxDocumentBytes = 1 << 20

// DiscoveryURL is where the discovery document of issuer is: the issuer
// without a trailing slash, then /.well-known/openid-configuration.
func DiscoveryURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

// CheckURL accepts the URLs orgd fetches from an issuer: absolute https://
// URLs without a fragment, and http:// only on a loopback host (a
// development issuer on this machine).
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Fragment != "" || u.User != nil {
		return errors.New("must be an absolute https:// URL without user information or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
		return errors.New("must use https:// (http:// only for localhost)")
	}
	return errors.New("must be an https:// URL")
}

// Discover fetches and checks the discovery document of issuer with client.
// The document must name exactly issuer (section 4.3 of the spec) and a
// jwks_uri that CheckURL accepts.
func Discover(ctx context.Context, client *http.Client, issuer string) (*Metadata, error) {
	where := DiscoveryURL(issuer)
	var m Metadata
	if err := getJSON(ctx, client, where, &m); err != nil {
		return nil, fmt.Errorf("OpenID Connect discovery: %w", err)
	}
	if m.Issuer != issuer {
		return nil, fmt.Errorf("OpenID Connect discovery: %s names the issuer %q, not %q as configured (a trailing slash counts)", where, m.Issuer, issuer)
	}
	if m.JWKSURI == "" {
		return nil, fmt.Errorf("OpenID Connect discovery: %s names no jwks_uri", where)
	}
	if err := CheckURL(m.JWKSURI); err != nil {
		return nil, fmt.Errorf("OpenID Connect discovery: the jwks_uri %q of %s %v", m.JWKSURI, where, err)
	}
	return &m, nil
}

// getJSON fetches a JSON document of at most maxDocumentBytes.
func getJSON(ctx context.Context, client *http.Client, where string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", where, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", where, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %s", where, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", where, err)
	}
	if len(body) > maxDocumentBytes {
		return fmt.Errorf("GET %s: the document is larger than %d bytes", where, maxDocumentBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: not a JSON document: %w", where, err)
	}
	return nil
}
