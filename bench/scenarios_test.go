package main

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
// tool measures them with; each runs through the tool's drive and
// newResult, and the results must be those of the whole table, each of
// every operation it was asked for with a checked request, and a workload
// that mixes kinds of request must have sent every kind it mixes.
func TestEveryScenarioPassesItsChecks(t *testing.T) {
	ctx := context.Background()
	o, err := parseOptions(smallRun, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string // engine, surface/scenario
	t.Run(surfaceLimit+"/"+limitHTTP, func(t *testing.T) {
		sc, stop, err := httpLimit(1)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		want = append(want, sc.id())
		got = append(got, runChecked(t, ctx, "", sc)...)
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
				want = append(want, string(e)+" "+sc.id())
				t.Run(sc.id(), func(t *testing.T) { got = append(got, runChecked(t, ctx, string(e), sc)...) })
			}
		})
	}
	if !slices.Equal(got, want) {
		t.Errorf("results of\n%s\nwant one for every scenario of the table, in its order:\n%s",
			strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// runChecked runs sc's set-up and then its operation from one client,
// once or sc.checkRuns times, through drive, and judges the result the
// tool would report: every operation ran, none failed its check, each sent
// a request, and together they sent every kind of request sc mixes. It
// returns the result's engine and scenario, or nothing when it failed.
func runChecked(t *testing.T, ctx context.Context, engine string, sc scenario) []string {
	t.Helper()
	if sc.setup != nil {
		if err := sc.setup(ctx); err != nil {
			t.Fatalf("set-up: %v", err)
		}
	}
	runs := max(1, sc.checkRuns)
	// The client stops by running out of work after runs operations, not
	// at the deadline, which is there only to bound a run that hangs.
	run := drive(ctx, 1, time.Hour, upTo(runs, sc.op))
	r := newResult(engine, sc.surface, sc.name, 1, run)
	ok := true
	fail := func(format string, a ...any) { t.Errorf(format, a...); ok = false }
	if r.Requests != runs {
		fail("%d of %d operations ran: the fixture ran out of work", r.Requests, runs)
	}
	if r.Errors > 0 {
		fail("%d of %d operations failed: %v", r.Errors, r.Requests, r.ErrorKinds)
	}
	if n := run.Kinds[""]; n > 0 {
		fail("%d of %d operations sent no request", n, r.Requests)
	}
	if len(run.Kinds) != max(1, sc.kinds) {
		fail("sent %d kinds of request (%v), want %d", len(run.Kinds), run.Kinds, max(1, sc.kinds))
	}
	if !ok {
		return nil
	}
	return []string{strings.TrimPrefix(r.Engine+" "+r.Surface+"/"+r.Scenario, " ")}
}

// upTo returns op, that has nothing left to do after its first n operations.
func upTo(n int, op Op) Op {
	var done atomic.Int64
	return func(ctx context.Context, worker int) (string, error) {
		if done.Add(1) > int64(n) {
			return "", errExhausted
		}
		return op(ctx, worker)
	}
}
