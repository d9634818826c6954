package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orgd/orgd"
)

const invitationColumns = `i.id, i.org_id, i.email, i.email_norm, i.inviter_id, i.role_assignments, i.role, i.status,
	i.token_hash, i.token_sealed, i.created_at, i.issued_at, i.expires_at, i.responded_at, i.accepted_user_id,
	i.email_status, i.email_error, i.revoke_reason, o.slug, o.name, COALESCE(u.email, ''), COALESCE(u.name, '')`

const invitationFrom = ` FROM invitations i JOIN organizations o ON o.id = i.org_id LEFT JOIN users u ON u.id = i.inviter_id`

func scanInvitation(row scanner) (*orgd.Invitation, error) {
	var inv orgd.Invitation
	var inviter, accepted sql.NullString
	var roles, role, status, emailStatus, revokeReason string
	var created, issued, expires int64
	var responded sql.NullInt64
	err := row.Scan(&inv.ID, &inv.OrgID, &inv.Email, &inv.EmailNorm, &inviter, &roles, &role, &status,
		&inv.TokenHash, &inv.TokenSealed, &created, &issued, &expires, &responded, &accepted,
		&emailStatus, &inv.EmailError, &revokeReason, &inv.OrgSlug, &inv.OrgName, &inv.InviterEmail, &inv.InviterName)
	if err != nil {
		return nil, noRows(err)
	}
	if err := decodeRoles(roles, &inv.Roles); err != nil {
		return nil, err
	}
	inv.InviterID, inv.AcceptedUserID = inviter.String, accepted.String
	inv.Status, inv.EmailStatus, inv.Role = orgd.InvitationStatus(status), orgd.EmailStatus(emailStatus), orgd.Role(role)
	inv.RevokeReason = orgd.RevokeReason(revokeReason)
	inv.CreatedAt, inv.IssuedAt, inv.ExpiresAt, inv.RespondedAt = fromUs(created), fromUs(issued), fromUs(expires), fromNullUs(responded)
	return &inv, nil
}

func (t *tx) InsertInvitations(ctx context.Context, invs ...*orgd.Invitation) error {
	rows := make([][]any, len(invs))
	for i, inv := range invs {
		rows[i] = []any{inv.ID, inv.OrgID, inv.Email, inv.EmailNorm, nullString(inv.InviterID), toJSON(inv.Roles), string(inv.Role),
			string(inv.Status), inv.TokenHash, inv.TokenSealed, us(inv.CreatedAt), us(inv.IssuedAt), us(inv.ExpiresAt),
			string(inv.EmailStatus), inv.EmailError}
	}
	return t.insertRows(ctx, `INSERT INTO invitations (id, org_id, email, email_norm, inviter_id, role_assignments, role, status,
		token_hash, token_sealed, created_at, issued_at, expires_at, email_status, email_error)`, rows)
}

func (t *tx) ReissueInvitation(ctx context.Context, inv *orgd.Invitation) error {
	return t.execOne(ctx, `UPDATE invitations SET role_assignments = $2, role = $3, token_hash = $4, token_sealed = $5,
		issued_at = $6, expires_at = $7, email_status = $8, email_error = $9, expiry_announced_at = NULL
		WHERE id = $1 AND status = 'open'`,
		inv.ID, toJSON(inv.Roles), string(inv.Role), inv.TokenHash, inv.TokenSealed, us(inv.IssuedAt), us(inv.ExpiresAt),
		string(inv.EmailStatus), inv.EmailError)
}

func (t *tx) SetEmailStatus(ctx context.Context, id, tokenHash string, status orgd.EmailStatus, reason string) error {
	_, err := t.exec(ctx, `UPDATE invitations SET email_status = $3, email_error = $4
		WHERE id = $1 AND token_hash = $2 AND status = 'open'`, id, tokenHash, string(status), reason)
	return err
}

func (t *tx) Enqueue(ctx context.Context, jobs ...orgd.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	if t.jobTx.Tx == nil {
		return fmt.Errorf("enqueue %s outside a write transaction", jobs[0].Kind())
	}
	if t.enqueue == nil {
		return fmt.Errorf("enqueue %s: no outbox is configured", jobs[0].Kind())
	}
	return t.enqueue(ctx, t.jobTx, jobs)
}

func (t *tx) CloseInvitation(ctx context.Context, id string, status orgd.InvitationStatus, at time.Time, acceptedUserID string,
	reason orgd.RevokeReason) (bool, error) {
	res, err := t.exec(ctx, `UPDATE invitations SET status = $2, responded_at = $3, accepted_user_id = $4, revoke_reason = $5
		WHERE id = $1 AND status = 'open'`, id, string(status), us(at), nullString(acceptedUserID), string(reason))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *tx) InvitationByID(ctx context.Context, id string) (*orgd.Invitation, error) {
	return scanInvitation(t.q.QueryRowContext(ctx, `SELECT `+invitationColumns+invitationFrom+` WHERE i.id = $1`, id))
}

func (t *tx) InvitationByTokenHash(ctx context.Context, hash string) (*orgd.Invitation, error) {
	return scanInvitation(t.q.QueryRowContext(ctx, `SELECT `+invitationColumns+invitationFrom+` WHERE i.token_hash = $1`, hash))
}

// memberAsInvitation are the columns of invitationColumns for a member
// found by Invitees: the address in email_norm, placeholders elsewhere.
const memberAsInvitation = `'', '', '', u.email_norm, NULL, '{}', '', '', '', '', 0, 0, 0, NULL, NULL, '', '', '', '', '', '', ''`

// inviteesQuery finds, among norms, the open invitations of orgID (kind
// 'i') and the addresses of its members (kind 'm').
func inviteesQuery(e Engine, orgID string, norms []string) (string, []any) {
	// By address, then organization: "|| ''" keeps the organization from
	// being an index condition. An address has few open invitations and
	// memberships in any database, while an organization may have many
	// more than PostgreSQL's statistics say after it grew fast (or before
	// autovacuum first analyzed the table), when the planner would read
	// all of them through (org_id, ...) indexes. Every index of open
	// invitations that holds the address leads with it (migration 00006).
	inv, mem := manyFor(e), manyFor(e)
	inv.add(`i.org_id || '' = ?`, orgID)
	inv.add(`i.status = 'open'`)
	inv.add(`i.email_norm IN ` + inv.in(norms))
	mem.args = inv.args // one list of arguments for both halves
	mem.add(`m.org_id || '' = ?`, orgID)
	mem.add(`u.email_verified`)
	mem.add(`u.email_norm IN ` + mem.in(norms))
	return `SELECT 'i', ` + invitationColumns + invitationFrom + ` WHERE ` + inv.String() + `
		UNION ALL SELECT 'm', ` + memberAsInvitation + ` FROM memberships m JOIN users u ON u.id = m.user_id WHERE ` + mem.String(),
		mem.args
}

func (t *tx) Invitees(ctx context.Context, orgID string, emailNorms []string) (orgd.Invitees, error) {
	out := orgd.Invitees{Members: map[string]bool{}, Open: map[string]*orgd.Invitation{}}
	err := chunks(emailNorms, func(norms []string) error {
		query, args := inviteesQuery(t.d.engine, orgID, norms)
		if t.d.engine == Postgres && len(norms) > 1 {
			// A batch is planned for its own addresses, each time. pgx
			// prepares a statement once per connection, and PostgreSQL
			// keeps a generic plan of it: one made while the tables were
			// small reads every open invitation of the organization
			// instead of probing the addresses, however large the
			// organization has grown since (until the next ANALYZE). A
			// plan of its own costs a batch a fraction of a millisecond;
			// a single address keeps its prepared plan, which probes.
			args = append([]any{pgx.QueryExecModeCacheDescribe}, args...)
		}
		rows, err := t.q.QueryContext(ctx, query, args...)
		_, err = collect(rows, err, func(row scanner) (*orgd.Invitation, error) {
			var kind string
			inv, err := scanInvitation(moreColumns{row: row, before: []any{&kind}})
			if err != nil {
				return nil, err
			}
			if kind == "m" {
				out.Members[inv.EmailNorm] = true
			} else {
				out.Open[inv.EmailNorm] = inv
			}
			return nil, nil
		})
		return err
	})
	return out, err
}

// stateCondition is the SQL condition of a state; ? is the current time.
func stateCondition(s orgd.InvitationState) (string, bool, error) {
	switch s {
	case orgd.StatePending:
		return `(i.status = 'open' AND i.expires_at > ?)`, true, nil
	case orgd.StateExpired:
		return `(i.status = 'open' AND i.expires_at <= ?)`, true, nil
	case orgd.StateAccepted, orgd.StateDeclined, orgd.StateRevoked:
		return `i.status = '` + string(s) + `'`, false, nil
	}
	return "", false, fmt.Errorf("unknown invitation state %q", s)
}

// in is "col IN (?, ?, ...)" for n values.
func in(col string, n int) string {
	return col + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

func (t *tx) ListInvitations(ctx context.Context, orgID string, f orgd.InvitationFilter) ([]*orgd.Invitation, error) {
	w := &where{}
	w.add(`i.org_id = ?`, orgID)
	if len(f.States) > 0 {
		var conds []string
		var args []any
		for _, s := range f.States {
			c, usesNow, err := stateCondition(s)
			if err != nil {
				return nil, err
			}
			conds = append(conds, c)
			if usesNow {
				args = append(args, us(f.Now))
			}
		}
		w.add(`(`+strings.Join(conds, " OR ")+`)`, args...)
	}
	if len(f.EmailStatuses) > 0 {
		args := make([]any, len(f.EmailStatuses))
		for i, s := range f.EmailStatuses {
			args[i] = string(s)
		}
		w.add(in("i.email_status", len(args)), args...)
	}
	if f.Email != "" {
		w.add(`i.email_norm = ?`, f.Email)
	}
	if f.Role == orgd.RoleReader {
		w.add(`i.role IN ('reader', '')`)
	} else if f.Role != "" {
		w.add(`i.role = ?`, string(f.Role))
	}
	if id, ok := f.InviterID(); !ok {
		return nil, nil
	} else if id != "" {
		w.add(`i.inviter_id = ?`, id)
	}
	if !f.CreatedAfter.IsZero() {
		w.add(`i.created_at >= ?`, us(f.CreatedAfter))
	}
	if !f.CreatedBefore.IsZero() {
		w.add(`i.created_at < ?`, us(f.CreatedBefore))
	}
	if at, id, ok := f.After(); ok {
		// A row comparison, so that the index seeks to the cursor
		// (invitations_org_created) instead of filtering every row before it.
		w.add(`(i.created_at, i.id) > (?, ?)`, us(at), id)
	}
	query := `SELECT ` + invitationColumns + invitationFrom + ` WHERE ` + w.String() + ` ORDER BY i.created_at, i.id`
	if n := f.Limit(); n > 0 {
		query += ` LIMIT ` + w.arg(n+1)
	}
	rows, err := t.q.QueryContext(ctx, query, w.args...)
	return collect(rows, err, scanInvitation)
}

func (t *tx) ListPendingInvitationsForEmail(ctx context.Context, emailNorm string, now time.Time) ([]*orgd.Invitation, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT `+invitationColumns+invitationFrom+`
		WHERE i.email_norm = $1 AND i.status = 'open' AND i.expires_at > $2 ORDER BY i.created_at, i.id`, emailNorm, us(now))
	return collect(rows, err, scanInvitation)
}

func (t *tx) CountForLimits(ctx context.Context, orgID string, q orgd.LimitQuery) (orgd.LimitCounts, error) {
	var c orgd.LimitCounts
	if !q.Seats && q.IssuedAfter.IsZero() {
		return c, nil
	}
	w := &where{} // every placeholder it makes is used: PostgreSQL refuses others
	org := w.arg(orgID)
	members, pending, issued := `0`, `0`, `0`
	if q.Seats {
		members = `(SELECT COUNT(*) FROM memberships WHERE org_id = ` + org + `)`
		pending = `(SELECT COUNT(*) FROM invitations WHERE org_id = ` + org + ` AND status = 'open' AND expires_at > ` + w.arg(us(q.Now)) + `)`
	}
	if !q.IssuedAfter.IsZero() {
		issued = `(SELECT COUNT(*) FROM invitations WHERE org_id = ` + org + ` AND issued_at > ` + w.arg(us(q.IssuedAfter)) + `)`
	}
	err := t.q.QueryRowContext(ctx, `SELECT `+members+`, `+pending+`, `+issued, w.args...).Scan(&c.Members, &c.Pending, &c.Issued)
	return c, err
}

func (t *tx) NthIssuedAfter(ctx context.Context, orgID string, since time.Time, n int) (time.Time, error) {
	var at int64
	err := t.q.QueryRowContext(ctx, `SELECT issued_at FROM invitations WHERE org_id = $1 AND issued_at > $2
		ORDER BY issued_at LIMIT 1 OFFSET $3`, orgID, us(since), n).Scan(&at)
	if err != nil {
		return time.Time{}, noRows(err)
	}
	return fromUs(at), nil
}

func (t *tx) ListUnannouncedExpiredInvitations(ctx context.Context, now time.Time, limit int) ([]*orgd.Invitation, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT `+invitationColumns+invitationFrom+`
		WHERE i.status = 'open' AND i.expiry_announced_at IS NULL AND i.expires_at <= $1
		ORDER BY i.expires_at, i.id LIMIT $2`, us(now), limit)
	return collect(rows, err, scanInvitation)
}

func (t *tx) MarkExpiryAnnounced(ctx context.Context, id string, expiresAt, at time.Time) (bool, error) {
	res, err := t.exec(ctx, `UPDATE invitations SET expiry_announced_at = $3
		WHERE id = $1 AND status = 'open' AND expires_at = $2 AND expiry_announced_at IS NULL`, id, us(expiresAt), us(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
