package store

import (
	"context"
	"fmt"

	"github.com/orgd/orgd"
)

func (t *tx) InsertAuditEvents(ctx context.Context, evs []*orgd.AuditEvent, endpoints bool) ([]*orgd.WebhookEndpoint, error) {
	rows := make([][]any, len(evs))
	for i, ev := range evs {
		details := "{}"
		if len(ev.Details) > 0 {
			details = toJSON(ev.Details)
		}
		rows[i] = []any{ev.ID, us(ev.At), ev.OrgID, ev.ActorUserID, ev.ActorKeyID, ev.Actor, ev.Surface, ev.RequestID, ev.Action,
			ev.TargetType, ev.TargetID, details}
	}
	const head = `INSERT INTO audit_events (id, at, org_id, actor_user_id, actor_key_id, actor, surface,
		request_id, action, target_type, target_id, details)`
	if !endpoints || len(evs) == 0 {
		return nil, t.insertRows(ctx, head, rows)
	}
	// readEndpoints runs the query of the endpoints after prefix, whose
	// arguments w holds.
	readEndpoints := func(w *where, prefix string) ([]*orgd.WebhookEndpoint, error) {
		query := prefix + `SELECT ` + webhookColumns + ` FROM webhook_endpoints WHERE org_id = ` + w.arg(evs[0].OrgID) +
			` OR org_id IS NULL ORDER BY created_at, id`
		rs, err := t.q.QueryContext(ctx, query, w.args...)
		return collect(rs, err, scanWebhookEndpoint)
	}
	if !t.d.writingWith || len(rows) > maxBatch {
		if err := t.insertRows(ctx, head, rows); err != nil {
			return nil, err
		}
		return readEndpoints(t.many(), "")
	}
	// One round trip for both: a change is recorded on every write.
	w := t.many()
	return readEndpoints(w, `WITH audit AS (`+insertStatement(w, head, rows)+`) `)
}

func (t *tx) ListAuditEvents(ctx context.Context, q orgd.AuditQuery) ([]*orgd.AuditEvent, error) {
	where, args := `1 = 1`, []any{}
	if q.OrgID != "" {
		args = append(args, q.OrgID)
		where += fmt.Sprintf(` AND org_id = $%d`, len(args))
	}
	if q.Before != "" {
		// The cursor must be an event of the log being read (with where's
		// organization): an event of another organization is no event.
		args = append(args, q.Before)
		var n int
		if err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE `+where+fmt.Sprintf(` AND id = $%d`, len(args)),
			args...).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, orgd.ErrNotFound
		}
		where += fmt.Sprintf(` AND id < $%d`, len(args))
	}
	args = append(args, q.Limit)
	rows, err := t.q.QueryContext(ctx, `SELECT id, at, org_id, actor_user_id, actor_key_id, actor, surface, request_id,
		action, target_type, target_id, details FROM audit_events WHERE `+where+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	return collect(rows, err, func(row scanner) (*orgd.AuditEvent, error) {
		var ev orgd.AuditEvent
		var at int64
		var details string
		if err := row.Scan(&ev.ID, &at, &ev.OrgID, &ev.ActorUserID, &ev.ActorKeyID, &ev.Actor, &ev.Surface, &ev.RequestID,
			&ev.Action, &ev.TargetType, &ev.TargetID, &details); err != nil {
			return nil, err
		}
		ev.At = fromUs(at)
		if err := fromJSON(details, &ev.Details); err != nil {
			return nil, err
		}
		return &ev, nil
	})
}
