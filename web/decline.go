package web

import (
	"context"
	"net/http"

	"github.com/orgd/orgd"
)

// decline answers POST /invitations/{token}/decline.
func (p *Pages) decline(w http.ResponseWriter, r *http.Request) error {
	return p.respond(w, r, declining)
}

// declining is Decline: the invitation is declined for good (signed in,
// only by a user whom the APIs would let decline it), and the page says how
// to join after all.
var declining = &answer{
	name: "decline",
	byLink: func(ctx context.Context, svc *orgd.Service, token string) error {
		_, err := svc.DeclineInvitationAsInvitee(ctx, token)
		return err
	},
	asUser: func(ctx context.Context, svc *orgd.Service, who *orgd.Principal, token string) error {
		_, err := svc.DeclineInvitationByToken(ctx, who, token)
		return err
	},
	done: func(p *Pages, w http.ResponseWriter, r *http.Request, data page) error {
		return p.render(w, http.StatusOK, "decline_done", data)
	},
}
