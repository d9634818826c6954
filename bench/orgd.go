package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/orgd/orgd/outbox"
	"github.com/orgd/orgd/store"
	"github.com/orgd/orgd/webhook"
)

// buildOrgd builds the orgd binary of the module at src into dir.
func buildOrgd(ctx context.Context, src, dir string) (string, error) {
	bin := filepath.Join(dir, "orgd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/orgd")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/orgd in %s: %v\n%s", src, err, out)
	}
	return bin, nil
}

// database is a fresh, empty database for one engine's run.
type database struct {
	engine store.Engine
	url    string
	name   string // of a PostgreSQL database, which its backends show in their command lines
	drop   func() error
}

// newSQLite names a SQLite file in dir.
func newSQLite(dir string) *database {
	return &database{engine: store.SQLite, url: "sqlite:" + filepath.Join(dir, "orgd.db"), drop: func() error { return nil }}
}

// newPostgres creates a database with a fresh name on the server of
// adminURL; drop removes it.
func newPostgres(ctx context.Context, adminURL string) (*database, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, fmt.Errorf("--postgres: %w", err)
	}
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		return nil, err
	}
	name := "orgd_bench_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return nil, fmt.Errorf("create database on %s: %w", store.Redact(adminURL), err)
	}
	u.Path = "/" + name
	return &database{engine: store.Postgres, url: u.String(), name: name, drop: func() error {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		return err
	}}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// orgdEnv is the environment orgd runs with: the caller's, less its ORGD_
// settings, plus settings.
func orgdEnv(settings map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ORGD_") {
			env = append(env, kv)
		}
	}
	for k, v := range settings {
		env = append(env, k+"="+v)
	}
	return env
}

// runOrgd runs one orgd command to its end.
func runOrgd(ctx context.Context, bin string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("orgd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// process is a running orgd serve.
type process struct {
	cmd  *exec.Cmd
	base string
	log  string
	done chan error
}

func (s *process) pid() int    { return s.cmd.Process.Pid }
func (s *process) url() string { return s.base }

// startOrgd runs orgd serve on a free loopback port, its output going to
// logFile, and waits until it answers its health check.
func startOrgd(ctx context.Context, bin string, env []string, logFile string) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	out, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(env, "ORGD_LISTEN="+addr, "ORGD_PUBLIC_URL=http://"+addr)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start orgd serve: %w", err)
	}
	s := &process{cmd: cmd, base: "http://" + addr, log: logFile, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); out.Close() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.base + "/api/v1/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("orgd serve exited (%v); its log is %s", err, logFile)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("orgd serve did not answer on %s within 30s; its log is %s", addr, logFile)
		}
	}
}

// stop asks orgd to shut down and waits for it, killing it after 20s.
func (s *process) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("orgd serve: %v; its log is %s", err, s.log)
		}
		return err
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("orgd serve did not stop within 20s and was killed")
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// openJobs opens db for reading orgd's outbox while orgd runs: a pool for
// PostgreSQL, a read-only connection to the SQLite file.
func openJobs(db *database) (*sql.DB, error) {
	if db.engine == store.Postgres {
		return sql.Open("pgx", db.url)
	}
	return sql.Open("sqlite", "file:"+strings.TrimPrefix(db.url, "sqlite:")+"?mode=ro&_pragma=busy_timeout(5000)")
}

// outboxJobs counts the jobs waiting or running in orgd's outbox, in jobs
// (nil: none known, 0): the emails of the bootstrap's and earlier
// scenarios' invitations, which orgd delivers while a scenario runs. orgd
// runs at most ORGD_MAIL_WORKERS of them per fetch, a fetch at most every
// 100 ms (about 40 a second by default), so a backlog costs little CPU but
// outlasts any reasonable wait: the tool reports it rather than waiting.
func outboxJobs(ctx context.Context, jobs *sql.DB) (int, error) {
	if jobs == nil {
		return 0, nil
	}
	var n int
	err := jobs.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable')`).Scan(&n)
	return n, err
}

// writeJobs makes st write jobs (invitation emails, webhook deliveries) to
// the outbox as orgd does, without running them: the orgd under test, or
// nobody in the in-process mode, delivers them.
func writeJobs(st *store.Store) error {
	_, err := outbox.New(st, outbox.Options{Queues: []outbox.Queue{webhook.OutboxQueue(1)},
		Log: slog.New(slog.DiscardHandler)})
	return err
}
