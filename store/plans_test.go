package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/store"
)

// youngOrganization opens a PostgreSQL store holding one organization, o1,
// and no invitation, and returns one connection to it (where PostgreSQL
// keeps its plans), a function that runs SQL on it, and one that adds the
// open invitations numbered from to to of o1.
func youngOrganization(t *testing.T) (context.Context, *store.Store, *sql.Conn, func(string), func(from, to int)) {
	t.Helper()
	ctx := context.Background()
	s := testdb.OpenURL(t, testdb.URL(t, store.Postgres))
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	exec := func(q string) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	invite := func(from, to int) {
		t.Helper()
		exec(fmt.Sprintf(`INSERT INTO invitations (id, org_id, email, email_norm, status, token_hash, token_sealed, created_at, issued_at, expires_at)
			SELECT 'i' || g, 'o1', g || '@example.com', g || '@example.com', 'open', 't' || g, 's', g, g, g + 1000000
			FROM generate_series(%d, %d) AS g`, from, to))
	}
	exec(`INSERT INTO organizations (id, slug, name, created_at, updated_at) VALUES ('o1', 'acme', 'Acme', 1, 1)`)
	return ctx, s, conn, exec, invite
}

// TestInviteeLookupReadsOnlyItsAddresses reproduces a young PostgreSQL
// database: statistics taken while it was empty, a generic plan of the
// invitee look-up made when it held 2,000 invitations and cached (as pgx's
// prepared statements keep it), and the organization grown to 20,000 open
// invitations since. The
// cached plan must still read only the rows of the address it looks for;
// before migration 00006 it scanned the whole unique index (about 1,000
// buffers here).
func TestInviteeLookupReadsOnlyItsAddresses(t *testing.T) {
	ctx, _, conn, exec, invite := youngOrganization(t)
	exec(`ANALYZE`)
	invite(1, 2000)
	exec(`SET plan_cache_mode = force_generic_plan`)
	query, args := store.InviteesQuery(store.Postgres, "o1", []string{"x@example.com"})
	lits := make([]string, len(args))
	for i, a := range args {
		lits[i] = "'" + a.(string) + "'"
	}
	execute := `EXECUTE invitees(` + strings.Join(lits, ", ") + `)`
	exec(`PREPARE invitees AS ` + query)
	exec(execute) // the generic plan, made on empty tables
	invite(2001, 20000)
	var plan string
	if err := conn.QueryRowContext(ctx, `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) `+execute).Scan(&plan); err != nil {
		t.Fatal(err)
	}
	var out []struct {
		Plan struct {
			Hit  int `json:"Shared Hit Blocks"`
			Read int `json:"Shared Read Blocks"`
		}
	}
	if err := json.Unmarshal([]byte(plan), &out); err != nil || len(out) != 1 {
		t.Fatalf("EXPLAIN: %v\n%s", err, plan)
	}
	if blocks := out[0].Plan.Hit + out[0].Plan.Read; blocks > 50 {
		t.Errorf("the look-up of one address read %d buffers among 20,000 invitations; plan:\n%s", blocks, plan)
	}
}

// TestInviteeBatchPlannedForItsAddresses: the look-up of a batch of
// addresses, run often on one connection while the organization was small
// (PostgreSQL then keeps a generic plan of a prepared statement), reads only
// the rows of its addresses after the organization has grown, with no
// ANALYZE between. With the cached generic plan it read every open
// invitation of the organization: on the load tool's small bootstrap, 30 ms
// of each batch create of 100.
func TestInviteeBatchPlannedForItsAddresses(t *testing.T) {
	ctx, s, conn, exec, invite := youngOrganization(t)
	invite(1, 20)
	exec(`ANALYZE`)
	norms := make([]string, 100)
	for i := range norms {
		norms[i] = fmt.Sprintf("nobody%d@example.com", i)
	}
	for range 10 { // past the five runs after which PostgreSQL may keep a generic plan
		if _, err := s.InviteesOn(ctx, conn, "o1", norms); err != nil {
			t.Fatal(err)
		}
	}
	invite(21, 30000)
	// The counts of this backend not yet reported (the warm-up's among them)
	// stay put within a transaction: the look-up's own are the difference.
	exec(`BEGIN`)
	defer conn.ExecContext(ctx, `ROLLBACK`)
	tuples := func() (n int) {
		t.Helper()
		if err := conn.QueryRowContext(ctx, `SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)
			FROM pg_stat_xact_user_tables WHERE relname = 'invitations'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := tuples()
	if _, err := s.InviteesOn(ctx, conn, "o1", norms); err != nil {
		t.Fatal(err)
	}
	if read := tuples() - before; read > 0 {
		t.Errorf("the look-up of 100 addresses that have no invitation read %d invitations of an organization of 30,000", read)
	}
}
