package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/outbox"
	"github.com/orgd/orgd/store"
)

type probeJob struct{}

func (probeJob) Kind() string { return "probe" }

// TestJobsJoinTheStoreTransaction: on PostgreSQL, what is written on the
// pgx connection of a store transaction commits and rolls back with it;
// a panic there fails the transaction instead of hanging it, and the store
// goes on working.
func TestJobsJoinTheStoreTransaction(t *testing.T) {
	st := testdb.OpenURL(t, testdb.URL(t, store.Postgres))
	ctx := context.Background()
	var write func(pgx.Tx) error
	st.SetEnqueuer(func(ctx context.Context, tx store.JobTx, jobs []orgd.Job) error { return outbox.InPgxTx(tx, write) })
	insert := func(slug string) func(pgx.Tx) error {
		return func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO organizations (id, slug, name, description, is_active, disk_usage_alerts,
				notification_domains, billing_contacts, operational_contacts, allow_external_invites, allowed_email_domains,
				max_members, created_at, updated_at) VALUES ($1, $1, $1, '', true, true, '[]', '[]', '[]', true, '[]', 0, 0, 0)`, slug)
			return err
		}
	}
	// run enqueues a job written by w in a transaction that ends with
	// fail; it must not hang.
	run := func(w func(pgx.Tx) error, fail error) error {
		write = w
		done := make(chan error, 1)
		go func() {
			done <- st.WriteTx(ctx, func(tx orgd.Tx) error {
				if err := tx.Enqueue(ctx, probeJob{}); err != nil {
					return err
				}
				return fail
			})
		}()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("the transaction hung")
			return nil
		}
	}
	if err := run(insert("kept"), nil); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	if err := run(insert("undone"), refused); !errors.Is(err, refused) {
		t.Fatalf("a failing transaction returned %v", err)
	}
	err := run(func(pgx.Tx) error { panic("boom") }, nil)
	if err == nil || !strings.Contains(err.Error(), "panic while writing jobs: boom") {
		t.Fatalf("a panicking writer returned %v", err)
	}
	if err := run(insert("after"), nil); err != nil {
		t.Fatalf("after the panic: %v", err)
	}
	if _, rows := testdb.Rows(t, st.DB(), `SELECT slug FROM organizations ORDER BY slug`); fmt.Sprint(rows) != "[[after] [kept]]" {
		t.Errorf("organizations %v, want after and kept", rows)
	}
}
