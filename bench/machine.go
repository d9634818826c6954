package main

import (
	"bufio"
	"context"
	"database/sql"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/orgd/orgd/store"
)

// describeMachine gathers what the figures depend on. What cannot be read
// is left empty.
func describeMachine(ctx context.Context, src, postgresURL string, engines []string) Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if name, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if total, err := os.ReadFile("/proc/meminfo"); err == nil {
		if b, err := parseStatusBytes(string(total), "MemTotal"); err == nil {
			m.MemoryGB = int((b + 1<<29) >> 30)
		}
	}
	m.LoadBefore = loadAverage()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", src, "describe", "--always", "--dirty").Output(); err == nil {
		m.Orgd = strings.TrimSpace(string(out))
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if slices.Contains(engines, string(store.Postgres)) && postgresURL != "" {
		if db, err := sql.Open("pgx", postgresURL); err == nil {
			// autovacuum too: without it a database's statistics stay
			// what its last ANALYZE saw, and the plans with them.
			var version, syncCommit, autovacuum string
			if db.QueryRowContext(ctx, `SELECT current_setting('server_version'), current_setting('synchronous_commit'),
				current_setting('autovacuum')`).Scan(&version, &syncCommit, &autovacuum) == nil {
				m.PostgreSQL = version + " (synchronous_commit=" + syncCommit + ", autovacuum=" + autovacuum + ")"
			}
			db.Close()
		}
	}
	if slices.Contains(engines, string(store.SQLite)) {
		if db, err := sql.Open("sqlite", ":memory:"); err == nil {
			var version string
			if db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&version) == nil {
				m.SQLite = version + " (modernc.org/sqlite)"
			}
			db.Close()
		}
	}
	return m
}

// loadAverage returns the 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
