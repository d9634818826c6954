package orgd

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Role is an organization-scope role of the one catalog both surfaces share.
type Role string

const (
	RoleOwner        Role = "owner"
	RoleOrgAdmin     Role = "organization-admin"
	RoleBillingAdmin Role = "billing-admin"
	RoleContributor  Role = "contributor"
	RoleReader       Role = "reader"
)

// Roles lists the catalog, strongest first.
var Roles = []Role{RoleOwner, RoleOrgAdmin, RoleBillingAdmin, RoleContributor, RoleReader}

// PlatformAdminRole is the one platform-scope role orgd knows: it makes a user
// a platform administrator.
const PlatformAdminRole = "platform-admin"

// ParseRole returns the catalog role named s.
func ParseRole(s string) (Role, bool) {
	r := Role(s)
	return r, slices.Contains(Roles, r)
}

// rank orders roles; a member's displayed role is its strongest one.
func (r Role) rank() int {
	if i := slices.Index(Roles, r); i >= 0 {
		return len(Roles) - i
	}
	return 0
}

// Manages reports whether the role may manage members, invitations and settings.
func (r Role) Manages() bool { return r == RoleOwner || r == RoleOrgAdmin }

// Description says in a few words what the role may do, for people (emails,
// the invitation page); "" for a role outside the catalog.
func (r Role) Description() string {
	switch r {
	case RoleOwner:
		return "full control, including other owners"
	case RoleOrgAdmin:
		return "manages members, invitations and settings"
	case RoleBillingAdmin:
		return "manages billing contacts"
	case RoleContributor:
		return "creates and manages the organization's work"
	case RoleReader:
		return "can view the organization"
	}
	return ""
}

// RoleAssignments are the roles held by a member or promised by an
// invitation, in the shape of the Elastic Cloud API. They are stored in
// canonical form (see Canonical) so that they round-trip exactly, whatever
// order a client sent them in.
type RoleAssignments struct {
	Platform     []PlatformRoleAssignment `json:"platform,omitempty"`
	Organization []OrgRoleAssignment      `json:"organization,omitempty"`
	Deployment   []ScopedRoleAssignment   `json:"deployment,omitempty"`
	Project      ProjectRoleAssignments   `json:"project,omitzero"`
}

// PlatformRoleAssignment is a role with platform scope.
type PlatformRoleAssignment struct {
	RoleID string `json:"role_id"`
}

// OrgRoleAssignment is a role with organization scope.
type OrgRoleAssignment struct {
	RoleID         string `json:"role_id"`
	OrganizationID string `json:"organization_id"`
}

// ScopedRoleAssignment is a role over all or some deployments or projects of
// an organization. ResourceIDs are deployment or project ids.
type ScopedRoleAssignment struct {
	RoleID           string   `json:"role_id"`
	OrganizationID   string   `json:"organization_id"`
	All              bool     `json:"all,omitempty"`
	ResourceIDs      []string `json:"ids,omitempty"`
	ApplicationRoles []string `json:"application_roles,omitempty"`
}

// ProjectRoleAssignments groups project roles by project type.
type ProjectRoleAssignments struct {
	Elasticsearch []ScopedRoleAssignment `json:"elasticsearch,omitempty"`
	Observability []ScopedRoleAssignment `json:"observability,omitempty"`
	Security      []ScopedRoleAssignment `json:"security,omitempty"`
}

// IsZero reports whether no role is assigned.
func (ra RoleAssignments) IsZero() bool {
	return len(ra.Platform) == 0 && len(ra.Organization) == 0 && len(ra.Deployment) == 0 && ra.Project.isZero()
}

func (p ProjectRoleAssignments) isZero() bool {
	return len(p.Elasticsearch) == 0 && len(p.Observability) == 0 && len(p.Security) == 0
}

// OrgRoles returns the catalog roles the assignments grant in organization orgID.
func (ra RoleAssignments) OrgRoles(orgID string) []Role {
	var out []Role
	for _, a := range ra.Organization {
		if a.OrganizationID == orgID {
			if r, ok := ParseRole(a.RoleID); ok && !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// TopRole is the strongest organization role in orgID, or "" when there is none.
func (ra RoleAssignments) TopRole(orgID string) Role {
	var top Role
	for _, r := range ra.OrgRoles(orgID) {
		if r.rank() > top.rank() {
			top = r
		}
	}
	return top
}

// WithOrgRole returns a copy whose organization roles in orgID are exactly role.
func (ra RoleAssignments) WithOrgRole(orgID string, role Role) RoleAssignments {
	out := ra.Clone()
	out.Organization = slices.DeleteFunc(out.Organization, func(a OrgRoleAssignment) bool { return a.OrganizationID == orgID })
	out.Organization = append(out.Organization, OrgRoleAssignment{RoleID: string(role), OrganizationID: orgID})
	return out.Canonical()
}

// scopedLists returns pointers to every list of scoped assignments with the
// field name a client uses for it.
func (ra *RoleAssignments) scopedLists() []struct {
	name string
	list *[]ScopedRoleAssignment
} {
	return []struct {
		name string
		list *[]ScopedRoleAssignment
	}{
		{"deployment", &ra.Deployment},
		{"project.elasticsearch", &ra.Project.Elasticsearch},
		{"project.observability", &ra.Project.Observability},
		{"project.security", &ra.Project.Security},
	}
}

// Clone returns a copy that shares no slice with ra.
func (ra RoleAssignments) Clone() RoleAssignments {
	out := RoleAssignments{
		Platform:     slices.Clone(ra.Platform),
		Organization: slices.Clone(ra.Organization),
	}
	src := ra.scopedLists()
	for i, dst := range out.scopedLists() {
		for _, a := range *src[i].list {
			a.ResourceIDs = slices.Clone(a.ResourceIDs)
			a.ApplicationRoles = slices.Clone(a.ApplicationRoles)
			*dst.list = append(*dst.list, a)
		}
	}
	return out
}

// ForOrganization fills a missing organization_id with orgID and checks the
// assignments for an invitation or membership of orgID: every role names a
// role, organization roles come from the catalog, every assignment belongs to
// orgID, and `all` agrees with the id lists. It returns the canonical form.
func (ra RoleAssignments) ForOrganization(orgID string) (RoleAssignments, error) {
	out := ra.Clone()
	for i := range out.Organization {
		a := &out.Organization[i]
		field := fmt.Sprintf("role_assignments.organization[%d]", i)
		if a.OrganizationID == "" {
			a.OrganizationID = orgID
		}
		if a.OrganizationID != orgID {
			return RoleAssignments{}, FieldError(CodeInvalidData, field+".organization_id", "Role assignments must be scoped to organization %s.", orgID)
		}
		if _, ok := ParseRole(a.RoleID); !ok {
			return RoleAssignments{}, FieldError(CodeInvalidRole, field+".role_id", "Unknown organization role %q; the roles are %s.", a.RoleID, roleList())
		}
	}
	for _, s := range out.scopedLists() {
		for i := range *s.list {
			a := &(*s.list)[i]
			field := fmt.Sprintf("role_assignments.%s[%d]", s.name, i)
			if a.OrganizationID == "" {
				a.OrganizationID = orgID
			}
			if a.OrganizationID != orgID {
				return RoleAssignments{}, FieldError(CodeInvalidData, field+".organization_id", "Role assignments must be scoped to organization %s.", orgID)
			}
			if err := a.check(field); err != nil {
				return RoleAssignments{}, err
			}
		}
	}
	if err := checkPlatformRoles(out.Platform); err != nil {
		return RoleAssignments{}, err
	}
	return out.Canonical(), nil
}

func (a ScopedRoleAssignment) check(field string) error {
	if strings.TrimSpace(a.RoleID) == "" || len(a.RoleID) > 128 {
		return FieldError(CodeInvalidRole, field+".role_id", "A role_id of 1 to 128 characters is required.")
	}
	if a.All && len(a.ResourceIDs) > 0 {
		return FieldError(CodeInvalidData, field, "The ids must be absent when all is true.")
	}
	if !a.All && len(a.ResourceIDs) == 0 {
		return FieldError(CodeInvalidData, field, "Either all must be true or the ids must be given.")
	}
	return nil
}

func roleList() string {
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// Canonical sorts every list and removes duplicates, so that two sets of
// assignments that mean the same compare equal.
func (ra RoleAssignments) Canonical() RoleAssignments {
	out := ra.Clone()
	slices.SortFunc(out.Platform, func(a, b PlatformRoleAssignment) int { return strings.Compare(a.RoleID, b.RoleID) })
	out.Platform = slices.Compact(out.Platform)
	slices.SortFunc(out.Organization, func(a, b OrgRoleAssignment) int {
		return cmp.Or(strings.Compare(a.OrganizationID, b.OrganizationID), strings.Compare(a.RoleID, b.RoleID))
	})
	out.Organization = slices.Compact(out.Organization)
	for _, s := range out.scopedLists() {
		for i := range *s.list {
			a := &(*s.list)[i]
			a.ResourceIDs = sortedSet(a.ResourceIDs)
			a.ApplicationRoles = sortedSet(a.ApplicationRoles)
		}
		slices.SortFunc(*s.list, compareScoped)
		*s.list = slices.CompactFunc(*s.list, func(a, b ScopedRoleAssignment) bool { return compareScoped(a, b) == 0 })
	}
	return out.nilEmpty()
}

// Equal reports whether ra and other mean the same assignments.
func (ra RoleAssignments) Equal(other RoleAssignments) bool {
	return reflect.DeepEqual(ra.Canonical(), other.Canonical())
}

// nilEmpty turns empty lists into nil so that stored and compared forms agree.
func (ra RoleAssignments) nilEmpty() RoleAssignments {
	if len(ra.Platform) == 0 {
		ra.Platform = nil
	}
	if len(ra.Organization) == 0 {
		ra.Organization = nil
	}
	for _, s := range ra.scopedLists() {
		if len(*s.list) == 0 {
			*s.list = nil
		}
	}
	return ra
}

// compareScoped orders scoped assignments field by field, so that two
// compare equal only when they are the same (ids may hold any character).
func compareScoped(a, b ScopedRoleAssignment) int {
	all := func(a ScopedRoleAssignment) int {
		if a.All {
			return 1
		}
		return 0
	}
	return cmp.Or(strings.Compare(a.OrganizationID, b.OrganizationID), strings.Compare(a.RoleID, b.RoleID), cmp.Compare(all(a), all(b)),
		slices.Compare(a.ResourceIDs, b.ResourceIDs), slices.Compare(a.ApplicationRoles, b.ApplicationRoles))
}

func sortedSet(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// Merge returns the union of ra and add.
func (ra RoleAssignments) Merge(add RoleAssignments) RoleAssignments {
	out := ra.Clone()
	add = add.Clone()
	out.Platform = append(out.Platform, add.Platform...)
	out.Organization = append(out.Organization, add.Organization...)
	src := add.scopedLists()
	for i, dst := range out.scopedLists() {
		*dst.list = append(*dst.list, *src[i].list...)
	}
	return out.Canonical()
}

// Remove returns ra without the assignments in del. An assignment that is not
// held is ignored, so removing is idempotent.
func (ra RoleAssignments) Remove(del RoleAssignments) RoleAssignments {
	out := ra.Canonical()
	del = del.Canonical()
	out.Platform = slices.DeleteFunc(out.Platform, func(a PlatformRoleAssignment) bool { return slices.Contains(del.Platform, a) })
	out.Organization = slices.DeleteFunc(out.Organization, func(a OrgRoleAssignment) bool { return slices.Contains(del.Organization, a) })
	dels := del.scopedLists()
	for i, s := range out.scopedLists() {
		gone := *dels[i].list
		*s.list = slices.DeleteFunc(*s.list, func(a ScopedRoleAssignment) bool {
			return slices.ContainsFunc(gone, func(b ScopedRoleAssignment) bool { return compareScoped(a, b) == 0 })
		})
	}
	return out.nilEmpty()
}

// OrganizationIDs lists the organizations the assignments are scoped to.
func (ra RoleAssignments) OrganizationIDs() []string {
	var ids []string
	for _, a := range ra.Organization {
		ids = append(ids, a.OrganizationID)
	}
	for _, s := range ra.scopedLists() {
		for _, a := range *s.list {
			ids = append(ids, a.OrganizationID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// ScopedTo returns the part of the assignments scoped to orgID (platform
// roles excluded).
func (ra RoleAssignments) ScopedTo(orgID string) RoleAssignments {
	var out RoleAssignments
	for _, a := range ra.Organization {
		if a.OrganizationID == orgID {
			out.Organization = append(out.Organization, a)
		}
	}
	src := ra.scopedLists()
	for i, dst := range out.scopedLists() {
		for _, a := range *src[i].list {
			if a.OrganizationID == orgID {
				*dst.list = append(*dst.list, a)
			}
		}
	}
	return out.Canonical()
}

func checkPlatformRoles(list []PlatformRoleAssignment) error {
	for i, a := range list {
		if a.RoleID != PlatformAdminRole {
			return FieldError(CodeInvalidRole, fmt.Sprintf("role_assignments.platform[%d].role_id", i), "Unknown platform role %q; the only platform role is %q.", a.RoleID, PlatformAdminRole)
		}
	}
	return nil
}
