package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/store"
)

// The bootstrap asks for no emails, and before a scenario the tool waits
// until the orgd it runs has delivered the emails earlier work asked for,
// or reports how many were left when it gave up: on each engine, against
// the built orgd, whose outbox runs them.
func TestScenariosStartWithTheOutboxIdle(t *testing.T) {
	ctx := context.Background()
	bin, err := buildOrgd(ctx, "..", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o, err := parseOptions(smallRun, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range testdb.Engines {
		t.Run(string(e), func(t *testing.T) {
			url := testdb.URL(t, e)
			testdb.OpenURL(t, url)
			dir := t.TempDir()
			db := &database{engine: e, url: url}
			settings := orgdSettings(db, dir, randomHex(32))
			f, err := fill(ctx, settings, o.plan(), func(string) {})
			if err != nil {
				t.Fatal(err)
			}
			jobs, err := openJobs(db)
			if err != nil {
				t.Fatal(err)
			}
			defer jobs.Close()
			if n, err := outboxWaiting(ctx, jobs); err != nil || n != 0 {
				t.Fatalf("the bootstrap left %d jobs (%v), want none", n, err)
			}

			// Invitations with their emails, while no orgd runs.
			const emails = 25
			cfg, key, err := loadConfig(settings)
			if err != nil {
				t.Fatal(err)
			}
			st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := writeJobs(st); err != nil {
				t.Fatal(err)
			}
			svc := orgd.NewService(st, must(orgd.NewBox(key)), orgd.Options{Limits: cfg.Limits})
			owner := must(svc.Authenticate(ctx, f.creators[0].Owner.Key))
			addrs := make([]string, emails)
			for i := range addrs {
				addrs[i] = fmt.Sprintf("drain-%d@example.com", i)
			}
			if _, _, err := svc.CreateInvitations(ctx, owner, f.creators[0].ID, orgd.InviteRequest{Emails: addrs, SendEmail: true}); err != nil {
				t.Fatal(err)
			}
			st.Close()

			// Nobody runs them: the wait gives up and says what is left.
			o.drainWait = 300 * time.Millisecond
			waited, left, err := o.waitDrained(ctx, jobs)
			if err != nil || left != emails || waited < o.drainWait {
				t.Errorf("with no orgd: waited %v, %d jobs left (%v); want at least %v and %d", waited, left, err, o.drainWait, emails)
			}

			// orgd runs them: the wait ends with none left.
			srv, err := startOrgd(ctx, bin, orgdEnv(settings), filepath.Join(dir, "orgd.log"))
			if err != nil {
				t.Fatal(err)
			}
			defer srv.stop()
			o.drainWait = time.Minute
			if waited, left, err := o.waitDrained(ctx, jobs); err != nil || left != 0 {
				t.Errorf("with orgd: %d jobs left after %v (%v), want none", left, waited, err)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
