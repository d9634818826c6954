package dreadnode

import (
	"strings"
	"time"

	"github.com/orgd/orgd"
)

// Organization is an organization as the caller sees it.
type Organization struct {
	ID                   string     `json:"id"`
	Name                 string     `json:"name"`
	Key                  string     `json:"key"`
	Description          *string    `json:"description"`
	IsActive             bool       `json:"is_active"`
	AllowExternalInvites bool       `json:"allow_external_invites"`
	AllowedEmailDomains  []string   `json:"allowed_email_domains"`
	MaxMembers           int        `json:"max_members"`
	MemberCount          int        `json:"member_count"`
	CanManageMembers     bool       `json:"can_manage_members"`
	Owners               []OrgOwner `json:"owners"`
	CreatedAt            string     `json:"created_at"`
	UpdatedAt            string     `json:"updated_at"`
}

// OrgOwner is an owner of an organization.
type OrgOwner struct {
	UserID string  `json:"user_id"`
	Email  string  `json:"email"`
	Name   *string `json:"name"`
}

// Member is an organization member.
type Member struct {
	ID           string  `json:"id"` // the user id
	UserID       string  `json:"user_id"`
	OrgID        string  `json:"org_id"`
	EmailAddress string  `json:"email_address"`
	Username     *string `json:"username"`
	Role         string  `json:"role"`
	JoinedAt     string  `json:"joined_at"`
}

// Invitation is an invitation. It never carries the token; AcceptURL is
// set once, on a create or resend made with send_email false.
type Invitation struct {
	ID             string  `json:"id"`
	OrgID          string  `json:"org_id"`
	OrgKey         string  `json:"org_key"`
	OrgName        string  `json:"org_name"`
	Email          string  `json:"email"`
	Role           string  `json:"role"`
	Status         string  `json:"status"`
	InvitedBy      *string `json:"invited_by"`
	InvitedByEmail *string `json:"invited_by_email"`
	CreatedAt      string  `json:"created_at"`
	ExpiresAt      string  `json:"expires_at"`
	RespondedAt    *string `json:"responded_at"`
	EmailStatus    string  `json:"email_status"`
	EmailError     *string `json:"email_error"`
	AcceptURL      string  `json:"accept_url,omitempty"`
}

// User is the caller.
type User struct {
	ID              string  `json:"id"`
	EmailAddress    string  `json:"email_address"`
	Username        string  `json:"username"`
	FullName        *string `json:"full_name"`
	IsPlatformAdmin bool    `json:"is_platform_admin"`
	CreatedAt       string  `json:"created_at"`
}

// MemberRemoval answers the removal of a member. orgd never deletes a user
// with its last membership, so UserDeleted is always false.
type MemberRemoval struct {
	UserID      string `json:"user_id"`
	OrgID       string `json:"org_id"`
	UserDeleted bool   `json:"user_deleted"`
}

// settableRoles are the roles this surface sets; it shows the other two
// roles of the catalog as they are.
var settableRoles = []string{string(orgd.RoleOwner), string(orgd.RoleContributor), string(orgd.RoleReader)}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// username is a user's name, or the local part of the address when the user
// has no name.
func username(name, email string) string {
	if name != "" {
		return name
	}
	local, _, _ := strings.Cut(email, "@")
	return local
}

func organizationOut(v *orgd.OrganizationView) Organization {
	o := v.Organization
	out := Organization{
		ID: o.ID, Name: o.Name, Key: o.Slug, Description: optional(o.Description), IsActive: o.IsActive,
		AllowExternalInvites: o.AllowExternalInvites, AllowedEmailDomains: nonNil(o.AllowedEmailDomains),
		MaxMembers: o.MaxMembers, MemberCount: v.MemberCount, CanManageMembers: v.CanManageMembers(),
		Owners: make([]OrgOwner, 0, len(v.Owners)), CreatedAt: timestamp(o.CreatedAt), UpdatedAt: timestamp(o.UpdatedAt),
	}
	for _, m := range v.Owners {
		out.Owners = append(out.Owners, OrgOwner{UserID: m.UserID, Email: m.Email, Name: optional(m.Name)})
	}
	return out
}

func memberOut(m *orgd.Membership) Member {
	return Member{
		ID: m.UserID, UserID: m.UserID, OrgID: m.OrgID, EmailAddress: m.Email, Username: optional(username(m.Name, m.Email)),
		Role: string(m.EffectiveRole()), JoinedAt: timestamp(m.MemberSince),
	}
}

func invitationOut(inv *orgd.Invitation, now time.Time) Invitation {
	role := inv.Roles.TopRole(inv.OrgID)
	if role == "" {
		role = orgd.RoleReader
	}
	out := Invitation{
		ID: inv.ID, OrgID: inv.OrgID, OrgKey: inv.OrgSlug, OrgName: inv.OrgName, Email: inv.Email, Role: string(role),
		Status: string(inv.State(now)), InvitedBy: optional(inv.InviterID), InvitedByEmail: optional(inv.InviterEmail),
		CreatedAt: timestamp(inv.CreatedAt), ExpiresAt: timestamp(inv.ExpiresAt),
		EmailStatus: string(inv.EmailStatus), EmailError: optional(inv.EmailError),
	}
	if !inv.RespondedAt.IsZero() {
		r := timestamp(inv.RespondedAt)
		out.RespondedAt = &r
	}
	return out
}

func userOut(u *orgd.User) User {
	return User{ID: u.ID, EmailAddress: u.Email, Username: username(u.Name, u.Email), FullName: optional(u.Name),
		IsPlatformAdmin: u.PlatformAdmin, CreatedAt: timestamp(u.CreatedAt)}
}
