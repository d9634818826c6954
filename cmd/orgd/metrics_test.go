package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/orgd/orgd/internal/testdb"
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
	checks := readiness(st)(ctx)
	if checks["database"] != nil || checks["migrations"] == nil {
		t.Errorf("unmigrated database: %v", checks)
	}
	// An unreachable database.
	st.Close()
	checks = readiness(st)(ctx)
	if checks["database"] == nil || checks["migrations"] == nil {
		t.Errorf("closed database: %v", checks)
	}
}
