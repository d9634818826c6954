package elastic

import (
	"time"

	"github.com/orgd/orgd"
)

// The wire types below follow the Swagger definitions of the Elastic Cloud
// API (cloud-sdk-go v1.25.0). Required fields are always written; lists are
// written as [] rather than null.

// Organization is the Elastic `Organization`.
type Organization struct {
	ID                               string   `json:"id"`
	Name                             string   `json:"name"`
	DefaultDiskUsageAlertsEnabled    bool     `json:"default_disk_usage_alerts_enabled"`
	NotificationsAllowedEmailDomains []string `json:"notifications_allowed_email_domains"`
	BillingContacts                  []string `json:"billing_contacts"`
	OperationalContacts              []string `json:"operational_contacts"`
}

// OrganizationList is the Elastic `OrganizationList`.
type OrganizationList struct {
	Organizations []Organization `json:"organizations"`
}

// OrganizationRequest is the Elastic `OrganizationRequest`. A null or absent
// field is left as it is; an empty list clears one.
type OrganizationRequest struct {
	Name                             *string   `json:"name"`
	DefaultDiskUsageAlertsEnabled    *bool     `json:"default_disk_usage_alerts_enabled"`
	NotificationsAllowedEmailDomains *[]string `json:"notifications_allowed_email_domains"`
	BillingContacts                  *[]string `json:"billing_contacts"`
	OperationalContacts              *[]string `json:"operational_contacts"`
}

// OrganizationInvitation is the Elastic `OrganizationInvitation`.
type OrganizationInvitation struct {
	Token           string          `json:"token"`
	Email           string          `json:"email"`
	CreatedAt       string          `json:"created_at"`
	ExpiresAt       string          `json:"expires_at"`
	Expired         bool            `json:"expired"`
	AcceptedAt      string          `json:"accepted_at,omitempty"`
	Organization    Organization    `json:"organization"`
	RoleAssignments RoleAssignments `json:"role_assignments"`
	// orgd's additions: the state of the invitation's email (not_requested,
	// queued, sent, failed, logged) and why it failed. Elastic's clients
	// ignore fields they do not know.
	EmailStatus string `json:"email_status"`
	EmailError  string `json:"email_error,omitempty"`
}

// OrganizationInvitations is the Elastic `OrganizationInvitations`.
// NextPage is orgd's addition: the cursor of the next page when the caller
// asked for pages (?limit=, ?cursor=).
type OrganizationInvitations struct {
	Invitations []OrganizationInvitation `json:"invitations"`
	NextPage    string                   `json:"next_page,omitempty"`
}

// OrganizationInvitationRequest is the Elastic `OrganizationInvitationRequest`.
type OrganizationInvitationRequest struct {
	Emails          []string         `json:"emails"`
	ExpiresIn       *string          `json:"expires_in"`
	RoleAssignments *RoleAssignments `json:"role_assignments"`
}

// OrganizationMembership is the Elastic `OrganizationMembership`.
type OrganizationMembership struct {
	OrganizationID  string          `json:"organization_id"`
	UserID          string          `json:"user_id"`
	Name            string          `json:"name"`
	Email           string          `json:"email"`
	MemberSince     string          `json:"member_since"`
	RoleAssignments RoleAssignments `json:"role_assignments"`
}

// OrganizationMemberships is the Elastic `OrganizationMemberships`, with
// orgd's NextPage as on invitations.
type OrganizationMemberships struct {
	Members  []OrganizationMembership `json:"members"`
	NextPage string                   `json:"next_page,omitempty"`
}

// RoleAssignments is the Elastic `RoleAssignments`. Clients send null for
// every list they do not use; null and absent mean the same.
type RoleAssignments struct {
	Platform     []PlatformRoleAssignment     `json:"platform,omitempty"`
	Organization []OrganizationRoleAssignment `json:"organization,omitempty"`
	Deployment   []DeploymentRoleAssignment   `json:"deployment,omitempty"`
	Project      *ProjectRoleAssignments      `json:"project,omitempty"`
}

// PlatformRoleAssignment is the Elastic `PlatformRoleAssignment`.
type PlatformRoleAssignment struct {
	RoleID string `json:"role_id"`
}

// OrganizationRoleAssignment is the Elastic `OrganizationRoleAssignment`;
// a missing organization_id means the organization in context.
type OrganizationRoleAssignment struct {
	RoleID         string `json:"role_id"`
	OrganizationID string `json:"organization_id"`
}

// DeploymentRoleAssignment is the Elastic `DeploymentRoleAssignment`.
type DeploymentRoleAssignment struct {
	RoleID           string   `json:"role_id"`
	OrganizationID   string   `json:"organization_id"`
	All              *bool    `json:"all,omitempty"`
	DeploymentIDs    []string `json:"deployment_ids,omitempty"`
	ApplicationRoles []string `json:"application_roles,omitempty"`
}

// ProjectRoleAssignments is the Elastic `ProjectRoleAssignments`.
type ProjectRoleAssignments struct {
	Elasticsearch []ProjectRoleAssignment `json:"elasticsearch,omitempty"`
	Observability []ProjectRoleAssignment `json:"observability,omitempty"`
	Security      []ProjectRoleAssignment `json:"security,omitempty"`
}

// ProjectRoleAssignment is the Elastic `ProjectRoleAssignment`.
type ProjectRoleAssignment struct {
	RoleID           string   `json:"role_id"`
	OrganizationID   string   `json:"organization_id"`
	All              *bool    `json:"all,omitempty"`
	ProjectIDs       []string `json:"project_ids,omitempty"`
	ApplicationRoles []string `json:"application_roles,omitempty"`
}

// BasicFailedReply is the Elastic error body.
type BasicFailedReply struct {
	Errors []BasicFailedReplyElement `json:"errors"`
}

// BasicFailedReplyElement is one error of a BasicFailedReply.
type BasicFailedReplyElement struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Fields  []string `json:"fields,omitempty"`
}

// emptyResponse is the Elastic `EmptyResponse`: `{}`.
type emptyResponse struct{}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

func organizationOut(o *orgd.Organization) Organization {
	return Organization{
		ID: o.ID, Name: o.Name, DefaultDiskUsageAlertsEnabled: o.DiskUsageAlerts,
		NotificationsAllowedEmailDomains: nonNil(o.NotificationDomains),
		BillingContacts:                  nonNil(o.BillingContacts),
		OperationalContacts:              nonNil(o.OperationalContacts),
	}
}

func membershipOut(m *orgd.Membership) OrganizationMembership {
	ra := m.Roles
	if m.PlatformAdmin {
		ra.Platform = []orgd.PlatformRoleAssignment{{RoleID: orgd.PlatformAdminRole}}
	}
	return OrganizationMembership{
		OrganizationID: m.OrgID, UserID: m.UserID, Name: m.Name, Email: m.Email,
		MemberSince: timestamp(m.MemberSince), RoleAssignments: rolesOut(ra),
	}
}

func invitationOut(inv *orgd.Invitation, token string, org *orgd.Organization, now time.Time) OrganizationInvitation {
	out := OrganizationInvitation{
		Token: token, Email: inv.Email, CreatedAt: timestamp(inv.CreatedAt), ExpiresAt: timestamp(inv.ExpiresAt),
		Expired: inv.State(now) == orgd.StateExpired, Organization: organizationOut(org), RoleAssignments: rolesOut(inv.Roles),
		EmailStatus: string(inv.EmailStatus), EmailError: inv.EmailError,
	}
	if inv.Status == orgd.InvitationAccepted {
		out.AcceptedAt = timestamp(inv.RespondedAt)
	}
	return out
}

func rolesOut(ra orgd.RoleAssignments) RoleAssignments {
	var out RoleAssignments
	for _, a := range ra.Platform {
		out.Platform = append(out.Platform, PlatformRoleAssignment(a))
	}
	for _, a := range ra.Organization {
		out.Organization = append(out.Organization, OrganizationRoleAssignment(a))
	}
	for _, a := range ra.Deployment {
		all := a.All
		out.Deployment = append(out.Deployment, DeploymentRoleAssignment{RoleID: a.RoleID, OrganizationID: a.OrganizationID,
			All: &all, DeploymentIDs: a.ResourceIDs, ApplicationRoles: a.ApplicationRoles})
	}
	if p := ra.Project; len(p.Elasticsearch)+len(p.Observability)+len(p.Security) > 0 {
		out.Project = &ProjectRoleAssignments{Elasticsearch: projectOut(p.Elasticsearch), Observability: projectOut(p.Observability), Security: projectOut(p.Security)}
	}
	return out
}

func projectOut(list []orgd.ScopedRoleAssignment) []ProjectRoleAssignment {
	var out []ProjectRoleAssignment
	for _, a := range list {
		all := a.All
		out = append(out, ProjectRoleAssignment{RoleID: a.RoleID, OrganizationID: a.OrganizationID,
			All: &all, ProjectIDs: a.ResourceIDs, ApplicationRoles: a.ApplicationRoles})
	}
	return out
}

// rolesIn converts wire role assignments to the domain's; a nil pointer is
// no assignment.
func rolesIn(ra *RoleAssignments) orgd.RoleAssignments {
	if ra == nil {
		return orgd.RoleAssignments{}
	}
	var out orgd.RoleAssignments
	for _, a := range ra.Platform {
		out.Platform = append(out.Platform, orgd.PlatformRoleAssignment(a))
	}
	for _, a := range ra.Organization {
		out.Organization = append(out.Organization, orgd.OrgRoleAssignment(a))
	}
	for _, a := range ra.Deployment {
		out.Deployment = append(out.Deployment, orgd.ScopedRoleAssignment{RoleID: a.RoleID, OrganizationID: a.OrganizationID,
			All: a.All != nil && *a.All, ResourceIDs: a.DeploymentIDs, ApplicationRoles: a.ApplicationRoles})
	}
	if p := ra.Project; p != nil {
		out.Project = orgd.ProjectRoleAssignments{Elasticsearch: projectIn(p.Elasticsearch), Observability: projectIn(p.Observability), Security: projectIn(p.Security)}
	}
	return out
}

func projectIn(list []ProjectRoleAssignment) []orgd.ScopedRoleAssignment {
	var out []orgd.ScopedRoleAssignment
	for _, a := range list {
		out = append(out, orgd.ScopedRoleAssignment{RoleID: a.RoleID, OrganizationID: a.OrganizationID,
			All: a.All != nil && *a.All, ResourceIDs: a.ProjectIDs, ApplicationRoles: a.ApplicationRoles})
	}
	return out
}
