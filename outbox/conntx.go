package outbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/orgd/orgd/store"
)

// inPgxTx runs fn in the store's transaction tx, on its pgx connection. A
// panic in fn comes back as an error: let through, it would make
// sql.Conn.Raw close the connection under the open transaction, which
// waits for that transaction's end, and the request would hang.
func inPgxTx(tx store.JobTx, fn func(pgx.Tx) error) error {
	return tx.Conn.Raw(func(driverConn any) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("outbox: panic while writing jobs: %v", r)
			}
		}()
		c, ok := driverConn.(interface{ Conn() *pgx.Conn })
		if !ok {
			return fmt.Errorf("outbox: the store's PostgreSQL connection is a %T, not pgx's", driverConn)
		}
		return fn(connTx{c.Conn()})
	})
}

// connTx is a transaction the store began on a pgx connection, as River's
// pgx driver takes transactions to write jobs in. The store owns it: River
// may run statements in it, not end it or nest another.
type connTx struct{ c *pgx.Conn }

var _ pgx.Tx = connTx{}

var errStoreOwnsTx = errors.New("outbox: the store begins and ends its transactions")

func (t connTx) Begin(context.Context) (pgx.Tx, error) { return nil, errStoreOwnsTx }
func (t connTx) Commit(context.Context) error          { return errStoreOwnsTx }
func (t connTx) Rollback(context.Context) error        { return errStoreOwnsTx }
func (t connTx) LargeObjects() pgx.LargeObjects        { return pgx.LargeObjects{} }
func (t connTx) Conn() *pgx.Conn                       { return t.c }

func (t connTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.c.Exec(ctx, sql, args...)
}

func (t connTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.c.Query(ctx, sql, args...)
}

func (t connTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.c.QueryRow(ctx, sql, args...)
}

func (t connTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.c.SendBatch(ctx, b)
}

func (t connTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error) {
	return t.c.CopyFrom(ctx, table, columns, rows)
}

func (t connTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.c.Prepare(ctx, name, sql)
}
