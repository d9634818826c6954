package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/orgd/orgd"
)

// Why a token is refused. Verify wraps one of them; none ever holds the token.
var (
	ErrNotReady     = errors.New("the OpenID Connect issuer has not been reached yet")
	ErrMalformed    = errors.New("malformed JWT")
	ErrAlgorithm    = errors.New("signing algorithm not allowed")
	ErrUnknownKey   = errors.New("unknown key id")
	ErrSignature    = errors.New("bad signature")
	ErrIssuer       = errors.New("wrong issuer")
	ErrAudience     = errors.New("wrong audience")
	ErrExpired      = errors.New("expired")
	ErrNotYetValid  = errors.New("not yet valid")
	ErrMissingClaim = errors.New("a required claim is missing")
)

// Algorithms lists the signature algorithms orgd accepts: asymmetric ones
// only, so neither "none" nor an HMAC keyed with a public key can pass.
var Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// maxSubject is the longest sub orgd keeps (OpenID Connect Core, section 2).
const maxSubject = 255

// Claims are the claims of a verified token that orgd reads.
type Claims struct {
	jwt.RegisteredClaims
	Email         string     `json:"email,omitempty"`
	EmailVerified StrictTrue `json:"email_verified,omitempty"`
	Name          string     `json:"name,omitempty"`
	Nonce         string     `json:"nonce,omitempty"` // of ID tokens; Client.Exchange compares it
	// AuthorizedParty is the client an ID token was issued to, when the
	// issuer names it; Client.Exchange requires its own.
	AuthorizedParty string `json:"azp,omitempty"`
}

// StrictTrue is true only for the JSON literal true. Any other value (the
// string "true", a number, null, no value) is false, so that an address
// counts as verified only when the issuer says so plainly.
type StrictTrue bool

// UnmarshalJSON implements json.Unmarshaler.
func (b *StrictTrue) UnmarshalJSON(data []byte) error {
	*b = string(data) == "true"
	return nil
}

// parser checks tokens of one audience.
type parser struct {
	jwt *jwt.Parser
}

func (p *Provider) parser(audience string) *parser {
	return &parser{jwt.NewParser(
		jwt.WithValidMethods(Algorithms),
		jwt.WithIssuer(p.cfg.Issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(p.cfg.Leeway),
		jwt.WithTimeFunc(p.cfg.Now),
	)}
}

// VerifyToken verifies an API token: a JWT of the issuer for Audience. It
// implements orgd.TokenVerifier.
func (p *Provider) VerifyToken(ctx context.Context, token string) (*orgd.Identity, error) {
	c, err := p.verify(ctx, token, p.api)
	if err != nil {
		return nil, err
	}
	return c.Identity(), nil
}

// Identity is who the claims say the bearer is, for orgd.Service.SignIn.
func (c *Claims) Identity() *orgd.Identity {
	return &orgd.Identity{Issuer: c.Issuer, Subject: c.Subject, Email: c.Email, EmailVerified: bool(c.EmailVerified), Name: c.Name}
}

// Verify verifies a JWT of the issuer for audience, such as an ID token for
// the client id. It checks the signature with the issuer's keys and an
// algorithm of Algorithms, iss, aud, exp (required), nbf and iat (with the
// leeway), and that sub is present. The error wraps one of the Err values.
func (p *Provider) Verify(ctx context.Context, token, audience string) (*Claims, error) {
	if audience == p.cfg.Audience {
		return p.verify(ctx, token, p.api)
	}
	return p.verify(ctx, token, p.parser(audience))
}

func (p *Provider) verify(ctx context.Context, token string, ps *parser) (*Claims, error) {
	if p.Metadata() == nil || p.fetches.Load() == 0 {
		return nil, ErrNotReady
	}
	alg, kid, err := peekHeader(token)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(Algorithms, alg) {
		return nil, fmt.Errorf("%w: %q", ErrAlgorithm, alg)
	}
	seen := p.fetches.Load()
	c, err := ps.parse(ctx, token, p.kf)
	if errors.Is(err, jwkset.ErrKeyNotFound) && p.refreshForUnknownKey(ctx, seen) {
		c, err = ps.parse(ctx, token, p.kf)
	}
	if err != nil {
		return nil, reason(err, kid)
	}
	if c.Subject == "" || len(c.Subject) > maxSubject {
		return nil, fmt.Errorf("%w: sub must have 1 to %d characters", ErrMissingClaim, maxSubject)
	}
	return c, nil
}

func (ps *parser) parse(ctx context.Context, token string, kf keyfunc.Keyfunc) (*Claims, error) {
	var c Claims
	if _, err := ps.jwt.ParseWithClaims(token, &c, kf.KeyfuncCtx(ctx)); err != nil {
		return nil, err
	}
	return &c, nil
}

// peekHeader reads alg and kid from a token's header before anything is
// trusted, to refuse algorithms early and to name the key in logs.
func peekHeader(token string) (alg, kid string, err error) {
	head, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", "", fmt.Errorf("%w: the header is not base64url", ErrMalformed)
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", "", fmt.Errorf("%w: the header is not a JSON object", ErrMalformed)
	}
	return h.Alg, h.Kid, nil
}

// reason turns an error of the JWT library into one of the Err values.
func reason(err error, kid string) error {
	switch {
	case errors.Is(err, jwkset.ErrKeyNotFound):
		return fmt.Errorf("%w %q", ErrUnknownKey, kid)
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ErrMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrInvalidKeyType), errors.Is(err, keyfunc.ErrKeyfunc):
		return fmt.Errorf("%w (key %q)", ErrSignature, kid)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return ErrIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return ErrAudience
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ErrNotYetValid
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return fmt.Errorf("%w (%v)", ErrMissingClaim, err)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}
