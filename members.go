package orgd

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

var (
	errMembershipNotFound = &Error{Kind: KindNotFound, Code: CodeMembershipMissing, Message: "Organization membership not found."}
	errInvalidTarget      = &Error{Kind: KindInvalid, Code: CodeInvalidTarget, Message: "The target user Id is invalid."}
)

// ListMembers lists an organization's members, oldest first. Every member
// may. Errors: organization.not_found.
func (s *Service) ListMembers(ctx context.Context, p *Principal, orgRef string) ([]*Membership, error) {
	out, _, err := s.FilterMembers(ctx, p, orgRef, MemberFilter{}, Page{})
	return out, err
}

// FilterMembers lists one page of an organization's members that match f,
// in the order they joined, and the cursor of the next page ("" at the
// end). Every member may. Errors: as ListMembers, and root.invalid_data
// for a bad limit or cursor.
func (s *Service) FilterMembers(ctx context.Context, p *Principal, orgRef string, f MemberFilter, page Page) ([]*Membership, string, error) {
	after, err := page.check()
	if err != nil {
		return nil, "", err
	}
	f.after, f.limit = after, page.Limit
	var out []*Membership
	err = s.read(ctx, "list members", func(tx Tx) error {
		org, _, err := access(ctx, tx, p, orgRef, ActRead)
		if err != nil {
			return err
		}
		out, err = tx.ListMembers(ctx, org.ID, f)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out, next := nextCursor(out, page.Limit, func(m *Membership) position { return position{m.MemberSince, m.UserID} })
	return out, next, nil
}

// GetMember returns one member of an organization to a member.
// Errors: organization.not_found, organization.membership_not_found.
func (s *Service) GetMember(ctx context.Context, p *Principal, orgRef, userID string) (*Membership, error) {
	var out *Membership
	err := s.read(ctx, "get member", func(tx Tx) error {
		org, _, err := access(ctx, tx, p, orgRef, ActRead)
		if err != nil {
			return err
		}
		out, err = membership(ctx, tx, org.ID, userID)
		return err
	})
	return out, err
}

func membership(ctx context.Context, tx Tx, orgID, userID string) (*Membership, error) {
	m, err := tx.Membership(ctx, orgID, canonicalID(userID))
	if errors.Is(err, ErrNotFound) {
		return nil, errMembershipNotFound
	}
	return m, err
}

// AddMember makes an existing user a member with one organization role.
// Owners and admins may; only owners may add owners. max_members applies.
// An open invitation of the organization to the user's verified address is
// revoked (see revokeInvitationToMember), and does not count as a seat
// besides the membership.
// Errors: organization.not_found, organization.invalid_access, user.not_found,
// organization.user_organization_already_belongs, organization.member_limit_exceeded.
func (s *Service) AddMember(ctx context.Context, p *Principal, orgRef, userRef string, role Role) (*Membership, error) {
	var m *Membership
	err := s.write(ctx, "add member", func(tx Tx) error {
		org, caller, err := access(ctx, tx, p, orgRef, ActManageMembers)
		if err != nil {
			return err
		}
		if !mayGrant(callerRole(p, caller), role) {
			return errRolesForbidden(fmt.Sprintf("You are not authorised to grant the role %s.", role))
		}
		u, err := findUser(ctx, tx, userRef)
		if err != nil {
			return err
		}
		if org.MaxMembers > 0 {
			if err := tx.LockOrganization(ctx, org.ID); err != nil {
				return err
			}
		}
		// Before the membership is written: see revokeInvitationToMember.
		revoked, err := s.revokeInvitationToMember(ctx, tx, u, org.ID)
		if err != nil {
			return err
		}
		now := s.clock()
		roles := RoleAssignments{}.WithOrgRole(org.ID, role)
		m = &Membership{OrgID: org.ID, UserID: u.ID, Roles: roles, Role: role, MemberSince: now, Email: u.Email, Name: u.Name}
		if err := tx.InsertMembership(ctx, m); errors.Is(err, ErrConflict) {
			return errAlreadyMember
		} else if err != nil {
			return err
		}
		added := change{action: AuditMemberAdded, targetType: "member", targetID: u.ID,
			details: map[string]any{"email": u.Email, "role": role}, subject: memberChange{Membership: m}}
		if err := s.record(ctx, tx, p, org.ID, append([]change{added}, revoked...)...); err != nil {
			return err
		}
		// Seats are counted last: a member hears that it belongs already
		// whatever the limit, and the invitation just revoked holds no
		// seat besides the membership. A refusal rolls everything back.
		if org.MaxMembers > 0 {
			c, err := tx.CountForLimits(ctx, org.ID, LimitQuery{Seats: true, Now: now})
			if err != nil {
				return err
			}
			c.Members-- // the one this request adds
			if err := checkSeats(org, c, 1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// SetMemberRole makes role the member's one organization role, keeping its
// other assignments. Owners and admins may; only owners may make or unmake
// owners; the last owner and the last member able to manage the
// organization cannot be demoted.
// Errors: organization.not_found, organization.invalid_access,
// organization.membership_not_found, role_assignments.unauthorized_role_assignments,
// organization.last_owner, organization.last_admin.
func (s *Service) SetMemberRole(ctx context.Context, p *Principal, orgRef, userID string, role Role) (*Membership, error) {
	var m *Membership
	err := s.write(ctx, "set member role", func(tx Tx) error {
		org, caller, err := accessLocked(ctx, tx, p, orgRef, ActManageMembers)
		if err != nil {
			return err
		}
		if m, err = membership(ctx, tx, org.ID, userID); err != nil {
			return err
		}
		return s.changeRoles(ctx, tx, p, caller, m, m.Roles.WithOrgRole(org.ID, role), false)
	})
	return m, err
}

// ChangeRoleAssignments adds (or, with remove, takes away) role assignments
// of a user in the organizations they name; an assignment without an
// organization applies to the user's only organization among the caller's.
// The caller must manage members of an organization it shares with the
// user (see accessUser), whatever the request, an empty one included.
// Platform roles need a platform administrator. force, honoured for
// platform administrators only, lets the last owner or admin be demoted.
// Errors: role_assignments.invalid_target_user_id (no such user, a user
// who shares no organization with the caller, a named organization the
// caller cannot see, or the user is not a member of it),
// role_assignments.unauthorized_role_assignments,
// role_assignments.invalid_role, root.invalid_data, organization.last_owner,
// organization.last_admin.
func (s *Service) ChangeRoleAssignments(ctx context.Context, p *Principal, userID string, ra RoleAssignments, remove, force bool) error {
	if len(ra.Platform) > 0 {
		defer s.keys.clear() // after the commit: the cache holds users
	}
	return s.write(ctx, "change role assignments", func(tx Tx) error {
		target, shared, err := accessUser(ctx, tx, p, userID, ActManageMembers)
		if err != nil {
			return err
		}
		if len(ra.Platform) > 0 {
			if !p.PlatformAdmin() {
				return errRolesForbidden("You are not authorised to add/remove the specified RoleAssignments: platform roles need a platform administrator.")
			}
			if err := checkPlatformRoles(ra.Platform); err != nil {
				return err
			}
			if err := s.setPlatformAdmin(ctx, tx, p, target, !remove); err != nil {
				return err
			}
		}
		byOrg, err := s.groupByOrganization(ctx, tx, p, target, shared, ra)
		if err != nil {
			return err
		}
		// Locked in the order of their ids: two changes of several
		// organizations do not wait for each other in a circle.
		for _, orgID := range sortedKeys(byOrg) {
			org, caller, err := accessLocked(ctx, tx, p, orgID, ActManageMembers)
			if err != nil {
				switch ErrorKind(err) {
				case KindInternal:
					return err
				case KindNotFound:
					// The caller cannot see the organization, so for it the
					// target is in none of its organizations.
					return errInvalidTarget
				}
				return errRolesForbidden("You are not authorised to add/remove the specified RoleAssignments.")
			}
			m, err := tx.Membership(ctx, org.ID, target.ID)
			if errors.Is(err, ErrNotFound) {
				return errInvalidTarget
			}
			if err != nil {
				return err
			}
			part, err := byOrg[orgID].ForOrganization(org.ID)
			if err != nil {
				return err
			}
			next := m.Roles.Merge(part)
			if remove {
				next = m.Roles.Remove(part)
			}
			if err := s.changeRoles(ctx, tx, p, caller, m, next, force); err != nil {
				return err
			}
		}
		return nil
	})
}

// groupByOrganization splits organization-scoped assignments by the
// organization they name. Those without one go to the target's only
// organization among those the caller can see: for platform
// administrators every organization of the target, for others those of
// shared, the caller's memberships in the target's organizations.
func (s *Service) groupByOrganization(ctx context.Context, tx Tx, p *Principal, target *User, shared []*Membership, ra RoleAssignments) (map[string]RoleAssignments, error) {
	out := map[string]RoleAssignments{}
	ids := ra.OrganizationIDs()
	for _, id := range ids {
		if id != "" {
			out[id] = ra.ScopedTo(id)
		}
	}
	if !slices.Contains(ids, "") {
		return out, nil
	}
	var seen []string
	if p.PlatformAdmin() {
		orgs, err := tx.ListUserOrganizations(ctx, target.ID)
		if err != nil {
			return nil, err
		}
		for _, org := range orgs {
			seen = append(seen, org.ID)
		}
	} else {
		for _, m := range shared {
			seen = append(seen, m.OrgID)
		}
	}
	switch len(seen) {
	case 0:
		return nil, errInvalidTarget
	case 1:
		out[seen[0]] = out[seen[0]].Merge(ra.ScopedTo(""))
		return out, nil
	}
	return nil, FieldError(CodeInvalidData, "role_assignments", "Every role assignment must name its organization_id: the user belongs to several of your organizations.")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// changeRoles is the one way a member's roles change: owners are managed by
// owners only, and the organization keeps an owner and an admin. A change
// to the roles the member already has writes and records nothing. The
// organization must be locked (accessLocked) before caller and m
// are read, so that next and the counts are made from the roles as they
// are, not as they were before another change committed.
func (s *Service) changeRoles(ctx context.Context, tx Tx, p *Principal, caller, m *Membership, next RoleAssignments, force bool) error {
	role := callerRole(p, caller)
	nextRole := next.TopRole(m.OrgID)
	if !mayGrant(role, m.Role) || !mayGrant(role, nextRole) {
		return errRolesForbidden("Only owners may change the roles of owners or make owners.")
	}
	if m.Roles.Equal(next) {
		// Nothing changes: nothing is written, recorded or announced.
		return nil
	}
	if !(force && p.PlatformAdmin()) {
		if err := checkManagersRemain(ctx, tx, m.OrgID, []roleChange{{from: m.Role, to: nextRole}}); err != nil {
			return err
		}
	}
	from := m.Role
	m.Roles, m.Role = next, nextRole
	if err := tx.UpdateMembershipRoles(ctx, m); err != nil {
		return err
	}
	return s.audit(ctx, tx, p, m.OrgID, AuditMemberRolesChanged, "member", m.UserID, map[string]any{"from": from, "to": nextRole},
		memberChange{Membership: m, previousRole: &from})
}

// RemoveMembers removes members, all or none. Members may remove
// themselves (leave); removing others needs an owner or admin, and removing
// an owner needs an owner. The last owner and the last member able to
// manage the organization stay unless a platform administrator forces it.
// Errors: organization.not_found, organization.invalid_access, user.not_found,
// organization.membership_not_found, role_assignments.unauthorized_role_assignments,
// organization.last_owner, organization.last_admin.
func (s *Service) RemoveMembers(ctx context.Context, p *Principal, orgRef string, userIDs []string, force bool) ([]*Membership, error) {
	var removed []*Membership
	err := s.write(ctx, "remove members", func(tx Tx) error {
		org, caller, err := accessLocked(ctx, tx, p, orgRef, ActRead)
		if err != nil {
			return err
		}
		role := callerRole(p, caller)
		var changes []roleChange
		for _, id := range userIDs {
			id = canonicalID(id)
			if slices.ContainsFunc(removed, func(m *Membership) bool { return m.UserID == id }) {
				continue
			}
			if _, err := tx.UserByID(ctx, id); errors.Is(err, ErrNotFound) {
				return errUserNotFound
			} else if err != nil {
				return err
			}
			m, err := membership(ctx, tx, org.ID, id)
			if err != nil {
				return err
			}
			if id != p.userID() {
				if !may(role, ActManageMembers) {
					return errInvalidAccess
				}
				if !mayGrant(role, m.Role) {
					return errRolesForbidden("Only owners may remove owners.")
				}
			}
			removed = append(removed, m)
			changes = append(changes, roleChange{from: m.Role, removed: true})
		}
		if !(force && p.PlatformAdmin()) {
			if err := checkManagersRemain(ctx, tx, org.ID, changes); err != nil {
				return err
			}
		}
		for _, m := range removed {
			if err := tx.DeleteMembership(ctx, org.ID, m.UserID); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, p, org.ID, AuditMemberRemoved, "member", m.UserID, map[string]any{"email": m.Email, "role": m.Role, "forced": force && p.PlatformAdmin()},
				memberChange{Membership: m}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}

type roleChange struct {
	from, to Role
	removed  bool
}

// checkManagersRemain refuses changes that would leave an organization that
// has an owner without one, or one that has a member able to manage it
// without any.
func checkManagersRemain(ctx context.Context, tx Tx, orgID string, changes []roleChange) error {
	owners, err := tx.CountMembersWithRole(ctx, orgID, RoleOwner)
	if err != nil {
		return err
	}
	managers, err := tx.CountMembersWithRole(ctx, orgID, RoleOwner, RoleOrgAdmin)
	if err != nil {
		return err
	}
	o, mg := owners, managers
	for _, c := range changes {
		if c.from == RoleOwner {
			o--
		}
		if c.from.Manages() {
			mg--
		}
		if !c.removed {
			if c.to == RoleOwner {
				o++
			}
			if c.to.Manages() {
				mg++
			}
		}
	}
	if owners > 0 && o <= 0 {
		return &Error{Kind: KindConflict, Code: CodeLastOwner, Message: "The organization's last owner cannot be removed or demoted; make another member an owner first."}
	}
	if managers > 0 && mg <= 0 {
		return &Error{Kind: KindConflict, Code: CodeLastAdmin, Message: "The organization's last member able to manage it cannot be removed or demoted; give another member that role first."}
	}
	return nil
}
