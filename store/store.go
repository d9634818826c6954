// Package store keeps orgd's data in SQLite (embedded, the default) or
// PostgreSQL. Both engines run the same SQL text through database/sql; the
// few differences live in dialect. Migrations are embedded per engine.
package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/orgd/orgd"
)

// Engine names a database engine.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Store implements orgd.Store.
type Store struct {
	engine Engine
	// write takes every write transaction. For SQLite it holds one
	// connection, the one writer; for PostgreSQL it is the only pool.
	write *sql.DB
	// read serves read-only work; for PostgreSQL it is the same pool.
	read    *sql.DB
	dialect dialect
	target  string // the database, without credentials, for messages
	url     string // the database as opened, credentials included
	enqueue Enqueuer
	retried func(cause string) // Options.Retried
	// checkpoints copies SQLite's write-ahead log into the database file in
	// the background (checkpoint.go); nil for PostgreSQL.
	checkpoints *checkpointer
}

// JobTx is the transaction jobs are written in: the *sql.Tx, and the
// connection it runs on, for writers that speak the driver's own API
// through sql.Conn.Raw (PostgreSQL: a *stdlib.Conn of pgx).
type JobTx struct {
	Tx   *sql.Tx
	Conn *sql.Conn
}

// Enqueuer writes jobs to the outbox within a transaction.
type Enqueuer func(ctx context.Context, tx JobTx, jobs []orgd.Job) error

// URL returns the database the store opened, credentials included, for
// components that open connections of their own to it.
func (s *Store) URL() string { return s.url }

// SetEnqueuer sets how jobs are written to the outbox. Without one, an
// operation that enqueues a job fails.
func (s *Store) SetEnqueuer(e Enqueuer) { s.enqueue = e }

// ReadDB returns the pool for read-only work.
func (s *Store) ReadDB() *sql.DB { return s.read }

var _ orgd.Store = (*Store)(nil)

// Options tune the connection pools.
type Options struct {
	MaxConns int // PostgreSQL pool size and SQLite readers; 0 picks a default
	// Log receives what the store does on its own, such as a failed SQLite
	// checkpoint; nil means slog.Default().
	Log *slog.Logger
	// Retried, when not nil, is told of each transaction that the database
	// aborted for a transient reason and that the store runs again, with
	// the reason, one of RetryCauses.
	Retried func(cause string)
	// checkpointEvery overrides checkpointEvery, for tests.
	checkpointEvery time.Duration
}

// Why the database aborted a transaction that the store runs again
// (Options.Retried).
const (
	RetryDeadlock      = "deadlock"              // PostgreSQL
	RetrySerialization = "serialization_failure" // PostgreSQL
	RetryBusy          = "busy"                  // SQLite: the file is locked
)

// RetryCauses are the causes Options.Retried is told of.
var RetryCauses = []string{RetryDeadlock, RetrySerialization, RetryBusy}

// Parse reports the engine and driver DSN of a database URL: postgres:// or
// postgresql:// for PostgreSQL; sqlite:PATH, sqlite://PATH, file:PATH or a
// bare path for SQLite.
func Parse(databaseURL string) (Engine, string, error) {
	switch {
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		if _, err := url.Parse(databaseURL); err != nil {
			// The parse error quotes the whole URL, password included.
			return "", "", fmt.Errorf("the PostgreSQL URL %q is not valid (percent-encode special characters in the user name and password)", Redact(databaseURL))
		}
		return Postgres, databaseURL, nil
	case strings.HasPrefix(databaseURL, "sqlite://"):
		return SQLite, strings.TrimPrefix(databaseURL, "sqlite://"), nil
	case strings.HasPrefix(databaseURL, "sqlite:"):
		return SQLite, strings.TrimPrefix(databaseURL, "sqlite:"), nil
	case strings.HasPrefix(databaseURL, "file:"):
		return SQLite, strings.TrimPrefix(databaseURL, "file:"), nil
	case strings.Contains(databaseURL, "://"):
		return "", "", fmt.Errorf("unsupported database URL scheme in %q: use postgres:// or a SQLite file path", Redact(databaseURL))
	case databaseURL == "":
		return "", "", errors.New("no database URL")
	case isKeywordDSN(databaseURL):
		// Not quoted: it holds the password.
		return "", "", errors.New("a PostgreSQL key=value connection string (host=... dbname=...) is not taken: use a URL, postgres://user:password@host:5432/dbname?sslmode=..., or sqlite:PATH for a SQLite file whose name looks like one")
	}
	return SQLite, databaseURL, nil
}

// keywordDSN are the keywords of libpq's key=value connection strings
// that a database name would hardly begin with.
var keywordDSN = []string{"host", "hostaddr", "port", "dbname", "user", "password", "passfile", "sslmode", "connect_timeout", "service"}

// isKeywordDSN reports whether a bare path is in fact a libpq connection
// string such as "host=db user=orgd password=...", which would otherwise
// become the name of a new SQLite file.
func isKeywordDSN(s string) bool {
	for _, field := range strings.Fields(s) {
		if key, _, ok := strings.Cut(field, "="); ok && slices.Contains(keywordDSN, strings.ToLower(key)) {
			return true
		}
	}
	return false
}

// Redact hides the password of a database URL, in its user information or
// its query. Of a URL that does not parse it hides all user information.
func Redact(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		scheme, rest, ok := strings.Cut(databaseURL, "://")
		if at := strings.LastIndex(rest, "@"); ok && at >= 0 {
			return scheme + "://xxxxx" + rest[at:]
		}
		return databaseURL
	}
	hidden := false
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			hidden = true
		}
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
		hidden = true
	}
	if !hidden {
		// Unchanged: a SQLite path must stay the path it is (u.String()
		// writes "my dir" as "my%20dir", another file).
		return databaseURL
	}
	return u.String()
}

// Open connects to the database named by databaseURL. A SQLite file and its
// directory are created if missing. Open does not migrate.
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	engine, dsn, err := Parse(databaseURL)
	if err != nil {
		return nil, err
	}
	if engine == Postgres {
		return openPostgres(ctx, dsn, opts)
	}
	return openSQLite(ctx, dsn, opts)
}

func openPostgres(ctx context.Context, dsn string, opts Options) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL: %w", err)
	}
	n := opts.MaxConns
	if n <= 0 {
		n = 4 * runtime.NumCPU()
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{engine: Postgres, write: db, read: db, dialect: postgresDialect, target: Redact(dsn), url: dsn, retried: opts.Retried}
	if err := s.ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("no SQLite file path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create the directory of the SQLite database: %w", err)
		}
	}
	// WAL lets readers run beside the one writer; busy_timeout lets other
	// processes (orgd admin beside orgd serve) wait for the write lock;
	// synchronous=NORMAL in WAL mode loses no committed transaction when the
	// process dies, only on power loss.
	// temp_store=MEMORY keeps statement journals (a multi-row INSERT's, for
	// its own rollback) and sorts in memory, not in temporary files.
	common := "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)"
	// The writer never checkpoints (checkpoint.go), and its page cache of
	// 16 MB (SQLite's default is 2 MB) holds a batch of 1,000 invitations
	// with their indexes, audit events and jobs without spilling pages to
	// the log before the commit.
	write := sql.OpenDB(&sqliteConnector{dsn: "file:" + path + "?" + common + "&_txlock=immediate&_pragma=wal_autocheckpoint(0)&_pragma=cache_size(-16000)"})
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)
	read := sql.OpenDB(&sqliteConnector{dsn: "file:" + path + "?" + common + "&_pragma=query_only(1)"})
	n := opts.MaxConns
	if n <= 0 {
		n = max(4, runtime.NumCPU())
	}
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	s := &Store{engine: SQLite, write: write, read: read, dialect: sqliteDialect, target: path, url: path, retried: opts.Retried}
	if err := s.ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.checkpoints = startCheckpoints("file:"+path+"?"+common,
		cmp.Or(opts.checkpointEvery, checkpointEvery), cmp.Or(opts.Log, slog.Default()))
	return s, nil
}

func (s *Store) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("connect to %s database %s: %w", s.engine, s.target, err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.ping(ctx) }

// Engine reports which engine the store uses.
func (s *Store) Engine() Engine { return s.engine }

// Target names the database without credentials.
func (s *Store) Target() string { return s.target }

// Close stops the SQLite checkpoints and closes the pools.
func (s *Store) Close() error {
	var err error
	if s.checkpoints != nil {
		err = s.checkpoints.close()
	}
	err = errors.Join(err, s.write.Close())
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// DB returns the pool that takes writes, for tests and tools that need raw SQL.
func (s *Store) DB() *sql.DB { return s.write }

// ReadTx runs fn on the read pool. Each query sees committed data; reads
// that must agree with each other belong in WriteTx. Within Atomic, fn
// joins its transaction.
func (s *Store) ReadTx(ctx context.Context, fn func(orgd.Tx) error) error {
	if a := ambientFrom(ctx); a != nil {
		return a.savepoint(ctx, fn)
	}
	return s.answer(fn(&tx{q: s.read, d: s.dialect}))
}

const maxAttempts = 4

// WriteTx runs fn in a transaction and commits it. A transaction that the
// database aborts for a transient reason (a deadlock, a busy SQLite file) is
// run again from the start. Within Atomic, fn joins its transaction as a
// savepoint.
func (s *Store) WriteTx(ctx context.Context, fn func(orgd.Tx) error) error {
	if a := ambientFrom(ctx); a != nil {
		return a.savepoint(ctx, fn)
	}
	return s.answer(s.retry(ctx, func() error {
		return s.inTx(ctx, func(jt JobTx) error { return fn(s.txOn(jt)) })
	}))
}

// WriteOne implements orgd.Store.WriteOne. A transient failure runs fn
// again, as WriteTx does.
func (s *Store) WriteOne(ctx context.Context, fn func(orgd.Tx) error) error {
	if a := ambientFrom(ctx); a != nil {
		return a.savepoint(ctx, fn)
	}
	return s.answer(s.retry(ctx, func() error {
		return fn(&tx{q: &oneStatement{db: s.write}, d: s.dialect})
	}))
}

// oneStatement runs the one statement of a WriteOne on the write pool.
type oneStatement struct {
	db   *sql.DB
	used bool
}

var errSecondStatement = errors.New("store: a second statement in WriteOne")

func (o *oneStatement) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if o.used {
		return nil, errSecondStatement
	}
	o.used = true
	return o.db.ExecContext(ctx, query, args...)
}

func (o *oneStatement) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return nil, errors.New("store: WriteOne reads nothing")
}

func (o *oneStatement) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	// A *sql.Row cannot be made with an error: a cancelled context gives it
	// one before anything is sent.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	return o.db.QueryRowContext(cancelled, query, args...)
}

// Atomic implements orgd.Store.Atomic.
func (s *Store) Atomic(ctx context.Context, fn func(context.Context, orgd.Tx) error) error {
	if ambientFrom(ctx) != nil {
		return errors.New("store: Atomic within Atomic")
	}
	return s.answer(s.retry(ctx, func() error {
		return s.inTx(ctx, func(jt JobTx) error {
			a := &ambient{tx: s.txOn(jt)}
			err := fn(context.WithValue(ctx, ambientKey{}, a), a.tx)
			if a.aborted != nil {
				// fn may have turned it into an answer; the transaction
				// is lost all the same and runs again.
				return a.aborted
			}
			return err
		})
	}))
}

// answer marks an error of the database that refused text it cannot hold
// as orgd.ErrUnstorableText, whatever statement met it.
func (s *Store) answer(err error) error {
	if err != nil && s.dialect.unstorable != nil && s.dialect.unstorable(err) {
		return fmt.Errorf("%w: %w", orgd.ErrUnstorableText, err)
	}
	return err
}

// retry runs once until it succeeds, fails for a reason that is not
// transient, or has been tried maxAttempts times.
func (s *Store) retry(ctx context.Context, once func() error) error {
	for attempt := 1; ; attempt++ {
		err := once()
		if err == nil {
			return nil
		}
		cause := s.dialect.transient(err)
		if cause == "" || ctx.Err() != nil || attempt == maxAttempts {
			return err
		}
		if s.retried != nil {
			s.retried(cause)
		}
		time.Sleep(time.Duration(attempt*attempt) * 5 * time.Millisecond)
	}
}

// inTx runs fn in a transaction on the write pool, committing it if fn
// returns nil and rolling it back otherwise, a panic included.
func (s *Store) inTx(ctx context.Context, fn func(JobTx) error) (err error) {
	conn, sqlTx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer conn.Close()
	committed := false
	defer func() {
		if !committed {
			_ = sqlTx.Rollback()
		}
	}()
	if err = fn(JobTx{Tx: sqlTx, Conn: conn}); err != nil {
		return err
	}
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	committed = true
	return nil
}

// begin begins a transaction on a connection of the write pool, which the
// caller closes. When BEGIN fails it tries another connection, up to once
// per connection the pool may hold and once more: BEGIN has done nothing,
// and the usual cause is a pooled connection that PostgreSQL closed (a
// restart, an administrator, an idle timeout), which the pool only learns
// of by using it, and then discards.
func (s *Store) begin(ctx context.Context) (*sql.Conn, *sql.Tx, error) {
	tries := s.write.Stats().MaxOpenConnections + 1
	for attempt := 1; ; attempt++ {
		conn, err := s.write.Conn(ctx)
		if err != nil {
			return nil, nil, err
		}
		sqlTx, err := conn.BeginTx(ctx, nil)
		if err == nil {
			return conn, sqlTx, nil
		}
		conn.Close()
		if ctx.Err() != nil || attempt >= tries {
			return nil, nil, err
		}
	}
}

func (s *Store) txOn(jt JobTx) *tx {
	return &tx{q: jt.Tx, jobTx: jt, d: s.dialect, inTx: true, enqueue: s.enqueue}
}

// ambient is the transaction of an Atomic call, which the store calls made
// with its context join.
type ambient struct {
	tx         *tx
	savepoints int
	// aborted is the transient failure that lost the transaction: every
	// later call fails with it and Atomic runs again.
	aborted error
}

type ambientKey struct{}

func ambientFrom(ctx context.Context) *ambient {
	a, _ := ctx.Value(ambientKey{}).(*ambient)
	return a
}

// savepoint runs fn within the ambient transaction, undoing what it did if
// it fails.
func (a *ambient) savepoint(ctx context.Context, fn func(orgd.Tx) error) error {
	if a.aborted != nil {
		return a.aborted
	}
	a.savepoints++
	name := fmt.Sprintf("orgd_%d", a.savepoints)
	if _, err := a.tx.q.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return a.fail(err)
	}
	err := fn(a.tx)
	if err == nil {
		if _, err := a.tx.q.ExecContext(ctx, "RELEASE SAVEPOINT "+name); err != nil {
			return a.fail(err)
		}
		return nil
	}
	if a.tx.d.transient(err) != "" {
		return a.fail(err)
	}
	if _, rbErr := a.tx.q.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+name); rbErr != nil {
		return a.fail(errors.Join(err, rbErr))
	}
	return err
}

// fail records a failure after which the transaction cannot go on.
func (a *ambient) fail(err error) error {
	if a.aborted == nil {
		a.aborted = err
	}
	return err
}

// dialect holds what differs between the engines.
type dialect struct {
	engine Engine
	// lockOrgRow ends a query of "organizations o" to lock the rows it
	// reads until the transaction ends; empty where the transaction
	// already excludes other writers (SQLite). On PostgreSQL the lock is
	// FOR NO KEY UPDATE: it excludes the other lockers and updates of the
	// row, but not the key-share lock that inserting a membership, an
	// invitation or a webhook endpoint takes on its organization (orgd never
	// changes an organization's id, and its slug is never updated), so
	// that an accept does not wait for a create or an update of its
	// organization that holds the lock. Every change whose rule counts rows
	// (seats, the hourly limit, owners) takes the lock itself, and the
	// writers that do not can move no count past a bound the lockers check:
	// an accept turns a pending seat into a member's (and may add an owner,
	// never take one away), a decline or a revoke frees a seat.
	lockOrgRow string
	// tryLock takes a lock on a number until the transaction ends, or
	// reports that another transaction holds it; empty where the
	// transaction already excludes other writers (SQLite).
	tryLock string
	// writingWith: a data-modifying statement may stand in WITH before a
	// query, so that both take one round trip.
	writingWith bool
	unique      func(error) bool
	// transient names why the database aborted a transaction that may
	// succeed if run again, or is "" for any other error.
	transient func(error) string
	// unstorable: the database refused text it cannot hold (nil where
	// every string is stored as given).
	unstorable func(error) bool
}

var postgresDialect = dialect{
	engine:      Postgres,
	lockOrgRow:  ` FOR NO KEY UPDATE OF o`,
	writingWith: true,
	tryLock:     `SELECT pg_try_advisory_xact_lock($1)`,
	unique: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505"
	},
	transient: func(err error) string {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			return ""
		}
		switch pe.Code {
		case "40P01":
			return RetryDeadlock
		case "40001":
			return RetrySerialization
		}
		return ""
	},
	unstorable: func(err error) bool {
		// character_not_in_repertoire (a NUL, invalid UTF-8),
		// untranslatable_character.
		var pe *pgconn.PgError
		return errors.As(err, &pe) && (pe.Code == "22021" || pe.Code == "22P05")
	},
}

var sqliteDialect = dialect{
	engine: SQLite,
	unique: func(err error) bool {
		var se *sqlite.Error
		return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	transient: func(err error) string {
		var se *sqlite.Error
		if errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED) {
			return RetryBusy
		}
		return ""
	},
}
