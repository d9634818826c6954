package store

import (
	"context"

	"github.com/orgd/orgd"
)

const memberColumns = `m.org_id, m.user_id, m.role, m.role_assignments, m.member_since, u.email, u.name, u.platform_admin`

func scanMembership(row scanner) (*orgd.Membership, error) {
	var m orgd.Membership
	var role, roles string
	var since int64
	if err := row.Scan(&m.OrgID, &m.UserID, &role, &roles, &since, &m.Email, &m.Name, &m.PlatformAdmin); err != nil {
		return nil, noRows(err)
	}
	if err := decodeRoles(roles, &m.Roles); err != nil {
		return nil, err
	}
	m.Role, m.MemberSince = orgd.Role(role), fromUs(since)
	return &m, nil
}

func (t *tx) InsertMembership(ctx context.Context, m *orgd.Membership) error {
	_, err := t.exec(ctx, `INSERT INTO memberships (org_id, user_id, role, role_assignments, member_since)
		VALUES ($1, $2, $3, $4, $5)`, m.OrgID, m.UserID, string(m.Role), toJSON(m.Roles), us(m.MemberSince))
	return err
}

func (t *tx) Membership(ctx context.Context, orgID, userID string) (*orgd.Membership, error) {
	return scanMembership(t.q.QueryRowContext(ctx, `SELECT `+memberColumns+` FROM memberships m
		JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND m.user_id = $2`, orgID, userID))
}

func (t *tx) SharedMemberships(ctx context.Context, userID, otherID string) ([]*orgd.Membership, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT `+memberColumns+` FROM memberships m
		JOIN users u ON u.id = m.user_id
		JOIN memberships other ON other.org_id = m.org_id AND other.user_id = $2
		WHERE m.user_id = $1 ORDER BY m.org_id`, userID, otherID)
	return collect(rows, err, scanMembership)
}

func (t *tx) UpdateMembershipRoles(ctx context.Context, m *orgd.Membership) error {
	return t.execOne(ctx, `UPDATE memberships SET role = $3, role_assignments = $4 WHERE org_id = $1 AND user_id = $2`,
		m.OrgID, m.UserID, string(m.Role), toJSON(m.Roles))
}

func (t *tx) DeleteMembership(ctx context.Context, orgID, userID string) error {
	return t.execOne(ctx, `DELETE FROM memberships WHERE org_id = $1 AND user_id = $2`, orgID, userID)
}

func (t *tx) ListMembers(ctx context.Context, orgID string, f orgd.MemberFilter) ([]*orgd.Membership, error) {
	w := &where{}
	w.add(`m.org_id = ?`, orgID)
	if f.Email != "" {
		w.add(`u.email_norm = ?`, f.Email)
	}
	if f.Role == orgd.RoleReader {
		w.add(`m.role IN ('reader', '')`)
	} else if f.Role != "" {
		w.add(`m.role = ?`, string(f.Role))
	}
	if !f.JoinedAfter.IsZero() {
		w.add(`m.member_since >= ?`, us(f.JoinedAfter))
	}
	if !f.JoinedBefore.IsZero() {
		w.add(`m.member_since < ?`, us(f.JoinedBefore))
	}
	if at, id, ok := f.After(); ok {
		// A row comparison, so that the index seeks to the cursor
		// (memberships_joined) instead of filtering every row before it.
		w.add(`(m.member_since, m.user_id) > (?, ?)`, us(at), id)
	}
	query := `SELECT ` + memberColumns + ` FROM memberships m JOIN users u ON u.id = m.user_id WHERE ` + w.String() +
		` ORDER BY m.member_since, m.user_id`
	if n := f.Limit(); n > 0 {
		query += ` LIMIT ` + w.arg(n+1)
	}
	rows, err := t.q.QueryContext(ctx, query, w.args...)
	return collect(rows, err, scanMembership)
}

func (t *tx) ListMembersWithRole(ctx context.Context, orgID string, role orgd.Role) ([]*orgd.Membership, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT `+memberColumns+` FROM memberships m
		JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND m.role = $2 ORDER BY m.member_since, m.user_id`, orgID, string(role))
	return collect(rows, err, scanMembership)
}

func (t *tx) CountMembers(ctx context.Context, orgID string) (int, error) {
	return t.count(ctx, `SELECT COUNT(*) FROM memberships WHERE org_id = $1`, orgID)
}

func (t *tx) CountMembersWithRole(ctx context.Context, orgID string, roles ...orgd.Role) (int, error) {
	total := 0
	for _, r := range roles {
		n, err := t.count(ctx, `SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = $2`, orgID, string(r))
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}
