package orgd

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

const (
	minOrgName = 2
	maxOrgName = 30
	maxSlug    = 40
	maxListLen = 100 // entries of a contact or domain list
)

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

// checkOrgName applies the one rule for organization names of both surfaces:
// 2 to 30 characters after trimming, no control characters.
func checkOrgName(name string) (string, error) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if n < minOrgName || n > maxOrgName || !PlainText(name) {
		return "", FieldError(CodeOrgInvalidName, "name", "Name must be between 2 and 30 characters.")
	}
	return name, nil
}

// checkSlug applies the rule for organization keys: 2 to 40 lower-case
// letters, digits and inner hyphens, never the shape of an id, and never
// "invitations" (the Elastic path /organizations/invitations/{token}).
func checkSlug(slug string) error {
	if len(slug) < 2 || len(slug) > maxSlug || !slugPattern.MatchString(slug) || uuidPattern.MatchString(slug) || slug == "invitations" {
		return FieldError(CodeOrgInvalidSlug, "slug", "The organization key must be 2 to 40 lower-case letters, digits and hyphens, starting and ending with a letter or digit.")
	}
	return nil
}

// Slugify derives an organization key from a name.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= maxSlug {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// CreateOrganization creates an organization. Only platform administrators
// (and `orgd admin`) may. Errors: organization.invalid_name,
// organization.invalid_slug, organization.slug_already_exists.
func (s *Service) CreateOrganization(ctx context.Context, p *Principal, name, slug string) (*Organization, error) {
	if !p.PlatformAdmin() {
		return nil, Errorf(KindForbidden, CodeOrgInvalidAccess, "Only platform administrators may create organizations.")
	}
	name, err := checkOrgName(name)
	if err != nil {
		return nil, err
	}
	if slug == "" {
		slug = Slugify(name)
	}
	if err := checkSlug(slug); err != nil {
		return nil, err
	}
	now := s.clock()
	org := &Organization{
		ID: uuid.Must(uuid.NewV7()).String(), Slug: slug, Name: name, IsActive: true,
		DiskUsageAlerts: true, AllowExternalInvites: true, MaxMembers: s.limits.DefaultMaxMembers,
		CreatedAt: now, UpdatedAt: now,
	}
	err = s.write(ctx, "create organization", func(tx Tx) error {
		err := tx.InsertOrganization(ctx, org)
		if errors.Is(err, ErrConflict) {
			return FieldError(CodeOrgSlugTaken, "slug", "An organization with the key %q already exists.", slug)
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, p, org.ID, AuditOrgCreated, "organization", org.ID, map[string]any{"name": org.Name, "slug": org.Slug}, nil)
	})
	if err != nil {
		return nil, err
	}
	return org, nil
}

// OrganizationView is an organization as one caller sees it.
type OrganizationView struct {
	*Organization
	Caller      *Membership // nil for platform administrators who are not members
	CallerRole  Role        // the role the caller acts with
	MemberCount int
	Owners      []*Membership
}

// CanManageMembers reports whether the caller may manage members and invitations.
func (v *OrganizationView) CanManageMembers() bool { return may(v.CallerRole, ActManageMembers) }

// GetOrganization returns an organization to a member or a platform
// administrator. Errors: organization.not_found.
func (s *Service) GetOrganization(ctx context.Context, p *Principal, ref string) (*OrganizationView, error) {
	var v *OrganizationView
	err := s.read(ctx, "get organization", func(tx Tx) error {
		org, m, err := access(ctx, tx, p, ref, ActRead)
		if err != nil {
			return err
		}
		v, err = s.view(ctx, tx, p, org, m)
		return err
	})
	return v, err
}

func (s *Service) view(ctx context.Context, tx Tx, p *Principal, org *Organization, m *Membership) (*OrganizationView, error) {
	n, err := tx.CountMembers(ctx, org.ID)
	if err != nil {
		return nil, err
	}
	owners, err := tx.ListMembersWithRole(ctx, org.ID, RoleOwner)
	if err != nil {
		return nil, err
	}
	return &OrganizationView{Organization: org, Caller: m, CallerRole: callerRole(p, m), MemberCount: n, Owners: owners}, nil
}

// ListOrganizations lists the organizations available to the caller: its
// own, or every organization for a platform administrator.
func (s *Service) ListOrganizations(ctx context.Context, p *Principal) ([]*Organization, error) {
	var orgs []*Organization
	err := s.read(ctx, "list organizations", func(tx Tx) error {
		var err error
		if p.PlatformAdmin() {
			orgs, err = tx.ListOrganizations(ctx)
		} else {
			orgs, err = tx.ListUserOrganizations(ctx, p.userID())
		}
		return err
	})
	return orgs, err
}

// ListMyOrganizations lists the organizations the caller is a member of, as
// the caller sees them.
func (s *Service) ListMyOrganizations(ctx context.Context, p *Principal) ([]*OrganizationView, error) {
	var out []*OrganizationView
	err := s.read(ctx, "list my organizations", func(tx Tx) error {
		orgs, err := tx.ListUserOrganizations(ctx, p.userID())
		if err != nil {
			return err
		}
		for _, org := range orgs {
			m, err := tx.Membership(ctx, org.ID, p.userID())
			if err != nil {
				return err
			}
			v, err := s.view(ctx, tx, p, org, m)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// OrganizationUpdate names the fields to change; nil leaves a field as it is
// and an empty list clears one.
type OrganizationUpdate struct {
	Name                 *string
	Description          *string
	DiskUsageAlerts      *bool
	NotificationDomains  *[]string
	BillingContacts      *[]string
	OperationalContacts  *[]string
	AllowExternalInvites *bool
	AllowedEmailDomains  *[]string
	MaxMembers           *int
}

// UpdateOrganization changes an organization. Organization admins and owners
// may change everything but max_members, which only platform administrators
// may change (sending the value it has is no change); billing admins may
// change billing contacts only. An update of no
// field is one of the settings that changes nothing: those who may change
// them get the organization as it is. The audit event names the fields whose
// value changed; an update that changes no value (of no field, or of values
// the organization already has) writes and records nothing, as setting a
// member's role to the one it has.
// Errors: organization.not_found, organization.invalid_access,
// organization.invalid_name, root.invalid_data.
func (s *Service) UpdateOrganization(ctx context.Context, p *Principal, ref string, u OrganizationUpdate) (*OrganizationView, error) {
	var v *OrganizationView
	err := s.write(ctx, "update organization", func(tx Tx) error {
		// Locked: the update writes back every field, and two updates of
		// different fields that read the row side by side would each put
		// back the field the other changed (and record changes that the
		// other then undid); and with the caller's role as it is once the
		// lock is held, not as it was before a demotion it waited for.
		org, m, err := accessLocked(ctx, tx, p, ref, ActRead)
		if err != nil {
			return err
		}
		role := callerRole(p, m)
		need := func(act Action) error {
			if act == ActSetMemberLimit && !p.PlatformAdmin() {
				return Errorf(KindForbidden, CodeOrgInvalidAccess, "Only platform administrators may change max_members.")
			}
			if !p.PlatformAdmin() && !may(role, act) {
				return errInvalidAccess
			}
			return nil
		}
		before := *org
		if err := applyOrganizationUpdate(org, u, need); err != nil {
			return err
		}
		if fields := changedFields(&before, org); len(fields) > 0 {
			org.UpdatedAt = s.clock()
			if err := tx.UpdateOrganization(ctx, org); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, p, org.ID, AuditOrgUpdated, "organization", org.ID, map[string]any{"fields": fields}, nil); err != nil {
				return err
			}
		}
		v, err = s.view(ctx, tx, p, org, m)
		return err
	})
	return v, err
}

// changedFields names the fields whose values differ between two states of
// an organization, for the audit log.
func changedFields(before, after *Organization) []string {
	var out []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{"name", before.Name == after.Name}, {"description", before.Description == after.Description},
		{"default_disk_usage_alerts_enabled", before.DiskUsageAlerts == after.DiskUsageAlerts},
		{"notifications_allowed_email_domains", slices.Equal(before.NotificationDomains, after.NotificationDomains)},
		{"billing_contacts", slices.Equal(before.BillingContacts, after.BillingContacts)},
		{"operational_contacts", slices.Equal(before.OperationalContacts, after.OperationalContacts)},
		{"allow_external_invites", before.AllowExternalInvites == after.AllowExternalInvites},
		{"allowed_email_domains", slices.Equal(before.AllowedEmailDomains, after.AllowedEmailDomains)},
		{"max_members", before.MaxMembers == after.MaxMembers},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}

func applyOrganizationUpdate(org *Organization, u OrganizationUpdate, need func(Action) error) error {
	settings := u.Name != nil || u.Description != nil || u.DiskUsageAlerts != nil || u.NotificationDomains != nil ||
		u.OperationalContacts != nil || u.AllowExternalInvites != nil || u.AllowedEmailDomains != nil
	// An update of nothing needs the settings' permission, so that a
	// member who may change nothing is refused whatever the body.
	if settings || u == (OrganizationUpdate{}) {
		if err := need(ActUpdateSettings); err != nil {
			return err
		}
	}
	if u.BillingContacts != nil {
		if err := need(ActUpdateBilling); err != nil {
			return err
		}
	}
	if u.MaxMembers != nil {
		// Sending back the limit the organization has (an Organization
		// read and sent back) changes no limit: it needs only the
		// settings' permission.
		act := ActSetMemberLimit
		if *u.MaxMembers == org.MaxMembers {
			act = ActUpdateSettings
		}
		if err := need(act); err != nil {
			return err
		}
		if *u.MaxMembers < 0 {
			return FieldError(CodeInvalidData, "max_members", "max_members must be 0 (no limit) or more.")
		}
		org.MaxMembers = *u.MaxMembers
	}
	if u.Name != nil {
		name, err := checkOrgName(*u.Name)
		if err != nil {
			return err
		}
		org.Name = name
	}
	if u.Description != nil {
		d := strings.TrimSpace(*u.Description)
		if utf8.RuneCountInString(d) > 1000 || !multilineText(d) {
			return FieldError(CodeInvalidData, "description", "The description must be at most 1000 characters, without control characters other than line breaks and tabs.")
		}
		org.Description = d
	}
	if u.DiskUsageAlerts != nil {
		org.DiskUsageAlerts = *u.DiskUsageAlerts
	}
	if u.AllowExternalInvites != nil {
		org.AllowExternalInvites = *u.AllowExternalInvites
	}
	var err error
	set := func(dst *[]string, src *[]string, field string, check func(string, string) (string, error)) {
		if err != nil || src == nil {
			return
		}
		*dst, err = checkList(*src, field, check)
	}
	set(&org.NotificationDomains, u.NotificationDomains, "notifications_allowed_email_domains", checkDomainEntry)
	set(&org.AllowedEmailDomains, u.AllowedEmailDomains, "allowed_email_domains", checkDomainEntry)
	set(&org.BillingContacts, u.BillingContacts, "billing_contacts", checkContact)
	set(&org.OperationalContacts, u.OperationalContacts, "operational_contacts", checkContact)
	return err
}

func checkList(in []string, field string, check func(string, string) (string, error)) ([]string, error) {
	if len(in) > maxListLen {
		return nil, FieldError(CodeInvalidData, field, "At most %d entries are allowed.", maxListLen)
	}
	out := []string{}
	for i, v := range in {
		norm, err := check(v, fmt.Sprintf("%s[%d]", field, i))
		if err != nil {
			return nil, err
		}
		if !containsString(out, norm) {
			out = append(out, norm)
		}
	}
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func checkDomainEntry(v, field string) (string, error) {
	d, err := checkDomain(strings.TrimSpace(v))
	if err != nil {
		return "", FieldError(CodeInvalidData, field, "%q is not a valid domain: %v.", v, err)
	}
	return d, nil
}

func checkContact(v, field string) (string, error) {
	e, err := ParseEmail(v)
	if err != nil {
		return "", FieldError(CodeInvalidData, field, "%q is not a valid email address: %v.", v, err)
	}
	return e.Address, nil
}
