package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/auth"
	"github.com/orgd/orgd/httpx"
)

// Signing in on the page (with RequireSignIn) is one authorization-code
// flow with PKCE per answer; no session outlives it:
//
//   - Accept or Decline, after the form's checks, makes a fresh state, nonce
//     and PKCE verifier, seals them with the invitation token, the answer
//     and an expiry into a cookie (AES-GCM under a key derived from the
//     server key; HttpOnly, SameSite=Lax, Secure with an https public URL,
//     sent only to the callback), and sends the browser to the issuer.
//   - The callback opens the cookie, compares the state, removes the
//     cookie, exchanges the code with the verifier and the client's
//     credentials, verifies the ID token (audience the client id, the
//     nonce), signs the user in with Service.SignIn and answers as that user.
//
// So the state binds the issuer's answer to this browser and this
// invitation; the nonce binds the ID token to this sign-in; the verifier
// makes a code useless to anyone who did not start it.

// CallbackPath is where the issuer sends the browser back, below the public
// URL: the redirect URI to register at the issuer.
const CallbackPath = "/invitations/signin/callback"

const (
	signInCookie     = "orgd_signin"
	signInTTL        = 10 * time.Minute
	signInKeyPurpose = "orgd web sign-in cookie v1"
)

// signIn is what the pages need to sign people in.
type signIn struct {
	client      *auth.Client // nil: signing in is unavailable
	callbackURL string       // "" without a public URL: signing in is unavailable
	cookiePath  string
	secure      bool // the cookie is Secure: the public URL is https
	box         *orgd.Box
}

func newSignIn(svc *orgd.Service, client *auth.Client, publicURL string) signIn {
	box, err := orgd.NewBox(svc.DeriveKey(signInKeyPurpose))
	if err != nil {
		panic(err) // DeriveKey makes keys of the size NewBox takes
	}
	s := signIn{client: client, box: box}
	if u, err := url.Parse(publicURL); err == nil && u.Host != "" {
		base := strings.TrimRight(u.EscapedPath(), "/")
		s.callbackURL = u.Scheme + "://" + u.Host + base + CallbackPath
		s.cookiePath = base + CallbackPath
		s.secure = u.Scheme == "https"
	}
	return s
}

// signInFlow is what the cookie carries from the form to the callback.
type signInFlow struct {
	auth.AuthRequest
	Token   string // the invitation's
	Answer  string // the name of the answer
	Expires int64  // unix seconds on the pages' clock
}

// startSignIn sends the browser to the issuer to sign in before it answers
// the invitation with a.
func (p *Pages) startSignIn(w http.ResponseWriter, r *http.Request, a *answer, token string, v *orgd.InvitationView) error {
	if p.signIn.client == nil || p.signIn.callbackURL == "" {
		return p.signInFailed(w, r, "unavailable", errors.New("no OpenID Connect client or no public URL is configured"), page{Token: token})
	}
	req := auth.NewAuthRequest()
	where, err := p.signIn.client.AuthCodeURL(p.signIn.callbackURL, req, v.Email)
	if err != nil {
		return p.signInFailed(w, r, "unavailable", err, page{Token: token})
	}
	flow, err := json.Marshal(signInFlow{AuthRequest: req, Token: token, Answer: a.name, Expires: p.now().Add(signInTTL).Unix()})
	if err != nil {
		return orgd.Internal("seal sign-in", err)
	}
	http.SetCookie(w, p.signInCookie(p.signIn.box.Seal(string(flow), signInCookie), int(signInTTL/time.Second)))
	httpx.AddLogAttrs(r.Context(), slog.String("signin", "started"))
	http.Redirect(w, r, where, http.StatusSeeOther)
	return nil
}

func (p *Pages) signInCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: signInCookie, Value: value, Path: p.signIn.cookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: p.signIn.secure, SameSite: http.SameSiteLaxMode}
}

// openSignIn returns the sign-in this browser started, nil if it has none
// that is readable and current.
func (p *Pages) openSignIn(r *http.Request) *signInFlow {
	c, err := r.Cookie(signInCookie)
	if err != nil {
		return nil
	}
	plain, err := p.signIn.box.Open(c.Value, signInCookie)
	if err != nil {
		return nil
	}
	var flow signInFlow
	if err := json.Unmarshal([]byte(plain), &flow); err != nil || answers[flow.Answer] == nil || !p.now().Before(time.Unix(flow.Expires, 0)) {
		return nil
	}
	return &flow
}

// endSignIn removes the cookie: each sign-in answers once.
func (p *Pages) endSignIn(w http.ResponseWriter) {
	http.SetCookie(w, p.signInCookie("", -1))
}

// signInStatus is the status of the page of each reason signing in failed.
// Most share the page signin_failed; a reason with a template of its own
// (signin_mismatch, signin_unverified) has that.
var signInStatus = map[string]int{
	"expired":     http.StatusBadRequest, // no current sign-in in this browser
	"state":       http.StatusBadRequest, // the answer belongs to another sign-in
	"cancelled":   http.StatusForbidden,  // the person did not sign in
	"refused":     http.StatusBadRequest, // the issuer refused the code
	"failed":      http.StatusBadGateway, // the issuer failed, or its answer did not check out
	"unavailable": http.StatusServiceUnavailable,
	"account":     http.StatusForbidden, // orgd makes no user of the identity; Message says why
	"mismatch":    http.StatusForbidden, // signed in with another address than the invited one
	"unverified":  http.StatusForbidden, // signed in with an address the issuer has not verified
}

// signInFailed writes the page of a sign-in that did not work, with data;
// nothing has changed. The cause goes to the access log, and to a warning
// when orgd or the issuer is at fault.
func (p *Pages) signInFailed(w http.ResponseWriter, r *http.Request, reason string, cause error, data page) error {
	httpx.AddLogAttrs(r.Context(), slog.String("signin", reason), slog.String("cause", cause.Error()))
	status := signInStatus[reason]
	if status >= 500 {
		p.log.WarnContext(r.Context(), "signing in on the invitation page failed", "request_id", httpx.RequestID(r.Context()), "reason", reason, "error", cause)
	}
	name := "signin_" + reason
	if templates[name] == nil {
		name = "signin_failed"
	}
	data.Reason = reason
	return p.render(w, status, name, data)
}
