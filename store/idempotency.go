package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"

	"github.com/orgd/orgd"
)

func (t *tx) LockIdempotencyKey(ctx context.Context, userID, keyHash string) (bool, error) {
	if t.d.tryLock == "" {
		return true, nil
	}
	sum := sha256.Sum256([]byte("idempotency\x00" + userID + "\x00" + keyHash))
	var locked bool
	err := t.q.QueryRowContext(ctx, t.d.tryLock, int64(binary.BigEndian.Uint64(sum[:8]))).Scan(&locked)
	return locked, err
}

func (t *tx) IdempotencyRecord(ctx context.Context, userID, keyHash string) (*orgd.IdempotencyRecord, error) {
	rec := orgd.IdempotencyRecord{UserID: userID, KeyHash: keyHash}
	var created, expires int64
	err := t.q.QueryRowContext(ctx, `SELECT fingerprint, answer, created_at, expires_at FROM idempotency_keys
		WHERE user_id = $1 AND key_hash = $2`, userID, keyHash).Scan(&rec.Fingerprint, &rec.Answer, &created, &expires)
	if err != nil {
		return nil, noRows(err)
	}
	rec.CreatedAt, rec.ExpiresAt = fromUs(created), fromUs(expires)
	return &rec, nil
}

func (t *tx) SaveIdempotencyRecord(ctx context.Context, rec *orgd.IdempotencyRecord) error {
	err := t.execOne(ctx, `INSERT INTO idempotency_keys (user_id, key_hash, fingerprint, answer, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (user_id, key_hash) DO UPDATE SET fingerprint = excluded.fingerprint, answer = excluded.answer,
			created_at = excluded.created_at, expires_at = excluded.expires_at
		WHERE idempotency_keys.expires_at <= excluded.created_at`,
		rec.UserID, rec.KeyHash, rec.Fingerprint, rec.Answer, us(rec.CreatedAt), us(rec.ExpiresAt))
	if errors.Is(err, orgd.ErrNotFound) {
		return orgd.ErrConflict // a record that has not expired holds the key
	}
	return err
}

func (t *tx) DeleteExpiredIdempotencyRecords(ctx context.Context, now time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= $1`, us(now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
