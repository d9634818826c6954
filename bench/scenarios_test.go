package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/orgd/orgd/internal/testdb"
)

// smallRun is the command line of the tool's test: every scenario, on a
// fixture small enough to bootstrap in a moment. The lists of 30 have a
// deep page, those of 20 do not. The test runs on testdb's engines; naming
// SQLite alone spares the parse a PostgreSQL server.
var smallRun = []string{"-engines", "sqlite", "-invitations", "20,30", "-members", "20,30", "-orgs", "3", "-accept-pool", "1", "-clients", "1"}

// Every scenario the tool can run, each run once (a workload that draws
// its requests, as many times as it says) against orgd's handler served in
// this process on a fixture the tool's own bootstrap made, on each engine:
// every answer must pass its check. An answer that no longer decodes into
// the type its check names (a member the type lacks, one renamed) or no
// longer meets the check fails here, not in a full run where every request
// of the scenario would count as an error. The scenarios come from the
// tool's own table (loadSet.scenarios), the limits from the functions the
// tool measures them with.
func TestEveryScenarioPassesItsChecks(t *testing.T) {
	ctx := context.Background()
	o, err := parseOptions(smallRun, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Run(surfaceLimit+"/"+limitHTTP, func(t *testing.T) {
		sc, stop, err := httpLimit(1)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		runChecked(t, ctx, sc)
	})
	for _, e := range testdb.Engines {
		t.Run(string(e), func(t *testing.T) {
			url := testdb.URL(t, e) // a fresh database, dropped at the end
			testdb.OpenURL(t, url)  // migrated as orgd migrate does
			dir := t.TempDir()
			settings := orgdSettings(&database{engine: e, url: url}, dir, randomHex(32))
			f, err := fill(ctx, settings, o.plan(), func(s string) { t.Logf("bootstrapped %s", s) })
			if err != nil {
				t.Fatal(err)
			}
			srv, err := serveInProcess(ctx, settings, filepath.Join(dir, "orgd.log"))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := srv.stop(); err != nil {
					t.Error(err)
				}
			}()
			insert, done, err := insertLimit(ctx, url, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := done(); err != nil {
					t.Error(err)
				}
			}()
			c := newClient(srv.url(), 1)
			defer c.close()
			set := &loadSet{f: f, c: c, clients: 1}
			for _, sc := range append([]scenario{insert}, set.scenarios(o.surfaces)...) {
				t.Run(sc.id(), func(t *testing.T) { runChecked(t, ctx, sc) })
			}
		})
	}
}

// runChecked runs sc's set-up and then its operation as client 0, once or
// sc.checkRuns times, and fails on the first error.
func runChecked(t *testing.T, ctx context.Context, sc scenario) {
	t.Helper()
	if sc.setup != nil {
		if err := sc.setup(ctx); err != nil {
			t.Fatalf("set-up: %v", err)
		}
	}
	for i := range max(1, sc.checkRuns) {
		_, err := sc.op(ctx, 0)
		if errors.Is(err, errExhausted) {
			t.Fatalf("operation %d: the fixture ran out of work", i+1)
		}
		if err != nil {
			t.Fatalf("operation %d: %v", i+1, err)
		}
	}
}
