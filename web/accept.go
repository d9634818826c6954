package web

import (
	"context"
	"net/http"

	"github.com/orgd/orgd"
)

// accept answers POST /invitations/{token}/accept.
func (p *Pages) accept(w http.ResponseWriter, r *http.Request) error {
	return p.respond(w, r, accepting)
}

// accepting is Accept. By the link, the token proves control of the
// invited address, so that address becomes a member (its user is created if
// there is none); signed in, the signed-in user does, if the APIs would let
// it accept. Then a success page, or a 303 to the configured redirect.
var accepting = &answer{
	name: "accept",
	byLink: func(ctx context.Context, svc *orgd.Service, token string) error {
		_, err := svc.AcceptInvitationAsInvitee(ctx, token)
		return err
	},
	asUser: func(ctx context.Context, svc *orgd.Service, who *orgd.Principal, token string) error {
		_, err := svc.AcceptInvitationByToken(ctx, who, token)
		return err
	},
	done: func(p *Pages, w http.ResponseWriter, r *http.Request, data page) error {
		if p.acceptRedirect != "" {
			http.Redirect(w, r, p.acceptRedirect, http.StatusSeeOther)
			return nil
		}
		return p.render(w, http.StatusOK, "accept_done", data)
	},
}
