package web

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/auth"
	"github.com/orgd/orgd/httpx"
)

// errorCode is the shape of an OAuth error code; anything else the issuer
// (or whoever made the link) puts there is not logged.
var errorCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

// signInCallback answers GET /invitations/signin/callback, where the issuer
// sends the browser back: it finishes the sign-in this browser started (see
// signin.go) and answers the invitation as the signed-in user, with the
// rules of the APIs. Every failure gets a page that says what to do, and
// changes nothing.
func (p *Pages) signInCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	flow := p.openSignIn(r)
	if flow == nil {
		p.endSignIn(w)
		return p.signInFailed(w, r, "expired", errors.New("no sign-in cookie, or an expired or unreadable one"), page{})
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(flow.State)) != 1 {
		// Not this browser's sign-in: its own may still come back, so its cookie stays.
		return p.signInFailed(w, r, "state", errors.New("the state is not the one of this browser's sign-in"), page{Token: flow.Token})
	}
	p.endSignIn(w)
	retry := page{Token: flow.Token}
	if e := q.Get("error"); e != "" {
		if !errorCode.MatchString(e) {
			e = "(not an error code)"
		}
		reason := "failed"
		if e == "access_denied" {
			reason = "cancelled"
		}
		return p.signInFailed(w, r, reason, fmt.Errorf("the issuer answered error=%s", e), retry)
	}
	ctx := r.Context()
	v, err := p.svc.ViewInvitation(ctx, flow.Token)
	if err != nil {
		return err
	}
	if v.State != orgd.StatePending {
		return p.showState(w, r, flow.Token, v)
	}
	claims, err := p.signIn.client.Exchange(ctx, p.signIn.callbackURL, q.Get("code"), flow.AuthRequest)
	var refused *auth.TokenError
	switch {
	case errors.As(err, &refused) && refused.Code == "invalid_grant":
		return p.signInFailed(w, r, "refused", err, retry)
	case errors.Is(err, auth.ErrNotReady), errors.Is(err, auth.ErrSignInUnsupported):
		return p.signInFailed(w, r, "unavailable", err, retry)
	case err != nil:
		return p.signInFailed(w, r, "failed", err, retry)
	}
	who, err := p.svc.SignIn(ctx, claims.Identity())
	data := page{Invitation: p.describe(v), Token: flow.Token, SignedInAs: claims.Email}
	if err != nil {
		switch orgd.ErrorCode(err) {
		case orgd.CodeEmailUnverified:
			return p.signInFailed(w, r, "unverified", err, data)
		case orgd.CodeEmailMissing, orgd.CodeIdentityConflict:
			data.Message = orgd.AsError(err).Message
			return p.signInFailed(w, r, "account", err, data)
		}
		return err
	}
	httpx.AddLogAttrs(ctx, slog.String("user_id", who.User.ID))
	data.SignedInAs = who.User.Email
	a := answers[flow.Answer]
	if err := a.asUser(ctx, p.svc, who, flow.Token); err != nil {
		switch orgd.ErrorCode(err) {
		case orgd.CodeInviteMismatch:
			return p.signInFailed(w, r, "mismatch", err, data)
		case orgd.CodeEmailUnverified:
			return p.signInFailed(w, r, "unverified", err, data)
		}
		return p.answerFailure(w, r, flow.Token, v, err)
	}
	httpx.AddLogAttrs(ctx, slog.String("signin", "done"))
	return a.done(p, w, r, data)
}
