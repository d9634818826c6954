package dreadnode

import (
	"net/http"
	"strings"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/httpx"
)

func (a *API) health(w http.ResponseWriter, r *http.Request) error {
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.User == nil {
		return errAuthentication
	}
	httpx.WriteJSON(w, http.StatusOK, userOut(p.User))
	return nil
}

func (a *API) listUserOrganizations(w http.ResponseWriter, r *http.Request) error {
	views, err := a.svc.ListMyOrganizations(r.Context(), principal(r))
	if err != nil {
		return err
	}
	out := make([]Organization, 0, len(views))
	for _, v := range views {
		out = append(out, organizationOut(v))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getOrganization(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.GetOrganization(r.Context(), principal(r), r.PathValue("org"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, organizationOut(v))
	return nil
}

// updateOrganization changes the display name and settings: an absent
// field is left as it is, and null clears the description (the one nullable
// field of Organization) and is refused for the others, whose nulls mean
// nothing (no limit is max_members 0, no domain []).
func (a *API) updateOrganization(w http.ResponseWriter, r *http.Request) error {
	b, err := a.readBody(w, r, false)
	if err != nil {
		return err
	}
	u := orgd.OrganizationUpdate{
		Name:                 b.OptionalString("name"),
		Description:          nullable(b, "description", b.OptionalString),
		AllowExternalInvites: b.OptionalBool("allow_external_invites"),
		AllowedEmailDomains:  b.OptionalStrings("allowed_email_domains"),
		MaxMembers:           b.OptionalInt("max_members"),
	}
	if err := b.Err(); err != nil {
		return err
	}
	v, err := a.svc.UpdateOrganization(r.Context(), principal(r), r.PathValue("org"), u)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, organizationOut(v))
	return nil
}

func (a *API) listMembers(w http.ResponseWriter, r *http.Request) error {
	filter, page, err := httpx.MemberQuery(r, httpx.SlugQuery, defaultPage)
	if err != nil {
		return err
	}
	members, next, err := a.svc.FilterMembers(r.Context(), principal(r), r.PathValue("org"), filter, page)
	if err != nil {
		return inQuery(err)
	}
	out := make([]Member, 0, len(members))
	for _, m := range members {
		out = append(out, memberOut(m))
	}
	httpx.SetNextPage(w, r, next)
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) updateMember(w http.ResponseWriter, r *http.Request) error {
	b, err := a.readBody(w, r, false)
	if err != nil {
		return err
	}
	role := b.Enum("role", settableRoles, "", true)
	if err := b.Err(); err != nil {
		return err
	}
	m, err := a.svc.SetMemberRole(r.Context(), principal(r), r.PathValue("org"), r.PathValue("user_id"), orgd.Role(role))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, memberOut(m))
	return nil
}

func (a *API) removeMember(w http.ResponseWriter, r *http.Request) error {
	removed, err := a.svc.RemoveMembers(r.Context(), principal(r), r.PathValue("org"), []string{r.PathValue("user_id")}, false)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, MemberRemoval{UserID: removed[0].UserID, OrgID: removed[0].OrgID})
	return nil
}

// invite creates one invitation. An open invitation to the address is a
// conflict: the caller resends it instead.
func (a *API) invite(w http.ResponseWriter, r *http.Request) error {
	b, err := a.readBody(w, r, false)
	if err != nil {
		return err
	}
	email, _ := b.String("email", true)
	role := b.Enum("role", settableRoles, string(orgd.RoleReader), false)
	sendEmail := b.Bool("send_email", true, false)
	expiresIn := b.ExpiresIn("expires_in")
	if err := b.Err(); err != nil {
		return err
	}
	_, issued, err := a.svc.CreateInvitations(r.Context(), principal(r), r.PathValue("org"), orgd.InviteRequest{
		Emails: []string{email}, ExpiresIn: expiresIn, SendEmail: sendEmail,
		Roles: orgd.RoleAssignments{Organization: []orgd.OrgRoleAssignment{{RoleID: role}}},
	})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, a.issuedOut(issued[0], sendEmail))
	return nil
}

// issuedOut shows a created or resent invitation, with its accept link when
// the caller delivers it.
func (a *API) issuedOut(inv *orgd.IssuedInvitation, sendEmail bool) Invitation {
	out := invitationOut(inv.Invitation, a.now())
	if !sendEmail {
		out.AcceptURL = a.publicURL + "/invitations/" + inv.Token
	}
	return out
}

// defaultPage is the page size of the slug lists when the caller names none.
const defaultPage = 100

// listInvitations lists a page of invitations (pending by default); the
// next page is announced in a Link header.
func (a *API) listInvitations(w http.ResponseWriter, r *http.Request) error {
	filter, page, err := httpx.InvitationQuery(r, httpx.SlugQuery, []orgd.InvitationState{orgd.StatePending}, defaultPage)
	if err != nil {
		return err
	}
	_, invs, next, err := a.svc.FilterInvitations(r.Context(), principal(r), r.PathValue("org"), filter, page)
	if err != nil {
		return inQuery(err)
	}
	now := a.now()
	out := make([]Invitation, 0, len(invs))
	for _, inv := range invs {
		out = append(out, invitationOut(inv, now))
	}
	httpx.SetNextPage(w, r, next)
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) revokeInvitation(w http.ResponseWriter, r *http.Request) error {
	inv, err := a.svc.RevokeInvitation(r.Context(), principal(r), r.PathValue("org"), r.PathValue("invitation_id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, invitationOut(inv, a.now()))
	return nil
}

// resendInvitation issues a new token and expiry and delivers the
// invitation again (or hands back its link with send_email false).
func (a *API) resendInvitation(w http.ResponseWriter, r *http.Request) error {
	b, err := a.readBody(w, r, true)
	if err != nil {
		return err
	}
	sendEmail := b.Bool("send_email", true, false)
	expiresIn := b.ExpiresIn("expires_in")
	if err := b.Err(); err != nil {
		return err
	}
	inv, err := a.svc.ResendInvitation(r.Context(), principal(r), r.PathValue("org"), r.PathValue("invitation_id"), expiresIn, sendEmail)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, a.issuedOut(inv, sendEmail))
	return nil
}

func (a *API) listMyInvitations(w http.ResponseWriter, r *http.Request) error {
	invs, err := a.svc.ListMyInvitations(r.Context(), principal(r))
	if err != nil {
		return err
	}
	now := a.now()
	out := make([]Invitation, 0, len(invs))
	for _, inv := range invs {
		out = append(out, invitationOut(inv, now))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// respond accepts (answering the new member) or declines (answering the
// declined invitation) an invitation of the caller's.
func (a *API) respond(w http.ResponseWriter, r *http.Request) error {
	b, err := a.readBody(w, r, false)
	if err != nil {
		return err
	}
	accept := b.Bool("accept", false, true)
	if err := b.Err(); err != nil {
		return err
	}
	m, inv, err := a.svc.RespondToInvitation(r.Context(), principal(r), strings.TrimSpace(r.PathValue("invitation_id")), accept)
	if err != nil {
		return err
	}
	if accept {
		httpx.WriteJSON(w, http.StatusOK, memberOut(m))
		return nil
	}
	httpx.WriteJSON(w, http.StatusOK, invitationOut(inv, a.now()))
	return nil
}
