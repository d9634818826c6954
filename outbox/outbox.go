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

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
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
	// Queues put some kinds of jobs in queues of their own, with workers of
	// their own, so that they neither wait for the others nor hold them up
	// (a slow webhook receiver does not delay emails). The other kinds go to
	// the default queue. Writers and workers must agree on them.
	Queues []Queue
	// Periodic jobs are written at their interval, and once at start, by
	// one of the instances that share the database (River's leader). They
	// need Workers.
	Periodic []Periodic
	// WriteUnworkedKinds lets the outbox write jobs of kinds that none of
	// Workers does, leaving them for another process (tests that run some
	// workers only). Otherwise writing such a job is an error.
	WriteUnworkedKinds bool
	Log                *slog.Logger
}

// Queue is a queue of its own for some kinds of jobs.
type Queue struct {
	Name        string
	Kinds       []string
	Concurrency int
}

// Periodic is a job written every Interval.
type Periodic struct {
	Job      orgd.Job
	Interval time.Duration
}

// Outbox writes and runs jobs.
type Outbox struct {
	// client is River's client, of the engine's driver: pgx's own for
	// PostgreSQL, so that River's statements are sent as pgx means them
	// (through database/sql their array arguments were turned to text and
	// parsed back, a seventh of the CPU of a create).
	client interface {
		Start(context.Context) error
		Stop(context.Context) error
		StopAndCancel(context.Context) error
	}
	insert  func(context.Context, store.JobTx, []river.InsertManyParams) error
	pool    *pgxpool.Pool // River's own connections on PostgreSQL, when working
	working bool
	queueOf map[string]string // kind to queue, for the kinds not in the default queue
}

// driverFor is River's driver over the store's database/sql pool: the
// client's on SQLite, and the migrations' on both engines.
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
		SkipUnknownJobCheck:         opts.WriteUnworkedKinds,
	}
	if opts.JobTimeout > 0 {
		cfg.JobTimeout = opts.JobTimeout
		cfg.RescueStuckJobsAfter = opts.JobTimeout + 5*time.Second
	}
	o := &Outbox{working: opts.Workers != nil, queueOf: map[string]string{}}
	for _, q := range opts.Queues {
		for _, k := range q.Kinds {
			o.queueOf[k] = q.Name
		}
	}
	if opts.Workers != nil {
		cfg.Workers = opts.Workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(1, opts.Concurrency)}}
		for _, q := range opts.Queues {
			cfg.Queues[q.Name] = river.QueueConfig{MaxWorkers: max(1, q.Concurrency)}
		}
		if opts.PollInterval > 0 {
			cfg.FetchPollInterval = opts.PollInterval
			cfg.FetchCooldown = min(opts.PollInterval, 100*time.Millisecond)
		}
		for _, p := range opts.Periodic {
			insert := o.insertOpts(p.Job)
			cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(p.Interval),
				func() (river.JobArgs, *river.InsertOpts) { return p.Job, insert }, &river.PeriodicJobOpts{RunOnStart: true}))
		}
	}
	if err := o.open(st, cfg); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	st.SetEnqueuer(o.enqueue)
	return o, nil
}

// open makes the River client of the store's engine.
func (o *Outbox) open(st *store.Store, cfg *river.Config) error {
	if st.Engine() == store.SQLite {
		client, err := river.NewClient(driverFor(st), cfg)
		if err != nil {
			return err
		}
		o.client = client
		// orgd's jobs are never unique, so River's fast insert serves: one
		// plain INSERT per batch, where InsertManyTx also writes a nonce
		// into each job and reads every row back to tell inserted jobs
		// from unique ones. On the one writer's path that was 46% of its
		// time in a batch create of 100 (docs/benchmarks.md). A job kind
		// given UniqueOpts (insertOpts) would need InsertManyTx again:
		// the fast insert drops a duplicate without an error.
		o.insert = func(ctx context.Context, tx store.JobTx, params []river.InsertManyParams) error {
			_, err := client.InsertManyFastTx(ctx, tx.Tx, params)
			return err
		}
		return nil
	}
	if o.working {
		// Workers fetch, complete and listen for new jobs on connections
		// of their own; writing jobs needs none (it joins the store's
		// transactions).
		pool, err := pgxpool.New(context.Background(), st.URL())
		if err != nil {
			return err
		}
		o.pool = pool
	}
	client, err := river.NewClient(riverpgxv5.New(o.pool), cfg)
	if err != nil {
		if o.pool != nil {
			o.pool.Close()
		}
		return err
	}
	o.client = client
	o.insert = func(ctx context.Context, tx store.JobTx, params []river.InsertManyParams) error {
		return inPgxTx(tx, func(pgxTx pgx.Tx) error {
			_, err := client.InsertManyTx(ctx, pgxTx, params)
			return err
		})
	}
	return nil
}

func (o *Outbox) insertOpts(job orgd.Job) *river.InsertOpts {
	if q, ok := o.queueOf[job.Kind()]; ok {
		return &river.InsertOpts{Queue: q}
	}
	return nil
}

func (o *Outbox) enqueue(ctx context.Context, tx store.JobTx, jobs []orgd.Job) error {
	params := make([]river.InsertManyParams, len(jobs))
	for i, job := range jobs {
		params[i] = river.InsertManyParams{Args: job, InsertOpts: o.insertOpts(job)}
	}
	return o.insert(ctx, tx, params)
}

// Start starts the workers; it returns at once. They run until Stop, not
// until ctx ends: River cancels the jobs in progress when the context of
// Start ends, and a signal that ends it must leave them the graceful stop
// that Stop gives (a webhook cut off after the receiver took it is sent
// again; an email cut off mid-conversation may be too).
func (o *Outbox) Start(ctx context.Context) error {
	if !o.working {
		return nil
	}
	return o.client.Start(context.WithoutCancel(ctx))
}

// Stop stops fetching jobs and waits for the running ones to finish until
// ctx ends, then cancels them (they are retried later).
func (o *Outbox) Stop(ctx context.Context) error {
	if !o.working {
		return nil
	}
	err := o.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = o.client.StopAndCancel(context.Background())
	}
	if o.pool != nil {
		o.pool.Close()
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
