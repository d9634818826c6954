package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/orgd/orgd"
)

const webhookColumns = `id, COALESCE(org_id, ''), url, events, description, secret_sealed, created_at,
	last_attempt_at, last_success_at, last_status, last_error, consecutive_failures`

func scanWebhookEndpoint(row scanner) (*orgd.WebhookEndpoint, error) {
	var e orgd.WebhookEndpoint
	var events string
	var created int64
	var attempt, success sql.NullInt64
	err := row.Scan(&e.ID, &e.OrgID, &e.URL, &events, &e.Description, &e.SecretSealed, &created,
		&attempt, &success, &e.LastStatus, &e.LastError, &e.ConsecutiveFailures)
	if err != nil {
		return nil, noRows(err)
	}
	if err := fromJSON(events, &e.Events); err != nil {
		return nil, err
	}
	e.CreatedAt, e.LastAttemptAt, e.LastSuccessAt = fromUs(created), fromNullUs(attempt), fromNullUs(success)
	return &e, nil
}

func (t *tx) InsertWebhookEndpoint(ctx context.Context, e *orgd.WebhookEndpoint) error {
	_, err := t.exec(ctx, `INSERT INTO webhook_endpoints (id, org_id, url, events, description, secret_sealed, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.ID, nullString(e.OrgID), e.URL, listJSON(e.Events), e.Description, e.SecretSealed, us(e.CreatedAt))
	return err
}

func (t *tx) WebhookEndpointByID(ctx context.Context, id string) (*orgd.WebhookEndpoint, error) {
	return scanWebhookEndpoint(t.q.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints WHERE id = $1`, id))
}

func (t *tx) DeleteWebhookEndpoint(ctx context.Context, id string) error {
	return t.execOne(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id)
}

// orgCondition selects the endpoints of one organization, or with orgID ""
// the server-wide ones, with $1.
const orgCondition = `COALESCE(org_id, '') = $1`

func (t *tx) CountWebhookEndpoints(ctx context.Context, orgID string) (int, error) {
	return t.count(ctx, `SELECT COUNT(*) FROM webhook_endpoints WHERE `+orgCondition, orgID)
}

func (t *tx) ListWebhookEndpoints(ctx context.Context, orgID string, all bool) ([]*orgd.WebhookEndpoint, error) {
	query, args := `SELECT `+webhookColumns+` FROM webhook_endpoints WHERE `+orgCondition+` ORDER BY created_at, id`, []any{orgID}
	if all {
		query, args = `SELECT `+webhookColumns+` FROM webhook_endpoints ORDER BY created_at, id`, nil
	}
	rows, err := t.q.QueryContext(ctx, query, args...)
	return collect(rows, err, scanWebhookEndpoint)
}

func (t *tx) RecordWebhookAttempt(ctx context.Context, id string, at time.Time, a orgd.WebhookAttempt) error {
	query := `UPDATE webhook_endpoints SET last_attempt_at = $2, last_status = $3, last_error = $4,
		consecutive_failures = consecutive_failures + 1 WHERE id = $1`
	if a.OK {
		query = `UPDATE webhook_endpoints SET last_attempt_at = $2, last_status = $3, last_error = $4,
		consecutive_failures = 0, last_success_at = $2 WHERE id = $1`
	}
	_, err := t.exec(ctx, query, id, us(at), a.Status, a.Error)
	return err
}
