package store

import (
	"context"
	"database/sql"

	"github.com/orgd/orgd"
)

const orgColumns = `o.id, o.slug, o.name, o.description, o.is_active, o.disk_usage_alerts, o.notification_domains,
	o.billing_contacts, o.operational_contacts, o.allow_external_invites, o.allowed_email_domains, o.max_members,
	o.created_at, o.updated_at`

func scanOrganization(row scanner) (*orgd.Organization, error) {
	var o orgd.Organization
	var notif, billing, ops, allowed string
	var created, updated int64
	err := row.Scan(&o.ID, &o.Slug, &o.Name, &o.Description, &o.IsActive, &o.DiskUsageAlerts, &notif,
		&billing, &ops, &o.AllowExternalInvites, &allowed, &o.MaxMembers, &created, &updated)
	if err != nil {
		return nil, noRows(err)
	}
	for _, f := range []struct {
		text string
		dst  *[]string
	}{{notif, &o.NotificationDomains}, {billing, &o.BillingContacts}, {ops, &o.OperationalContacts}, {allowed, &o.AllowedEmailDomains}} {
		if err := fromJSON(f.text, f.dst); err != nil {
			return nil, err
		}
	}
	o.CreatedAt, o.UpdatedAt = fromUs(created), fromUs(updated)
	return &o, nil
}

func (t *tx) InsertOrganization(ctx context.Context, o *orgd.Organization) error {
	_, err := t.exec(ctx, `INSERT INTO organizations (id, slug, name, description, is_active, disk_usage_alerts,
		notification_domains, billing_contacts, operational_contacts, allow_external_invites, allowed_email_domains,
		max_members, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		o.ID, o.Slug, o.Name, o.Description, o.IsActive, o.DiskUsageAlerts, listJSON(o.NotificationDomains),
		listJSON(o.BillingContacts), listJSON(o.OperationalContacts), o.AllowExternalInvites, listJSON(o.AllowedEmailDomains),
		o.MaxMembers, us(o.CreatedAt), us(o.UpdatedAt))
	return err
}

func (t *tx) UpdateOrganization(ctx context.Context, o *orgd.Organization) error {
	return t.execOne(ctx, `UPDATE organizations SET name = $2, description = $3, is_active = $4, disk_usage_alerts = $5,
		notification_domains = $6, billing_contacts = $7, operational_contacts = $8, allow_external_invites = $9,
		allowed_email_domains = $10, max_members = $11, updated_at = $12 WHERE id = $1`,
		o.ID, o.Name, o.Description, o.IsActive, o.DiskUsageAlerts, listJSON(o.NotificationDomains),
		listJSON(o.BillingContacts), listJSON(o.OperationalContacts), o.AllowExternalInvites, listJSON(o.AllowedEmailDomains),
		o.MaxMembers, us(o.UpdatedAt))
}

func (t *tx) OrganizationByID(ctx context.Context, id string) (*orgd.Organization, error) {
	return scanOrganization(t.q.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations o WHERE o.id = $1`, id))
}

func (t *tx) OrganizationBySlug(ctx context.Context, slug string) (*orgd.Organization, error) {
	return scanOrganization(t.q.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations o WHERE o.slug = $1`, slug))
}

func (t *tx) LockOrganization(ctx context.Context, id string) error {
	if t.d.lockOrgRow == "" || !t.inTx {
		return nil
	}
	var got string
	return noRows(t.q.QueryRowContext(ctx, `SELECT o.id FROM organizations o WHERE o.id = $1`+t.d.lockOrgRow, id).Scan(&got))
}

func (t *tx) ListOrganizations(ctx context.Context) ([]*orgd.Organization, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT `+orgColumns+` FROM organizations o ORDER BY o.created_at, o.id`)
	return collect(rows, err, scanOrganization)
}

func (t *tx) ListUserOrganizations(ctx context.Context, userID string) ([]*orgd.Organization, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT `+orgColumns+` FROM organizations o
		JOIN memberships m ON m.org_id = o.id WHERE m.user_id = $1 ORDER BY o.created_at, o.id`, userID)
	return collect(rows, err, scanOrganization)
}

func (t *tx) OrganizationForUser(ctx context.Context, bySlug bool, ref, userID string, lock bool) (*orgd.Organization, *orgd.Membership, error) {
	col := "o.id"
	if bySlug {
		col = "o.slug"
	}
	suffix := ""
	if lock && t.inTx {
		suffix = t.d.lockOrgRow
	}
	// One round trip: every request about an organization starts here.
	row := t.q.QueryRowContext(ctx, `SELECT `+orgColumns+`, m.user_id, m.role, m.role_assignments, m.member_since,
		u.email, u.name, u.platform_admin
		FROM organizations o LEFT JOIN memberships m ON m.org_id = o.id AND m.user_id = $2
		LEFT JOIN users u ON u.id = m.user_id WHERE `+col+` = $1`+suffix, ref, userID)
	var userIDCol, role, roles, email, name sql.NullString
	var since sql.NullInt64
	var admin sql.NullBool
	org, err := scanOrganization(moreColumns{row: row, after: []any{&userIDCol, &role, &roles, &since, &email, &name, &admin}})
	if err != nil {
		return nil, nil, err
	}
	if !userIDCol.Valid {
		return org, nil, nil
	}
	m := &orgd.Membership{OrgID: org.ID, UserID: userIDCol.String, Role: orgd.Role(role.String), MemberSince: fromUs(since.Int64),
		Email: email.String, Name: name.String, PlatformAdmin: admin.Bool}
	if err := decodeRoles(roles.String, &m.Roles); err != nil {
		return nil, nil, err
	}
	return org, m, nil
}
