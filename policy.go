package orgd

import (
	"context"
	"errors"
	"regexp"
	"strings"
)

// Principal is who acts: a user authenticated by a credential, or orgd's own
// administration command (System), which acts as a platform administrator.
type Principal struct {
	User   *User
	KeyID  string // the API key used, if any
	System bool
}

// SystemPrincipal is the principal of `orgd admin`.
var SystemPrincipal = &Principal{System: true}

// PlatformAdmin reports whether p may act on every organization.
func (p *Principal) PlatformAdmin() bool {
	return p != nil && (p.System || p.User != nil && p.User.PlatformAdmin)
}

// signedIn reports whether p is someone: a user or orgd itself.
func (p *Principal) signedIn() bool {
	return p != nil && (p.User != nil || p.System)
}

func (p *Principal) userID() string {
	if p == nil || p.User == nil {
		return ""
	}
	return p.User.ID
}

// Action is something done to an organization that needs a permission.
type Action int

const (
	ActRead              Action = iota // see the organization and its members
	ActUpdateSettings                  // name, description, notification and invitation settings
	ActUpdateBilling                   // billing contacts
	ActSetMemberLimit                  // max_members
	ActManageInvitations               // list, create, refresh, resend and revoke invitations
	ActManageMembers                   // change roles and remove members
	ActReadAudit                       // read the audit log
	ActManageWebhooks                  // register, list and delete webhook endpoints
)

// may is the permission table of orgd, the one place that says which role
// may do what. Platform administrators may do everything.
func may(role Role, act Action) bool {
	switch act {
	case ActRead:
		return true
	case ActUpdateSettings, ActManageInvitations, ActManageMembers, ActReadAudit, ActManageWebhooks:
		return role.Manages()
	case ActUpdateBilling:
		return role.Manages() || role == RoleBillingAdmin
	case ActSetMemberLimit:
		return false
	}
	return false
}

// mayGrant reports whether a member with role may give or take away target:
// only owners manage owners.
func mayGrant(role, target Role) bool {
	if target == RoleOwner {
		return role == RoleOwner
	}
	return role.Manages()
}

// mayHandle reports whether a member with role may refresh, resend, revoke
// or see the token of inv: those who may grant what it promises.
func mayHandle(role Role, inv *Invitation) bool {
	return mayGrant(role, inv.Roles.TopRole(inv.OrgID))
}

// A reference to an organization is its id or its slug. Slugs can never be
// shaped like ids, so a reference is never ambiguous.
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// canonicalID is the form in which orgd stores and compares an id: a UUID
// in lower case, since UUIDs are read without regard to case (RFC 9562) and
// clients such as Swift's Foundation write them in upper case. Anything
// else is returned as it is. Every id of an organization, user, member,
// invitation, webhook or API key that a caller names in a path passes
// through it; an audit log's "before" and a list's cursor are read as
// orgd wrote them.
func canonicalID(ref string) string {
	id, _ := parseID(ref)
	return id
}

// parseID is canonicalID, and whether ref is shaped like an id at all (a
// reference that is not can name no id, only a slug).
func parseID(ref string) (string, bool) {
	if !uuidPattern.MatchString(ref) {
		return ref, false
	}
	return strings.ToLower(ref), true
}

// access is the one authorization check of orgd. It loads the organization
// named by ref and the caller's membership (nil for platform administrators
// who are not members) and checks act. A caller outside the organization
// learns nothing: a missing organization and one it may not see look alike.
// A member that lacks the permission gets organization.invalid_access.
func access(ctx context.Context, tx Tx, p *Principal, ref string, act Action) (*Organization, *Membership, error) {
	return accessLocking(ctx, tx, p, ref, act, false)
}

// accessLocking is access that, with lock, also locks the organization in
// the query that reads it, as Tx.LockOrganization does. The lock is taken
// before the check: a caller refused holds it only until its transaction
// rolls back.
func accessLocking(ctx context.Context, tx Tx, p *Principal, ref string, act Action, lock bool) (*Organization, *Membership, error) {
	org, m, err := organizationFor(ctx, tx, p, ref, lock)
	if err != nil {
		return nil, nil, err
	}
	if err := allowed(p, m, act); err != nil {
		return nil, nil, err
	}
	return org, m, nil
}

// organizationFor loads the organization named by ref (locked, with lock)
// and the caller's membership in it (nil if none), deciding nothing.
func organizationFor(ctx context.Context, tx Tx, p *Principal, ref string, lock bool) (*Organization, *Membership, error) {
	if !p.signedIn() {
		return nil, nil, errBadCredentials
	}
	ref, isID := parseID(ref)
	org, m, err := tx.OrganizationForUser(ctx, !isID, ref, p.userID(), lock)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, errOrgNotFound
	}
	return org, m, err
}

// accessLocked is access for the changes that must not act on what a
// concurrent change of the organization has just replaced: the changes of
// members that can lower the number of owners or of members able to manage
// the organization (role changes, removals), and updates of the
// organization, which write back every field. It locks the organization
// and reads the caller's membership again under the lock; the change then
// reads its targets, so that of two such changes the later decides on what
// the earlier committed. The locking query alone would not do: at READ
// COMMITTED (PostgreSQL) a query that waited for a row lock returns the
// locked row but the rows joined to it as they were when the query began,
// so a caller demoted or removed by the transaction it waited for would
// act with its old role.
func accessLocked(ctx context.Context, tx Tx, p *Principal, ref string, act Action) (*Organization, *Membership, error) {
	org, m, err := organizationFor(ctx, tx, p, ref, true)
	if err != nil {
		return nil, nil, err
	}
	if p.User != nil {
		m, err = tx.Membership(ctx, org.ID, p.User.ID)
		if errors.Is(err, ErrNotFound) {
			m = nil
		} else if err != nil {
			return nil, nil, err
		}
	}
	if err := allowed(p, m, act); err != nil {
		return nil, nil, err
	}
	return org, m, nil
}

// allowed checks act for a caller whose membership is m (nil if none).
func allowed(p *Principal, m *Membership, act Action) error {
	if p.PlatformAdmin() {
		return nil
	}
	if m == nil {
		return errOrgNotFound
	}
	if !may(m.EffectiveRole(), act) {
		return errInvalidAccess
	}
	return nil
}

// accessUser is access for acting on a user across organizations (the
// role assignments of /users/{id}). It loads the user and the caller's
// memberships in the organizations the two share (nil for platform
// administrators, who may act on every user). A caller who shares no
// organization with the user learns nothing: an unknown user and one
// outside the caller's organizations look alike
// (role_assignments.invalid_target_user_id), whatever the request. A
// caller who shares organizations with the user, and so sees the user
// among their members, but whose role allows act in none of them gets
// role_assignments.unauthorized_role_assignments.
func accessUser(ctx context.Context, tx Tx, p *Principal, userID string, act Action) (*User, []*Membership, error) {
	if !p.signedIn() {
		return nil, nil, errBadCredentials
	}
	target, err := tx.UserByID(ctx, canonicalID(userID))
	if errors.Is(err, ErrNotFound) {
		return nil, nil, errInvalidTarget
	}
	if err != nil {
		return nil, nil, err
	}
	if p.PlatformAdmin() {
		return target, nil, nil
	}
	shared, err := tx.SharedMemberships(ctx, p.userID(), target.ID)
	if err != nil {
		return nil, nil, err
	}
	if len(shared) == 0 {
		return nil, nil, errInvalidTarget
	}
	for _, m := range shared {
		if may(m.EffectiveRole(), act) {
			return target, shared, nil
		}
	}
	return nil, nil, errRolesForbidden("You are not authorised to add/remove the specified RoleAssignments.")
}

// callerRole is the role the caller acts with in an organization: owner for
// platform administrators.
func callerRole(p *Principal, m *Membership) Role {
	if p.PlatformAdmin() {
		return RoleOwner
	}
	if m == nil {
		return ""
	}
	return m.EffectiveRole()
}
