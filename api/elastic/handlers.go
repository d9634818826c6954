package elastic

import (
	"net/http"
	"strconv"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/httpx"
)

func principal(r *http.Request) *orgd.Principal { return httpx.PrincipalFrom(r.Context()) }

func (a *API) decode(w http.ResponseWriter, r *http.Request, dst any, allowEmpty bool) error {
	return httpx.DecodeJSON(w, r, dst, a.maxBodyBytes, allowEmpty)
}

func (a *API) listOrganizations(w http.ResponseWriter, r *http.Request) error {
	orgs, err := a.svc.ListOrganizations(r.Context(), principal(r))
	if err != nil {
		return err
	}
	out := OrganizationList{Organizations: make([]Organization, 0, len(orgs))}
	for _, o := range orgs {
		out.Organizations = append(out.Organizations, organizationOut(o))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getOrganization(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.GetOrganization(r.Context(), principal(r), r.PathValue("organization_id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, organizationOut(v.Organization))
	return nil
}

func (a *API) updateOrganization(w http.ResponseWriter, r *http.Request) error {
	var req OrganizationRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	v, err := a.svc.UpdateOrganization(r.Context(), principal(r), r.PathValue("organization_id"), orgd.OrganizationUpdate{
		Name: req.Name, DiskUsageAlerts: req.DefaultDiskUsageAlertsEnabled, NotificationDomains: req.NotificationsAllowedEmailDomains,
		BillingContacts: req.BillingContacts, OperationalContacts: req.OperationalContacts,
	})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, organizationOut(v.Organization))
	return nil
}

// listInvitations lists open invitations, expired ones included (with
// expired: true) until an admin deletes or refreshes them.
func (a *API) listInvitations(w http.ResponseWriter, r *http.Request) error {
	ctx, p := r.Context(), principal(r)
	orgID := r.PathValue("organization_id")
	// Every open invitation unless the caller pages: Elastic's clients read
	// the whole list.
	filter, page, err := httpx.InvitationQuery(r, httpx.ElasticQuery, orgd.OpenStates, 0)
	if err != nil {
		return err
	}
	org, invs, next, err := a.svc.FilterInvitations(ctx, p, orgID, filter, page)
	if err != nil {
		return err
	}
	now := a.now()
	out := OrganizationInvitations{Invitations: make([]OrganizationInvitation, 0, len(invs))}
	for _, inv := range invs {
		token, err := a.svc.InvitationToken(inv)
		if err != nil {
			return err
		}
		out.Invitations = append(out.Invitations, invitationOut(inv, token, org, now))
	}
	out.NextPage = next
	httpx.SetNextPage(w, r, next)
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) createInvitations(w http.ResponseWriter, r *http.Request) error {
	var req OrganizationInvitationRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	ctx, p := r.Context(), principal(r)
	orgID := r.PathValue("organization_id")
	in := orgd.InviteRequest{Emails: req.Emails, Roles: rolesIn(req.RoleAssignments), RefreshExisting: true, SendEmail: true}
	if req.ExpiresIn != nil {
		in.ExpiresIn = *req.ExpiresIn
	}
	org, issued, err := a.svc.CreateInvitations(ctx, p, orgID, in)
	if err != nil {
		return err
	}
	now := a.now()
	out := OrganizationInvitations{Invitations: make([]OrganizationInvitation, 0, len(issued))}
	for _, inv := range issued {
		out.Invitations = append(out.Invitations, invitationOut(inv.Invitation, inv.Token, org, now))
	}
	httpx.WriteJSON(w, http.StatusCreated, out)
	return nil
}

func (a *API) deleteInvitations(w http.ResponseWriter, r *http.Request) error {
	tokens := httpx.SplitCSV(r.PathValue("invitation_tokens"))
	if err := a.svc.RevokeInvitationsByToken(r.Context(), principal(r), r.PathValue("organization_id"), tokens); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, emptyResponse{})
	return nil
}

// tokenFailed counts a look-up of an unknown token against the address.
func (a *API) tokenFailed(r *http.Request, err error) error {
	if orgd.ErrorCode(err) == orgd.CodeInviteNotFound {
		a.failures.Fail(r)
	}
	return err
}

func (a *API) getInvitation(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("invitation_token")
	inv, org, err := a.svc.GetInvitationByToken(r.Context(), principal(r), token)
	if err != nil {
		return a.tokenFailed(r, err)
	}
	httpx.WriteJSON(w, http.StatusOK, invitationOut(inv, token, org, a.now()))
	return nil
}

func (a *API) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.svc.AcceptInvitationByToken(r.Context(), principal(r), r.PathValue("invitation_token")); err != nil {
		return a.tokenFailed(r, err)
	}
	httpx.WriteJSON(w, http.StatusOK, emptyResponse{})
	return nil
}

func (a *API) listMembers(w http.ResponseWriter, r *http.Request) error {
	filter, page, err := httpx.MemberQuery(r, httpx.ElasticQuery, 0)
	if err != nil {
		return err
	}
	members, next, err := a.svc.FilterMembers(r.Context(), principal(r), r.PathValue("organization_id"), filter, page)
	if err != nil {
		return err
	}
	out := OrganizationMemberships{Members: make([]OrganizationMembership, 0, len(members)), NextPage: next}
	for _, m := range members {
		out.Members = append(out.Members, membershipOut(m))
	}
	httpx.SetNextPage(w, r, next)
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) deleteMembers(w http.ResponseWriter, r *http.Request) error {
	ids := httpx.SplitCSV(r.PathValue("user_ids"))
	if len(ids) == 0 {
		return orgd.FieldError(orgd.CodeInvalidData, "user_ids", "No user id was supplied.")
	}
	force, err := boolQuery(r, "force")
	if err != nil {
		return err
	}
	if _, err := a.svc.RemoveMembers(r.Context(), principal(r), r.PathValue("organization_id"), ids, force); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, emptyResponse{})
	return nil
}

func (a *API) addRoleAssignments(w http.ResponseWriter, r *http.Request) error {
	return a.changeRoleAssignments(w, r, false)
}

func (a *API) removeRoleAssignments(w http.ResponseWriter, r *http.Request) error {
	return a.changeRoleAssignments(w, r, true)
}

func (a *API) changeRoleAssignments(w http.ResponseWriter, r *http.Request, remove bool) error {
	var req RoleAssignments
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	force, err := boolQuery(r, "force")
	if err != nil {
		return err
	}
	if err := a.svc.ChangeRoleAssignments(r.Context(), principal(r), r.PathValue("user_id"), rolesIn(&req), remove, force); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, emptyResponse{})
	return nil
}

func boolQuery(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, orgd.FieldError(orgd.CodeInvalidData, name, "%s must be true or false.", name)
	}
	return b, nil
}
