package store

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// SQLite in WAL mode appends every commit to the write-ahead log; a
// checkpoint copies the log's pages back into the database file and syncs
// it. SQLite's default runs that checkpoint inside the commit that takes the
// log past 1,000 pages, on the committing connection. orgd has one write
// connection, so every writer waited for those copies and syncs: 12% of the
// CPU of 16 clients creating 100 invitations each, all of it on the one
// writer's path (docs/benchmarks.md). The write connection therefore runs
// with wal_autocheckpoint=0, and a connection of the checkpointer's own runs
// a PASSIVE checkpoint every checkpointEvery: it takes no lock that a writer
// or a reader waits for, and copies what no reader still needs. When the
// store's connections are the last ones to the file (no orgd admin beside
// it), closing them checkpoints what is left, as SQLite does.
const checkpointEvery = time.Second

type checkpointer struct {
	db     *sql.DB
	log    *slog.Logger
	ctx    context.Context // ends at close
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	err    error
}

// startCheckpoints checkpoints the database that dsn opens every interval
// until close.
func startCheckpoints(dsn string, every time.Duration, log *slog.Logger) *checkpointer {
	db := sql.OpenDB(&sqliteConnector{dsn: dsn})
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	c := &checkpointer{db: db, log: log, done: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	go c.run(every)
	return c
}

func (c *checkpointer) run(every time.Duration) {
	defer close(c.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
		}
		err := c.checkpoint()
		if c.ctx.Err() != nil {
			return // interrupted by close
		}
		switch {
		case err != nil && !failing:
			c.log.Warn("SQLite checkpoint failed; the write-ahead log grows until one succeeds", "err", err)
		case err == nil && failing:
			c.log.Info("SQLite checkpoint succeeded again")
		}
		failing = err != nil
	}
}

// checkpoint runs one PASSIVE checkpoint. One that has not finished in a
// minute is abandoned until the next tick; close interrupts it at once, so
// that a stopping server does not wait for it.
func (c *checkpointer) checkpoint() error {
	ctx, cancel := context.WithTimeout(c.ctx, time.Minute)
	defer cancel()
	_, err := c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	return err
}

// close stops the checkpoints and closes their connection; it may be called
// more than once.
func (c *checkpointer) close() error {
	c.once.Do(func() {
		c.cancel()
		<-c.done
		c.err = c.db.Close()
	})
	return c.err
}
