package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/store"
)

// TestSQLiteKeepsStatements: a SQLite connection runs a text again from the
// statement it kept, runs the same text while that statement's rows are
// still open, and keeps at most MaxCachedStmts.
func TestSQLiteKeepsStatements(t *testing.T) {
	ctx := context.Background()
	st := testdb.Open(t, store.SQLite)
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	kept := func() (n int) {
		if err := conn.Raw(func(dc any) error { n = store.CachedStatements(dc); return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := kept()
	const q = "SELECT value FROM json_each($1)"
	rows, err := conn.QueryContext(ctx, q, "[1,2,3]")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close() // a failure below must not leave the connection held
	var outer, inner []int
	// Bounded: a statement reset under its own rows would read them forever.
	for len(outer) < 10 && rows.Next() {
		var v, w int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		// The same text while its statement is busy with the outer rows.
		if err := conn.QueryRowContext(ctx, q, fmt.Sprintf("[%d]", v*10)).Scan(&w); err != nil {
			t.Fatal(err)
		}
		outer, inner = append(outer, v), append(inner, w)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(outer, inner) != "[1 2 3] [10 20 30]" {
		t.Fatalf("nested runs of one text read %v and %v", outer, inner)
	}
	if n := kept() - before; n != 1 {
		t.Fatalf("kept %d more statements after running one text, want 1", n)
	}
	for i := range store.MaxCachedStmts + 50 {
		var got int
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT %d + $1", i), 1).Scan(&got); err != nil || got != i+1 {
			t.Fatalf("statement %d: got %d, %v", i, got, err)
		}
		if _, err := conn.ExecContext(ctx, "SELECT $1", i); err != nil {
			t.Fatal(err)
		}
	}
	if n := kept(); n != store.MaxCachedStmts {
		t.Errorf("kept %d statements, want at most %d", n, store.MaxCachedStmts)
	}
}
