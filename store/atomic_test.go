package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/store"
)

func insertOrg(slug string) func(orgd.Tx) error {
	return func(tx orgd.Tx) error {
		now := time.Now()
		return tx.InsertOrganization(context.Background(), &orgd.Organization{ID: "id-" + slug, Slug: slug, Name: slug, CreatedAt: now, UpdatedAt: now})
	}
}

func slugs(t *testing.T, st *store.Store, ctx context.Context) []string {
	t.Helper()
	var out []string
	err := st.ReadTx(ctx, func(tx orgd.Tx) error {
		orgs, err := tx.ListOrganizations(ctx)
		for _, o := range orgs {
			out = append(out, o.Slug)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestAtomicJoinsStoreCalls: the ReadTx and WriteTx calls made with
// Atomic's context join its transaction; a failed WriteTx is undone alone
// (a refused duplicate included, which on PostgreSQL would otherwise abort
// the whole transaction); the whole is committed or rolled back at once,
// a panic included.
func TestAtomicJoinsStoreCalls(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		st := testdb.OpenURL(t, url)
		bg := context.Background()
		refused := errors.New("refused")
		run := func(last error) error {
			return st.Atomic(bg, func(ctx context.Context, _ orgd.Tx) error {
				if err := st.WriteTx(ctx, insertOrg("kept")); err != nil {
					return err
				}
				if err := st.WriteTx(ctx, func(tx orgd.Tx) error {
					if err := insertOrg("undone")(tx); err != nil {
						return err
					}
					return refused
				}); !errors.Is(err, refused) {
					t.Errorf("a failing WriteTx returned %v", err)
				}
				if err := st.WriteTx(ctx, insertOrg("kept")); !errors.Is(err, orgd.ErrConflict) {
					t.Errorf("a duplicate returned %v, want ErrConflict", err)
				}
				// The uncommitted rows are visible to reads of the same
				// context, and only to them.
				if got, want := slugs(t, st, ctx), []string{"kept"}; !slices.Equal(got, want) {
					t.Errorf("within Atomic: %v, want %v", got, want)
				}
				if got := slugs(t, st, bg); len(got) != 0 {
					t.Errorf("outside Atomic before its commit: %v", got)
				}
				return last
			})
		}

		if err := run(refused); !errors.Is(err, refused) {
			t.Fatalf("Atomic returned %v, want fn's error", err)
		}
		if got := slugs(t, st, bg); len(got) != 0 {
			t.Errorf("after a failed Atomic: %v, want nothing", got)
		}

		func() {
			defer func() {
				if recover() == nil {
					t.Error("the panic was swallowed")
				}
			}()
			_ = st.Atomic(bg, func(ctx context.Context, _ orgd.Tx) error {
				_ = st.WriteTx(ctx, insertOrg("panicked"))
				panic("boom")
			})
		}()
		if got := slugs(t, st, bg); len(got) != 0 {
			t.Errorf("after a panic in Atomic: %v, want nothing", got)
		}

		if err := run(nil); err != nil {
			t.Fatal(err)
		}
		if got, want := slugs(t, st, bg), []string{"kept"}; !slices.Equal(got, want) {
			t.Errorf("after Atomic: %v, want %v", got, want)
		}

		err := st.Atomic(bg, func(ctx context.Context, _ orgd.Tx) error {
			return st.Atomic(ctx, func(context.Context, orgd.Tx) error { return nil })
		})
		if err == nil {
			t.Error("Atomic within Atomic was allowed")
		}
	})
}

// TestDeadlocksRunAgain: of two transactions that deadlock, PostgreSQL
// aborts one; the store runs it again, tells Options.Retried why, and both
// writes land once each.
func TestDeadlocksRunAgain(t *testing.T) {
	url := testdb.URL(t, store.Postgres)
	ctx := context.Background()
	var mu sync.Mutex
	var causes []string
	st, err := store.Open(ctx, url, store.Options{Retried: func(cause string) {
		mu.Lock()
		defer mu.Unlock()
		causes = append(causes, cause)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.DB().ExecContext(ctx, `CREATE TABLE pair (id int PRIMARY KEY, v int NOT NULL); INSERT INTO pair VALUES (1, 0), (2, 0)`); err != nil {
		t.Fatal(err)
	}
	// Each locks its first row, waits until the other has locked its own,
	// then takes the other's: a deadlock on the first attempt. The waits
	// are on closed channels when a transaction runs again.
	locked := []chan struct{}{make(chan struct{}), make(chan struct{})}
	once := []sync.Once{{}, {}}
	write := func(first, second int) error {
		return st.WriteTx(ctx, func(tx orgd.Tx) error {
			if err := store.Exec(ctx, tx, `UPDATE pair SET v = v + 1 WHERE id = $1`, first); err != nil {
				return err
			}
			once[first-1].Do(func() { close(locked[first-1]) })
			<-locked[second-1]
			return store.Exec(ctx, tx, `UPDATE pair SET v = v + 1 WHERE id = $1`, second)
		})
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = write(1, 2) })
	wg.Go(func() { errs[1] = write(2, 1) })
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("transaction %d: %v", i+1, err)
		}
	}
	if !slices.Equal(causes, []string{"deadlock"}) {
		t.Errorf("retried for %v, want [deadlock]", causes)
	}
	var sum int
	if err := st.DB().QueryRowContext(ctx, `SELECT sum(v) FROM pair`).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != 4 {
		t.Errorf("the rows were written %d times, want 4 (each transaction once)", sum)
	}
}
