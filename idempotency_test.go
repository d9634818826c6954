package orgd_test

import (
	"context"
	"testing"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/store"
)

// keyRun is a Run that creates an API key for p and answers with it,
// counting its runs; keep says whether it keeps its answer.
func (f *fixture) keyRun(p *orgd.Principal, runs *int, keep bool) orgd.Run {
	return func(ctx context.Context) ([]byte, bool) {
		*runs++
		k, err := f.svc.CreateAPIKey(ctx, p, p.User.ID, "ci", "")
		if err != nil {
			f.t.Error(err)
			return nil, false
		}
		return []byte(k.Secret), keep
	}
}

func (f *fixture) countKeys(p *orgd.Principal) int {
	f.t.Helper()
	return len(must(f.svc.ListAPIKeys(f.ctx, orgd.SystemPrincipal, p.User.ID)))
}

func (f *fixture) countRecords() int {
	f.t.Helper()
	var n int
	if err := f.store.DB().QueryRow(`SELECT COUNT(*) FROM idempotency_keys`).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// TestIdempotentRunsOnce: a key runs its request once and replays the
// answer; another request with it is refused; another user's key of the
// same name is another key; an expired key is new; an answer that is not
// kept leaves no change and no record; expired records are deleted.
func TestIdempotentRunsOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		ann, bob := f.owner, f.member("bob@acme.test", orgd.RoleReader)
		var runs int
		first, replayed, err := f.svc.Idempotent(f.ctx, ann, "k1", "fp1", f.keyRun(ann, &runs, true))
		if err != nil || replayed || runs != 1 {
			t.Fatalf("first request: replayed %v, %d runs, %v", replayed, runs, err)
		}
		again, replayed, err := f.svc.Idempotent(f.ctx, ann, "k1", "fp1", f.keyRun(ann, &runs, true))
		if err != nil || !replayed || string(again) != string(first) || runs != 1 || f.countKeys(ann) != 1 {
			t.Fatalf("retry: replayed %v, same answer %v, %d runs, %d keys, %v", replayed, string(again) == string(first), runs, f.countKeys(ann), err)
		}
		_, _, err = f.svc.Idempotent(f.ctx, ann, "k1", "fp2", f.keyRun(ann, &runs, true))
		wantCode(t, err, orgd.CodeIdempotencyReused)

		theirs, replayed, err := f.svc.Idempotent(f.ctx, bob, "k1", "fp1", f.keyRun(bob, &runs, true))
		if err != nil || replayed || string(theirs) == string(first) || runs != 2 {
			t.Fatalf("another user's k1: replayed %v, %d runs, %v", replayed, runs, err)
		}

		// An answer that is not kept is given once; its changes are undone
		// and a retry runs again.
		for i := range 2 {
			_, replayed, err := f.svc.Idempotent(f.ctx, ann, "k2", "fp1", f.keyRun(ann, &runs, false))
			if err != nil || replayed || runs != 3+i {
				t.Fatalf("an answer not kept, try %d: replayed %v, %d runs, %v", i, replayed, runs, err)
			}
		}
		if n := f.countKeys(ann); n != 1 {
			t.Errorf("the runs whose answers were not kept left %d keys, want 1", n)
		}
		if n := f.countRecords(); n != 2 {
			t.Errorf("%d records, want 2 (ann's and bob's k1)", n)
		}

		// After the TTL the key is new, whatever request it comes with,
		// and the next stored answer deletes the expired records.
		f.clock.Advance(orgd.DefaultIdempotencyTTL)
		_, replayed, err = f.svc.Idempotent(f.ctx, ann, "k1", "fp2", f.keyRun(ann, &runs, true))
		if err != nil || replayed || runs != 5 {
			t.Fatalf("an expired key: replayed %v, %d runs, %v", replayed, runs, err)
		}
		if n := f.countRecords(); n != 1 {
			t.Errorf("after expiry %d records, want 1 (ann's new k1)", n)
		}
	})
}

// TestIdempotentKeyInUse: while a request with a key runs, another with the
// key is refused at once, in the same process and (PostgreSQL) from
// another instance on the same database; afterwards it gets the answer.
func TestIdempotentKeyInUse(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		p := f.owner
		started, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
		go func() {
			_, _, err := f.svc.Idempotent(f.ctx, p, "k", "fp", func(ctx context.Context) ([]byte, bool) {
				close(started)
				<-release
				return []byte("first"), true
			})
			done <- err
		}()
		<-started
		never := func(context.Context) ([]byte, bool) {
			t.Error("a second request ran while the first held the key")
			return nil, false
		}
		_, _, err := f.svc.Idempotent(f.ctx, p, "k", "fp", never)
		wantCode(t, err, orgd.CodeIdempotencyInUse)

		var other *orgd.Service
		if engine, _, _ := store.Parse(url); engine == store.Postgres {
			// A second instance: it shares the database, not the process.
			box, _ := orgd.NewBox(make([]byte, orgd.KeySize))
			other = orgd.NewService(testdb.OpenURL(t, url), box, orgd.Options{Limits: orgd.DefaultLimits(), Now: f.clock.Now})
			_, _, err := other.Idempotent(f.ctx, p, "k", "fp", never)
			wantCode(t, err, orgd.CodeIdempotencyInUse)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for _, svc := range []*orgd.Service{f.svc, other} {
			if svc == nil {
				continue
			}
			answer, replayed, err := svc.Idempotent(f.ctx, p, "k", "fp", never)
			if err != nil || !replayed || string(answer) != "first" {
				t.Errorf("after the first request: %q, replayed %v, %v", answer, replayed, err)
			}
		}
	})
}
