package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/riverqueue/river"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/config"
	"github.com/orgd/orgd/mail"
	"github.com/orgd/orgd/metrics"
	"github.com/orgd/orgd/outbox"
	"github.com/orgd/orgd/store"
	"github.com/orgd/orgd/webhook"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

const usage = `orgd: organizations, members and invitations, over the Elastic Cloud
Organizations API and the slug API.

Usage:
  orgd serve [flags]      run the HTTP service (SQLite in ./orgd-data by default)
  orgd migrate [flags]    apply database migrations (needed for PostgreSQL)
  orgd admin <command>    create organizations, users, API keys and members
  orgd version            print the version

Run "orgd <command> -h" for the flags of a command. Every flag has an
environment variable of the same meaning (ORGD_...); see the README.
`

// exit codes
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// env is what a command needs from its surroundings.
type env struct {
	ctx    context.Context
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, getenv: getenv, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "serve":
		err = e.serve(args[1:])
	case "migrate":
		err = e.migrate(args[1:])
	case "admin":
		err = e.admin(args[1:])
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "orgd %s (%s, %s/%s)\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "orgd: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	return e.exitCode(err)
}

// usageError marks an error in how a command was called.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func (e *env) exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(e.stderr, "orgd: %s\n", ue.msg)
		return exitUsage
	}
	var de *orgd.Error
	if errors.As(err, &de) && de.Kind != orgd.KindInternal {
		fmt.Fprintf(e.stderr, "orgd: %s (%s)\n", de.Message, de.Code)
		return exitError
	}
	fmt.Fprintf(e.stderr, "orgd: %v\n", err)
	return exitError
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// newFlags returns a flag set whose errors are returned, not printed twice.
func (e *env) newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors are printed by exitCode
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: %s\n\nFlags:\n", synopsis)
		fs.SetOutput(e.stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses args and loads the configuration of groups.
func (e *env) parse(fs *flag.FlagSet, l *config.Loader, args []string) (*config.Config, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := l.Load(e.getenv)
	if err != nil {
		return nil, usageError{"configuration: " + err.Error()}
	}
	return cfg, nil
}

func (e *env) logger(cfg *config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

// openService opens the database, brings its schema up to date where that is
// allowed (always for SQLite; for PostgreSQL only with migrate), loads the
// server key and returns the service, which verifies JWTs with tokens (nil:
// refuses them); m, when not nil, counts the changes the service commits
// and the transactions the store runs again.
func (e *env) openService(cfg *config.Config, log *slog.Logger, migrate bool, tokens orgd.TokenVerifier, m *metrics.Metrics) (*orgd.Service, *store.Store, error) {
	st, err := store.Open(e.ctx, cfg.DatabaseURL, storeOptions(cfg, log, m))
	if err != nil {
		return nil, nil, err
	}
	if err := e.ensureSchema(st, log, migrate || st.Engine() == store.SQLite); err != nil {
		st.Close()
		return nil, nil, err
	}
	key, created, err := cfg.LoadKey()
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	if created {
		log.Info("generated a new server key", "file", cfg.KeyFile())
		if st.Engine() == store.Postgres {
			log.Warn("the server key was generated into this data directory; every instance that shares the database needs the same key: set ORGD_SECRET_KEY")
		}
	}
	box, err := orgd.NewBox(key)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	var backend orgd.Store = st
	if m != nil {
		backend = m.Store(st)
	}
	return orgd.NewService(backend, box, orgd.Options{Limits: cfg.Limits, Tokens: tokens, Log: log}), st, nil
}

// storeOptions are the options of the store of a command: with metrics m
// (nil for none), the transactions the store runs again are counted.
func storeOptions(cfg *config.Config, log *slog.Logger, m *metrics.Metrics) store.Options {
	opts := store.Options{MaxConns: cfg.DBMaxConns, Log: log}
	if m != nil {
		opts.Retried = m.DBRetried
	}
	return opts
}

// openOutbox makes the store write jobs; with workers, it also runs them,
// and writes the periodic expiry scan.
func openOutbox(st *store.Store, log *slog.Logger, workers *river.Workers, cfg *config.Config) (*outbox.Outbox, error) {
	opts := outbox.Options{Workers: workers, Concurrency: cfg.MailWorkers, Log: log,
		RetryBase: 5 * time.Second, RetryMax: 15 * time.Minute, PollInterval: time.Second,
		JobTimeout: max(mail.JobTimeout(cfg.SMTPTimeout), webhook.JobTimeout(cfg.WebhookTimeout)),
		Queues:     []outbox.Queue{webhook.OutboxQueue(cfg.WebhookWorkers)}}
	if workers != nil {
		opts.Periodic = []outbox.Periodic{webhook.ExpiryScan(cfg.ExpiryScanInterval)}
	}
	return outbox.New(st, opts)
}

func (e *env) ensureSchema(st *store.Store, log *slog.Logger, migrate bool) error {
	current, latest, err := refuseNewerSchema(e.ctx, st)
	if err != nil {
		return err
	}
	if migrate {
		err := migrateAll(e.ctx, st, func(what string, version int64, name string) {
			log.Info("applied migration", "schema", what, "version", version, "name", name)
		})
		if err != nil {
			return err
		}
		if current, latest, err = st.MigrationStatus(e.ctx); err != nil {
			return err
		}
	}
	if current < latest {
		return fmt.Errorf("the %s database is at schema version %d and this orgd needs %d: run \"orgd migrate\" (or start with --migrate)", st.Engine(), current, latest)
	}
	pending, err := outbox.Pending(e.ctx, st)
	if err != nil {
		return err
	}
	if pending {
		return fmt.Errorf("the %s database lacks the outbox tables of this orgd: run \"orgd migrate\" (or start with --migrate)", st.Engine())
	}
	return nil
}

// refuseNewerSchema refuses, before anything is migrated or written, a
// database that a newer orgd has migrated: this binary does not know its
// tables (a rolled-back deployment, an old image started by mistake) and
// would write rows that lack what the newer one needs. Otherwise it returns
// the schema versions it read, the database's and this binary's latest.
func refuseNewerSchema(ctx context.Context, st *store.Store) (current, latest int64, err error) {
	current, latest, err = st.MigrationStatus(ctx)
	if err != nil {
		return 0, 0, err
	}
	if current > latest {
		return 0, 0, fmt.Errorf("the %s database is at schema version %d, newer than this orgd (%s) knows (%d): a newer orgd migrated it; run that version", st.Engine(), current, versionString(), latest)
	}
	return current, latest, nil
}

// migrateAll applies orgd's migrations, then the outbox's, reporting each.
func migrateAll(ctx context.Context, st *store.Store, report func(what string, version int64, name string)) error {
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	for _, m := range applied {
		report("orgd", m.Version, m.Name)
	}
	versions, err := outbox.Migrate(ctx, st)
	if err != nil {
		return err
	}
	for _, v := range versions {
		report("outbox", int64(v), fmt.Sprintf("river %d", v))
	}
	return nil
}
