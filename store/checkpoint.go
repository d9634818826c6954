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
// connection, so every writer waited for those copies and syncs: a tenth of
// the CPU of 16 clients creating 100 invitations each, all of it on the one
// writer's path (docs/benchmarks.md). The write connection therefore runs
// with wal_autocheckpoint=0, and a connection of the checkpointer's own runs
// a PASSIVE checkpoint every checkpointEvery: it takes no lock that a writer
// or a reader waits for, and copies what no reader still needs. Closing the
// store's last connection checkpoints what is left, as SQLite does.
const checkpointEvery = time.Second

type checkpointer struct {
	db   *sql.DB
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}
	once sync.Once
	err  error
}

// startCheckpoints checkpoints the database that dsn opens every interval
// until close.
func startCheckpoints(dsn string, every time.Duration, log *slog.Logger) *checkpointer {
	db := sql.OpenDB(&sqliteConnector{dsn: dsn})
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	c := &checkpointer{db: db, log: log, stop: make(chan struct{}), done: make(chan struct{})}
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
		case <-c.stop:
			return
		case <-tick.C:
		}
		err := c.checkpoint()
		switch {
		case err != nil && !failing:
			c.log.Warn("SQLite checkpoint failed; the write-ahead log grows until one succeeds", "err", err)
		case err == nil && failing:
			c.log.Info("SQLite checkpoint succeeded again")
		}
		failing = err != nil
	}
}

// checkpoint runs one PASSIVE checkpoint, bounded by the interval's own scale: a
// checkpoint that has not finished in a minute is abandoned until the next
// tick.
func (c *checkpointer) checkpoint() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	return err
}

// close stops the checkpoints and closes their connection; it may be called
// more than once.
func (c *checkpointer) close() error {
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		c.err = c.db.Close()
	})
	return c.err
}
