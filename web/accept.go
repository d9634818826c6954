package web

import (
	"context"
	"net/http"
)

// accept answers POST /invitations/{token}/accept. The token proves control
// of the invited address, so the invited address becomes a member (its user
// is created if there is none); then a success page, or a 303 to the
// configured redirect.
func (p *Pages) accept(w http.ResponseWriter, r *http.Request) error {
	return p.answer(w, r, func(ctx context.Context, token string) error {
		_, err := p.svc.AcceptInvitationAsInvitee(ctx, token)
		return err
	}, func(data page) error {
		if p.acceptRedirect != "" {
			http.Redirect(w, r, p.acceptRedirect, http.StatusSeeOther)
			return nil
		}
		return p.render(w, http.StatusOK, "accept_done", data)
	})
}
