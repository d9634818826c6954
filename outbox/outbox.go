// Package outbox is orgd's transactional outbox, on River: a job is written
// in the same database transaction as the change that asks for it, so it
// exists exactly when the change does, and workers do it later, retrying
// temporary failures with backoff. It runs on the store's own database,
// SQLite or PostgreSQL.
package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/store"
)

// Options configure an Outbox.
type Options struct {
	// Workers do the jobs; nil makes an outbox that only writes jobs (the
	// admin commands).
	Workers *river.Workers
	// Concurrency is how many jobs run at once.
	Concurrency int
	// RetryBase and RetryMax bound the backoff between attempts of a job:
	// RetryBase doubled per attempt, at most RetryMax, with 10% jitter.
	RetryBase, RetryMax time.Duration
	// PollInterval is how often idle workers look for new jobs.
	PollInterval time.Duration
	// JobTimeout bounds one attempt of a job. A job still running after
	// JobTimeout plus a margin (its process died) is rescued and retried;
	// River looks for such jobs every 30 seconds.
	JobTimeout time.Duration
	Log        *slog.Logger
}

// Outbox writes and runs jobs.
type Outbox struct {
	client  *river.Client[*sql.Tx]
	working bool
}

func driverFor(st *store.Store) riverdriver.Driver[*sql.Tx] {
	if st.Engine() == store.SQLite {
		// The store's write pool holds SQLite's one writer connection;
		// River's writes take their turn on it.
		return riversqlite.New(st.DB())
	}
	return riverdatabasesql.New(st.DB())
}

// New returns an outbox on the store's database and makes the store write
// jobs through it.
func New(st *store.Store, opts Options) (*Outbox, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	cfg := &river.Config{
		Logger:      opts.Log.With("component", "outbox"),
		MaxAttempts: 10_000, // workers give up by age (see mail), not by count
		RetryPolicy: backoff{base: max(opts.RetryBase, 10*time.Millisecond), max: max(opts.RetryMax, opts.RetryBase)},
		// Finished jobs are kept a day for inspection.
		CompletedJobRetentionPeriod: 24 * time.Hour,
	}
	if opts.JobTimeout > 0 {
		cfg.JobTimeout = opts.JobTimeout
		cfg.RescueStuckJobsAfter = opts.JobTimeout + 5*time.Second
	}
	if opts.Workers != nil {
		cfg.Workers = opts.Workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(1, opts.Concurrency)}}
		if opts.PollInterval > 0 {
			cfg.FetchPollInterval = opts.PollInterval
			cfg.FetchCooldown = min(opts.PollInterval, 100*time.Millisecond)
		}
	}
	client, err := river.NewClient(driverFor(st), cfg)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	o := &Outbox{client: client, working: opts.Workers != nil}
	st.SetEnqueuer(o.enqueue)
	return o, nil
}

func (o *Outbox) enqueue(ctx context.Context, tx *sql.Tx, job orgd.Job) error {
	_, err := o.client.InsertTx(ctx, tx, job, nil)
	return err
}

// Start starts the workers; it returns at once.
func (o *Outbox) Start(ctx context.Context) error {
	if !o.working {
		return nil
	}
	return o.client.Start(ctx)
}

// Stop stops fetching jobs and waits for the running ones to finish until
// ctx ends, then cancels them (they are retried later).
func (o *Outbox) Stop(ctx context.Context) error {
	if !o.working {
		return nil
	}
	err := o.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return o.client.StopAndCancel(context.Background())
	}
	return err
}

// backoff doubles the wait per attempt up to a maximum, with jitter.
type backoff struct{ base, max time.Duration }

func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	wait := b.base
	for i := 1; i < job.Attempt && wait < b.max; i++ {
		wait *= 2
	}
	wait = min(wait, b.max)
	wait += time.Duration(rand.Int64N(int64(wait)/10 + 1))
	return time.Now().Add(wait)
}

// advisoryLockKey serialises outbox migrations of several instances on PostgreSQL.
const advisoryLockKey = 0x6f726764 // "orgd"

// Migrate brings the outbox tables up to date and reports the versions it
// applied.
func Migrate(ctx context.Context, st *store.Store) ([]int, error) {
	if st.Engine() == store.Postgres {
		conn, err := st.DB().Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, advisoryLockKey); err != nil {
			return nil, fmt.Errorf("lock outbox migrations: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, advisoryLockKey)
	}
	m, err := rivermigrate.New(driverFor(st), nil)
	if err != nil {
		return nil, err
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate outbox tables: %w", err)
	}
	var applied []int
	for _, v := range res.Versions {
		applied = append(applied, v.Version)
	}
	return applied, nil
}

// Pending reports whether outbox migrations are waiting.
func Pending(ctx context.Context, st *store.Store) (bool, error) {
	m, err := rivermigrate.New(driverFor(st), nil)
	if err != nil {
		return false, err
	}
	existing, err := m.ExistingVersions(ctx)
	if err != nil {
		// No migration table yet: everything is pending.
		return true, nil
	}
	return len(existing) < len(m.AllVersions()), nil
}
