package main

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/orgd/orgd/config"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/metrics"
	"github.com/orgd/orgd/store"
)

func fetch(t *testing.T, url, key, body string) (int, string) {
	t.Helper()
	method := "GET"
	var rd io.Reader
	if body != "" {
		method, rd = "POST", strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "ApiKey "+key)
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHealthAndMetrics runs serve and reads its liveness, readiness and
// metrics after a change.
func TestHealthAndMetrics(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		e := newTestEnv(t, databaseURL)
		e.must("migrate")
		var org struct{ ID string }
		e.mustJSON(&org, "admin", "org", "create", "--name", "Acme")
		e.must("admin", "user", "create", "--email", "owner@acme.test")
		e.must("admin", "member", "add", "--org", org.ID, "--email", "owner@acme.test", "--role", "owner")
		var key struct{ Key string }
		e.mustJSON(&key, "admin", "key", "create", "--email", "owner@acme.test")
		s := e.serve()

		if code, body := fetch(t, s.URL+"/livez", "", ""); code != 200 || !strings.Contains(body, "alive") {
			t.Errorf("livez: %d %s", code, body)
		}
		if code, body := fetch(t, s.URL+"/readyz", "", ""); code != 200 || !strings.Contains(body, `"database":"ok"`) || !strings.Contains(body, `"migrations":"ok"`) {
			t.Errorf("readyz: %d %s", code, body)
		}
		if code, body := fetch(t, s.URL+"/api/v1/organizations/"+org.ID+"/invitations", key.Key, `{"emails":["a@x.test","b@x.test"]}`); code != 201 {
			t.Fatalf("invite: %d %s", code, body)
		}
		code, text := fetch(t, s.URL+"/metrics", "", "")
		if code != 200 {
			t.Fatalf("metrics: %d", code)
		}
		for _, want := range []string{
			`orgd_changes_total{action="invitation.created"} 2`,
			`orgd_changes_total{action="member.added"} 0`,
			`orgd_http_requests_total{method="POST",route="POST /api/v1/organizations/{organization_id}/invitations",status="201"} 1`,
			`orgd_http_request_duration_seconds_count{method="GET",route="GET /readyz"} 1`,
			`go_sql_open_connections{db_name="write"}`,
			`orgd_outbox_jobs{state="available"}`,
			`orgd_outbox_oldest_waiting_seconds`,
			`orgd_db_retries_total{cause="deadlock"} 0`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
		// The emails are logged (no SMTP server); the outbox counts them.
		if !regexp.MustCompile(`orgd_outbox_jobs\{state="(available|running|retryable|scheduled)"\} \d`).MatchString(text) {
			t.Errorf("no outbox depth in:\n%s", text)
		}
	})
}

func TestReadinessFailsWithoutTheDatabase(t *testing.T) {
	ctx := context.Background()
	// Pending migrations: a database nobody migrated.
	st, err := store.Open(ctx, testdb.URL(t, store.SQLite), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checks := readiness(st, slog.New(slog.DiscardHandler))(ctx)
	if checks["database"] != nil || checks["migrations"] == nil {
		t.Errorf("unmigrated database: %v", checks)
	}
	// An unreachable database.
	st.Close()
	checks = readiness(st, slog.New(slog.DiscardHandler))(ctx)
	if checks["database"] == nil || checks["migrations"] == nil {
		t.Errorf("closed database: %v", checks)
	}
}

// TestReadinessShowsNoDatabaseDetails: /readyz answers anyone, so a
// database that stops answering is reported without the driver's error,
// which names its host, port, user and database; the log has the cause.
func TestReadinessShowsNoDatabaseDetails(t *testing.T) {
	databaseURL := testdb.URL(t, store.Postgres)
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	st, err := store.Open(context.Background(), databaseURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	admin, err := sql.Open("pgx", os.Getenv(testdb.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	for check, err := range readiness(st, slog.New(slog.NewTextHandler(&logs, nil)))(context.Background()) {
		if err == nil {
			t.Errorf("check %s passed on a database that is gone", check)
		} else if text := err.Error(); strings.Contains(text, u.Host) || strings.Contains(text, name) {
			t.Errorf("check %s answers %q, which names the database", check, text)
		}
	}
	if !strings.Contains(logs.String(), name) {
		t.Errorf("the log lacks the cause:\n%s", logs.String())
	}
}

// TestStoreRetriesAreCounted: serve's store tells its metrics of each
// transaction it runs again (store.Options.Retried), by cause.
func TestStoreRetriesAreCounted(t *testing.T) {
	m := metrics.New()
	opts := storeOptions(&config.Config{}, nil, m)
	if opts.Retried == nil {
		t.Fatal("the store's options count no retries")
	}
	opts.Retried(store.RetryDeadlock)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`orgd_db_retries_total{cause="deadlock"} 1`, `orgd_db_retries_total{cause="busy"} 0`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if storeOptions(&config.Config{}, nil, nil).Retried != nil {
		t.Error("without metrics, the store's options count retries")
	}
}
