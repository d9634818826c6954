// Package testdb gives tests fresh, migrated databases: a SQLite file in a
// temporary directory, and, when ORGD_TEST_POSTGRES_URL names a PostgreSQL
// server, a database with a fresh name that is dropped when the test ends.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/orgd/orgd/outbox"
	"github.com/orgd/orgd/store"
)

// PostgresEnv names the variable that holds the URL of a PostgreSQL server
// (any database on it) where tests may create and drop databases.
const PostgresEnv = "ORGD_TEST_POSTGRES_URL"

// Engines lists the engines tests run on.
var Engines = []store.Engine{store.SQLite, store.Postgres}

// Each runs fn as a subtest on every engine. The PostgreSQL subtest is
// skipped only when PostgresEnv is unset.
func Each(t *testing.T, fn func(t *testing.T, databaseURL string)) {
	t.Helper()
	for _, e := range Engines {
		t.Run(string(e), func(t *testing.T) {
			fn(t, URL(t, e))
		})
	}
}

// URL returns the URL of a new, empty database of engine e that lives as
// long as the test.
func URL(t testing.TB, e store.Engine) string {
	t.Helper()
	if e == store.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "orgd.db")
	}
	return postgresURL(t, "")
}

// PostgresURL returns the URL of a new, empty PostgreSQL database whose
// encoding is encoding (LATIN1, SQL_ASCII, ...) and whose locale is C, which
// suits every encoding; it lives as long as the test, which is skipped when
// PostgresEnv is unset.
func PostgresURL(t testing.TB, encoding string) string {
	t.Helper()
	return postgresURL(t, " ENCODING '"+encoding+"' LOCALE 'C' TEMPLATE template0")
}

// postgresURL creates a database with a fresh name and the options of
// CREATE DATABASE given, dropped when the test ends.
func postgresURL(t testing.TB, options string) string {
	t.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		t.Skipf("%s is not set; skipping the PostgreSQL run", PostgresEnv)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "orgd_test_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", store.Redact(admin), err)
	}
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name+options); err != nil {
		db.Close()
		t.Fatalf("create test database on %s: %v", store.Redact(admin), err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// Open returns a migrated store on a new database of engine e.
func Open(t testing.TB, e store.Engine) *store.Store {
	t.Helper()
	return OpenURL(t, URL(t, e))
}

// OpenURL returns a store on databaseURL with orgd's and the outbox's
// migrations applied, closed when the test ends.
func OpenURL(t testing.TB, databaseURL string) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, databaseURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := outbox.Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	return s
}

// Rows returns the column names and every row of a query, each value as
// the text the driver gives.
func Rows(t testing.TB, db *sql.DB, query string) (cols []string, rows [][]string) {
	t.Helper()
	r, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cols, err = r.Columns()
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = string(v)
		}
		rows = append(rows, row)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, rows
}
