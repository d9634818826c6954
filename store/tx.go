package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orgd/orgd"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tx implements orgd.Tx over a transaction (writes) or a pool (reads).
type tx struct {
	q       querier
	jobTx   JobTx // of a write transaction
	d       dialect
	inTx    bool
	enqueue Enqueuer
}

var _ orgd.Tx = (*tx)(nil)

// exec runs a statement and translates a uniqueness violation into
// orgd.ErrConflict.
func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := t.q.ExecContext(ctx, query, args...)
	if err != nil {
		if t.d.unique(err) {
			return nil, orgd.ErrConflict
		}
		return nil, err
	}
	return res, nil
}

// execOne runs a statement that must change exactly one row.
func (t *tx) execOne(ctx context.Context, query string, args ...any) error {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return orgd.ErrNotFound
	}
	return nil
}

func (t *tx) count(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	err := t.q.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, err
}

// noRows turns sql.ErrNoRows into orgd.ErrNotFound.
func noRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return orgd.ErrNotFound
	}
	return err
}

// Times are stored as unix microseconds.
func us(t time.Time) int64 { return t.UnixMicro() }

func nullUs(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromUs(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullUs(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromUs(v.Int64)
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("store: cannot encode %T: %v", v, err)) // only plain data is stored
	}
	return string(b)
}

func listJSON(list []string) string {
	if list == nil {
		return "[]"
	}
	return toJSON(list)
}

func fromJSON(text string, dst any) error {
	if err := json.Unmarshal([]byte(text), dst); err != nil {
		return fmt.Errorf("decode stored JSON: %w", err)
	}
	return nil
}

// roleTexts remembers role assignments decoded from their stored JSON. The
// invitations and members of an organization carry a handful of distinct
// texts (toJSON writes one text per set of roles), so a page of 100 decodes
// a few instead of 100: decoding was a quarter of a page's CPU. Each read
// gets its own Clone.
var roleTexts struct {
	sync.Map // text -> orgd.RoleAssignments
	n        atomic.Int64
}

// maxRoleTexts bounds roleTexts; past it, it starts over.
const maxRoleTexts = 10_000

func decodeRoles(text string, dst *orgd.RoleAssignments) error {
	if v, ok := roleTexts.Load(text); ok {
		*dst = v.(orgd.RoleAssignments).Clone()
		return nil
	}
	var ra orgd.RoleAssignments
	if err := fromJSON(text, &ra); err != nil {
		return err
	}
	if roleTexts.n.Add(1) > maxRoleTexts {
		roleTexts.Clear()
		roleTexts.n.Store(1)
	}
	roleTexts.Store(text, ra)
	*dst = ra.Clone()
	return nil
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// moreColumns scans columns before and after those a scan function reads,
// so that a scanOrganization or scanInvitation reads rows that carry more.
type moreColumns struct {
	row           scanner
	before, after []any
}

func (s moreColumns) Scan(dest ...any) error {
	return s.row.Scan(append(append(append([]any{}, s.before...), dest...), s.after...)...)
}

// collect reads every row with scan.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (*T, error)) ([]*T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
