package web

import (
	"context"
	"net/http"

	"github.com/orgd/orgd"
)

// answer is Accept or Decline: what it does for the holder of the link, or
// for a signed-in user when the server requires signing in, and the page
// that follows.
type answer struct {
	name string // the last segment of its form's path; the sign-in cookie keeps it
	// byLink answers for whoever holds the token.
	byLink func(ctx context.Context, svc *orgd.Service, token string) error
	// asUser answers for a signed-in user, under the rules of the APIs.
	asUser func(ctx context.Context, svc *orgd.Service, who *orgd.Principal, token string) error
	// done writes what follows success.
	done func(p *Pages, w http.ResponseWriter, r *http.Request, data page) error
}

// answers are the answers by name.
var answers = map[string]*answer{accepting.name: accepting, declining.name: declining}

// respond runs what Accept and Decline share: the form token, the state of
// the invitation (a used or expired one gets its page); then the answer by
// the link, or, when signing in is required, the start of the sign-in that
// the callback finishes.
func (p *Pages) respond(w http.ResponseWriter, r *http.Request, a *answer) error {
	token := r.PathValue("token")
	if !p.validForm(w, r, token) {
		return p.refuseForm(w, token)
	}
	v, err := p.svc.ViewInvitation(r.Context(), token)
	if err != nil {
		return err
	}
	if v.State != orgd.StatePending {
		return p.showState(w, r, token, v)
	}
	if p.requireSignIn {
		return p.startSignIn(w, r, a, token, v)
	}
	if err := a.byLink(r.Context(), p.svc, token); err != nil {
		return p.answerFailure(w, r, token, v, err)
	}
	return a.done(p, w, r, page{Invitation: p.describe(v), Token: token})
}
