package web

import (
	"context"
	"net/http"
)

// decline answers POST /invitations/{token}/decline: the invitation is
// declined for good, and the page says how to join after all.
func (p *Pages) decline(w http.ResponseWriter, r *http.Request) error {
	return p.answer(w, r, func(ctx context.Context, token string) error {
		_, err := p.svc.DeclineInvitationAsInvitee(ctx, token)
		return err
	}, func(data page) error {
		return p.render(w, http.StatusOK, "decline_done", data)
	})
}
