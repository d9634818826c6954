package main

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/store"
)

// A scenario's result counts the jobs orgd's outbox held when it started:
// the bootstrap's emails and those asked for since, on each engine.
func TestOutboxJobsAreCounted(t *testing.T) {
	ctx := context.Background()
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
			before, err := outboxJobs(ctx, jobs)
			if err != nil || before == 0 {
				t.Fatalf("the bootstrap left %d jobs (%v), want its emails", before, err)
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

			// What a scenario's result reports: orgd is not running, so all
			// of them wait.
			if n, err := outboxJobs(ctx, jobs); err != nil || n != before+emails {
				t.Errorf("outbox jobs %d (%v), want %d", n, err, before+emails)
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
