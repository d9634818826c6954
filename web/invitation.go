package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/httpx"
)

// invitation is an invitation as the templates show it.
type invitation struct {
	Org             string
	InviterName     string
	InviterEmail    string
	Email           string // the invited address
	Role            string
	RoleDescription string
	ExpiresIn       string // "in 3 days"
	ExpiresAt       string // "Friday, 27 November 2026 at 14:05 UTC"
	ExpiresAtISO    string // for <time datetime>
}

func (p *Pages) describe(v *orgd.InvitationView) *invitation {
	return &invitation{
		Org: v.Organization.Name, InviterName: v.InviterName, InviterEmail: v.InviterEmail, Email: v.Email,
		Role: string(v.Role), RoleDescription: v.Role.Description(),
		ExpiresIn: orgd.ExpiresInWords(v.ExpiresAt, p.now()), ExpiresAt: orgd.TimeInWords(v.ExpiresAt),
		ExpiresAtISO: v.ExpiresAt.UTC().Format(time.RFC3339),
	}
}

// showInvitation answers GET /invitations/{token}: the invitation and its
// forms while it is pending, else the page of its state. It changes nothing.
func (p *Pages) showInvitation(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	if err := p.failures.Check(r); err != nil {
		return err
	}
	v, err := p.svc.ViewInvitation(r.Context(), token)
	if orgd.ErrorCode(err) == orgd.CodeInviteNotFound {
		p.failures.Fail(r) // guessing tokens is slow
	}
	if err != nil {
		return err
	}
	return p.showState(w, r, token, v)
}

// showState writes the page of an invitation's state: the invitation with
// its forms while pending (which sign in first when that is required), else
// what happened to it and what to do next. Revoked ones get here only when
// they were revoked because their address became a member's, still is one,
// and the invitation has not reached its expiry (see ViewInvitation,
// AddressIsMember): the page says so. Unknown tokens and other
// revoked ones never get here: ViewInvitation reports them as not found,
// and they share the "invalid" page.
func (p *Pages) showState(w http.ResponseWriter, r *http.Request, token string, v *orgd.InvitationView) error {
	httpx.AddLogAttrs(r.Context(), slog.String("invitation_id", v.ID), slog.String("invitation_state", string(v.State)))
	data := page{Invitation: p.describe(v), Token: token}
	switch v.State {
	case orgd.StatePending:
		data.SignIn, data.FormToken = p.requireSignIn, p.formToken(token)
		return p.render(w, http.StatusOK, "invitation", data)
	case orgd.StateExpired:
		return p.render(w, http.StatusGone, "expired", data)
	case orgd.StateAccepted:
		return p.render(w, http.StatusGone, "accepted", data)
	case orgd.StateDeclined:
		return p.render(w, http.StatusGone, "declined", data)
	case orgd.StateRevoked:
		if v.AddressIsMember {
			return p.showMember(w, http.StatusGone, token, v)
		}
	}
	return orgd.Internal("invitation page", fmt.Errorf("no page for the state %q", v.State))
}

// answerFailure writes the page for an accept or decline that the service
// refused: the page of the invitation's state as it is now (it may have
// changed since the form was shown), or the error.
func (p *Pages) answerFailure(w http.ResponseWriter, r *http.Request, token string, v *orgd.InvitationView, err error) error {
	if orgd.ErrorCode(err) == orgd.CodeAlreadyMember {
		return p.showMember(w, http.StatusConflict, token, v)
	}
	if orgd.ErrorKind(err) == orgd.KindInternal {
		return err
	}
	current, verr := p.svc.ViewInvitation(r.Context(), token)
	if verr != nil {
		return verr
	}
	if current.State == orgd.StatePending {
		return err
	}
	return p.showState(w, r, token, current)
}

// showMember writes the page that tells the invited address it is a member
// already, with the way onward that accepting takes (the accept redirect).
func (p *Pages) showMember(w http.ResponseWriter, status int, token string, v *orgd.InvitationView) error {
	return p.render(w, status, "member", page{Invitation: p.describe(v), Token: token, Onward: p.acceptRedirect})
}
