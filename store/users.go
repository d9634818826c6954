package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/orgd/orgd"
)

const userColumns = `u.id, u.email, u.email_norm, u.email_verified, u.name, u.platform_admin, u.created_at`

// userFields are the scan targets of userColumns; created is converted after the scan.
func userFields(u *orgd.User, created *int64) []any {
	return []any{&u.ID, &u.Email, &u.EmailNorm, &u.EmailVerified, &u.Name, &u.PlatformAdmin, created}
}

func scanUser(row scanner) (*orgd.User, error) {
	var u orgd.User
	var created int64
	if err := row.Scan(userFields(&u, &created)...); err != nil {
		return nil, noRows(err)
	}
	u.CreatedAt = fromUs(created)
	return &u, nil
}

func (t *tx) InsertUser(ctx context.Context, u *orgd.User) error {
	_, err := t.exec(ctx, `INSERT INTO users (id, email, email_norm, email_verified, name, platform_admin, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, u.ID, u.Email, u.EmailNorm, u.EmailVerified, u.Name, u.PlatformAdmin, us(u.CreatedAt))
	return err
}

func (t *tx) SetUserEmail(ctx context.Context, userID string, email orgd.Email, verified bool) error {
	return t.execOne(ctx, `UPDATE users SET email = $2, email_norm = $3, email_verified = $4 WHERE id = $1`,
		userID, email.Address, email.Norm, verified)
}

func (t *tx) InsertIdentity(ctx context.Context, issuer, subject, userID string, at time.Time) error {
	_, err := t.exec(ctx, `INSERT INTO user_identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4)`,
		issuer, subject, userID, us(at))
	return err
}

func (t *tx) UserByIdentity(ctx context.Context, issuer, subject string) (*orgd.User, error) {
	return scanUser(t.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM user_identities i JOIN users u ON u.id = i.user_id
		WHERE i.issuer = $1 AND i.subject = $2`, issuer, subject))
}

func (t *tx) SubjectOf(ctx context.Context, userID, issuer string) (string, error) {
	var subject string
	err := t.q.QueryRowContext(ctx, `SELECT subject FROM user_identities WHERE user_id = $1 AND issuer = $2`, userID, issuer).Scan(&subject)
	return subject, noRows(err)
}

func (t *tx) UserByID(ctx context.Context, id string) (*orgd.User, error) {
	return scanUser(t.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
}

func (t *tx) UserByEmail(ctx context.Context, emailNorm string) (*orgd.User, error) {
	return scanUser(t.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email_norm = $1 AND u.email_verified`, emailNorm))
}

func (t *tx) CountUsers(ctx context.Context) (int, error) {
	return t.count(ctx, `SELECT COUNT(*) FROM users`)
}

func (t *tx) SetPlatformAdmin(ctx context.Context, userID string, admin bool) error {
	return t.execOne(ctx, `UPDATE users SET platform_admin = $2 WHERE id = $1`, userID, admin)
}

func (t *tx) InsertAPIKey(ctx context.Context, k *orgd.APIKey) error {
	_, err := t.exec(ctx, `INSERT INTO api_keys (id, user_id, name, prefix, hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, k.ID, k.UserID, k.Name, k.Prefix, k.Hash, us(k.CreatedAt), nullUs(k.ExpiresAt))
	return err
}

const apiKeyColumns = `k.id, k.user_id, k.name, k.prefix, k.hash, k.created_at, k.last_used_at, k.expires_at, k.revoked_at`

func scanAPIKey(row scanner) (*orgd.APIKey, error) {
	var k orgd.APIKey
	var created int64
	var lastUsed, expires, revoked sql.NullInt64
	if err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Hash, &created, &lastUsed, &expires, &revoked); err != nil {
		return nil, noRows(err)
	}
	k.CreatedAt, k.LastUsedAt, k.ExpiresAt, k.RevokedAt = fromUs(created), fromNullUs(lastUsed), fromNullUs(expires), fromNullUs(revoked)
	return &k, nil
}

func (t *tx) APIKeyByID(ctx context.Context, id string) (*orgd.APIKey, error) {
	return scanAPIKey(t.q.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys k WHERE k.id = $1`, id))
}

func (t *tx) ListAPIKeys(ctx context.Context, userID string) ([]*orgd.APIKey, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys k WHERE k.user_id = $1 ORDER BY k.created_at, k.id`, userID)
	return collect(rows, err, scanAPIKey)
}

func (t *tx) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, us(at))
	return err
}

func (t *tx) APIKeyByHash(ctx context.Context, hash string) (*orgd.APIKey, *orgd.User, error) {
	// One round trip: every request with a key takes this path.
	var k orgd.APIKey
	var u orgd.User
	var created, userCreated int64
	var lastUsed, expires, revoked sql.NullInt64
	err := t.q.QueryRowContext(ctx, `SELECT `+apiKeyColumns+`, `+userColumns+` FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.hash = $1`, hash).
		Scan(append([]any{&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Hash, &created, &lastUsed, &expires, &revoked},
			userFields(&u, &userCreated)...)...)
	if err != nil {
		return nil, nil, noRows(err)
	}
	k.CreatedAt, k.LastUsedAt, k.ExpiresAt, k.RevokedAt = fromUs(created), fromNullUs(lastUsed), fromNullUs(expires), fromNullUs(revoked)
	u.CreatedAt = fromUs(userCreated)
	return &k, &u, nil
}

func (t *tx) TouchAPIKey(ctx context.Context, id string, now, staleBefore time.Time) error {
	_, err := t.exec(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)`,
		id, us(now), us(staleBefore))
	return err
}
