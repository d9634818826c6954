package web

import (
	"context"
	"net/http"

	"github.com/orgd/orgd"
)

// answer runs what Accept and Decline share: the form token, the state of
// the invitation (a used or expired one gets its page), the sign-in
// requirement; then act, and done with the page data of the invitation.
func (p *Pages) answer(w http.ResponseWriter, r *http.Request, act func(ctx context.Context, token string) error, done func(page) error) error {
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
	data := page{Invitation: p.describe(v), Token: token}
	if p.requireSignIn {
		return p.render(w, http.StatusForbidden, "signin", data)
	}
	if err := act(r.Context(), token); err != nil {
		return p.answerFailure(w, r, token, v, err)
	}
	return done(data)
}
