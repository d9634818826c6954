package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgd/orgd/config"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/store"
)

// TestServe follows the README: serve, then admin commands beside it on the
// same database, then curl with the key they printed.
func TestServe(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		e := newTestEnv(t, databaseURL)
		var flags []string
		if strings.HasPrefix(databaseURL, "postgres") {
			flags = append(flags, "--migrate")
		}
		s := e.serve(flags...)
		if status, body := s.get(t, "/api/v1/health", ""); status != 200 || !strings.Contains(body, `"ok"`) {
			t.Errorf("GET /api/v1/health: %d %s", status, body)
		}
		hint := "orgd admin key create --email you@example.com --data-dir '" + e.vars["ORGD_DATA_DIR"] + "'"
		curl := s.URL + "/api/v1/organizations"
		if out := s.stdout.String(); !strings.Contains(out, "No users yet") || !strings.Contains(out, hint) || !strings.Contains(out, curl) {
			t.Errorf("serve without users should print the first-key hint with %q and %q; it printed:\n%s", hint, curl, out)
		}

		org, key := e.bootstrap()

		status, body := s.get(t, "/api/v1/organizations", key.Key)
		if status != 200 || !strings.Contains(body, `"id":"`+org.ID+`"`) {
			t.Errorf("GET /api/v1/organizations with the new key: %d %s, want 200 listing %s", status, body, org.ID)
		}
		for _, bad := range []string{"", "orgd_not-a-key", key.Key + "x"} {
			if status, body := s.get(t, "/api/v1/organizations", bad); status != 401 {
				t.Errorf("GET /api/v1/organizations with key %q: %d %s, want 401", bad, status, body)
			}
		}
		if code := s.stop(); code != exitOK {
			t.Fatalf("serve exited with %d after its context ended\n%s", code, s.stderr)
		}

		keyFile := filepath.Join(e.vars["ORGD_DATA_DIR"], config.KeyFileName)
		serverKey, err := os.ReadFile(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(keyFile); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", keyFile, fi.Mode().Perm())
		}

		s = e.serve(flags...)
		if out := s.stdout.String(); strings.Contains(out, "No users yet") {
			t.Errorf("serve printed the first-key hint although there is a user:\n%s", out)
		}
		if status, body := s.get(t, "/api/v1/organizations", key.Key); status != 200 {
			t.Errorf("after a restart, GET /api/v1/organizations: %d %s", status, body)
		}
		if again, _ := os.ReadFile(keyFile); string(again) != string(serverKey) {
			t.Errorf("a restart changed %s", keyFile)
		}
		if code := s.stop(); code != exitOK {
			t.Errorf("serve exited with %d\n%s", code, s.stderr)
		}
	})
}

// bootstrap runs the README's admin commands: an organization "acme", its
// owner ann@example.com and a key for her.
func (e *testEnv) bootstrap() (orgJSON, keyJSON) {
	e.t.Helper()
	var org orgJSON
	var key keyJSON
	e.mustJSON(&org, "admin", "org", "create", "--name", "Acme")
	e.must("admin", "user", "create", "--email", "ann@example.com")
	e.must("admin", "member", "add", "--org", "acme", "--email", "ann@example.com", "--role", "owner")
	e.mustJSON(&key, "admin", "key", "create", "--email", "ann@example.com")
	return org, key
}

func TestServeReportsABusyAddress(t *testing.T) {
	first := newTestEnv(t, "").serve()
	s := newTestEnv(t, "").start("--listen", strings.TrimPrefix(first.URL, "http://"))
	if s.URL != "" || s.code != exitError || !strings.Contains(s.stderr.String(), "orgd: listen on 127.0.0.1:") {
		t.Errorf("serve on a busy address: exit %d, listening at %q\n%s", s.code, s.URL, s.stderr)
	}
}

// TestServeReportsABusyMetricsAddress: a busy ORGD_METRICS_LISTEN stops
// serve before it says it listens, as a busy main address does.
func TestServeReportsABusyMetricsAddress(t *testing.T) {
	first := newTestEnv(t, "").serve()
	s := newTestEnv(t, "").start("--metrics-listen", strings.TrimPrefix(first.URL, "http://"))
	if s.URL != "" || s.code != exitError || !strings.Contains(s.stderr.String(), "for metrics") {
		t.Errorf("serve with a busy metrics address: exit %d, listening at %q\nstdout:\n%s\nstderr:\n%s", s.code, s.URL, s.stdout, s.stderr)
	}
}

var schemaVersion = regexp.MustCompile(`is at schema version (\d+)\n$`)

// latestVersion opens databaseURL and checks that it is fully migrated.
func latestVersion(t *testing.T, databaseURL string) int64 {
	t.Helper()
	st, err := store.Open(context.Background(), databaseURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	current, latest, err := st.MigrationStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if current != latest {
		t.Errorf("the database is at version %d of %d", current, latest)
	}
	return latest
}

func TestMigrate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		e := newTestEnv(t, databaseURL)
		first := e.must("migrate")
		latest := latestVersion(t, databaseURL)
		want := fmt.Sprintf("is at schema version %d\n", latest)
		if !strings.Contains(first, "applied orgd migration 1 (") || !strings.Contains(first, "applied outbox migration") || !strings.HasSuffix(first, want) {
			t.Errorf("the first migrate printed:\n%s\nwant applied migrations and %q", first, want)
		}
		second := e.must("migrate")
		if strings.Contains(second, "applied") || !schemaVersion.MatchString(second) || !strings.HasSuffix(second, want) {
			t.Errorf("a second migrate printed:\n%s\nwant only %q", second, want)
		}
	})
}

func TestServeOnPostgresNeedsMigrations(t *testing.T) {
	e := newTestEnv(t, testdb.URL(t, store.Postgres))
	s := e.start()
	const advice = `run "orgd migrate" (or start with --migrate)`
	if s.URL != "" || s.code != exitError || !strings.Contains(s.stderr.String(), advice) {
		t.Fatalf("serve on an unmigrated PostgreSQL database: exit %d, listening at %q; want exit 1 with %q\n%s", s.code, s.URL, advice, s.stderr)
	}
	if r := e.run("admin", "org", "list"); r.code != exitError || !strings.Contains(r.stderr, advice) {
		t.Errorf("admin on an unmigrated PostgreSQL database: exit %d\n%s", r.code, r.stderr)
	}
	e.must("migrate")
	e.serve().stop()

	e = newTestEnv(t, testdb.URL(t, store.Postgres))
	s = e.serve("--migrate")
	latestVersion(t, e.vars["ORGD_DATABASE_URL"])
	if code := s.stop(); code != exitOK {
		t.Errorf("serve --migrate exited with %d\n%s", code, s.stderr)
	}
}

// TestServeFinishesRequestsInFlight stops serve while a request is being
// read and checks that the request still succeeds.
func TestServeFinishesRequestsInFlight(t *testing.T) {
	e := newTestEnv(t, "")
	s := e.serve()
	org, key := e.bootstrap()

	// With Expect: 100-continue the server says when the handler starts
	// reading the body, which the test holds back until serve is stopping.
	body, sendBody := io.Pipe()
	reading := make(chan struct{})
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{Got100Continue: func() { close(reading) }})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/api/v1/organizations/"+org.ID+"/invitations", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "ApiKey "+key.Key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Hour}}
	defer client.CloseIdleConnections()
	type answer struct {
		status int
		body   string
		err    error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answers <- answer{resp.StatusCode, string(b), err}
	}()
	select {
	case <-reading:
	case a := <-answers:
		t.Fatalf("the server answered before reading the body: %+v", a)
	case <-time.After(time.Minute):
		t.Fatal("the server did not start reading the body within a minute")
	}

	s.cancel() // as SIGTERM does
	if _, err := io.WriteString(sendBody, `{"emails":["bob@example.com"]}`); err != nil {
		t.Fatal(err)
	}
	sendBody.Close()
	if a := <-answers; a.err != nil || a.status != http.StatusCreated {
		t.Errorf("a request in flight when serve stopped: %d %s %v, want 201", a.status, a.body, a.err)
	}
	if code := s.stop(); code != exitOK {
		t.Errorf("serve exited with %d\n%s", code, s.stderr)
	}
}

// TestServeFinishesDeliveriesInFlight stops serve while a webhook receiver
// holds a delivery and checks that the delivery is let finish (and is
// recorded as delivered) rather than cut off, which would send the event
// again at the next start.
func TestServeFinishesDeliveriesInFlight(t *testing.T) {
	received, release := make(chan struct{}, 10), make(chan struct{})
	var requests atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		received <- struct{}{}
		<-release
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	defer close(release)

	e := newTestEnv(t, "")
	e.vars["ORGD_WEBHOOK_ALLOW_PRIVATE"] = "true"
	s := e.serve()
	org, key := e.bootstrap()
	e.must("admin", "webhook", "create", "--url", receiver.URL+"/hooks", "--org", "acme", "--events", "invitation.created")

	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/organizations/"+org.ID+"/invitations", strings.NewReader(`{"emails":["bob@example.com"]}`))
	req.Header.Set("Authorization", "ApiKey "+key.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create an invitation: %d", resp.StatusCode)
	}
	select {
	case <-received:
	case <-time.After(time.Minute):
		t.Fatal("the webhook was not delivered within a minute")
	}

	// As SIGTERM does, while the receiver holds the delivery; it is let go
	// once serve has stopped serving HTTP and waits for the outbox.
	s.cancel()
	s.waitForLog(t, `msg="waiting for the jobs in progress"`)
	release <- struct{}{}
	if code := s.stop(); code != exitOK {
		t.Errorf("serve exited with %d\n%s", code, s.stderr)
	}
	log := s.stderr.String()
	if i, j := strings.Index(log, `msg="webhook delivered"`), strings.Index(log, "msg=stopped"); i < 0 || j < i {
		t.Errorf("serve did not log the delivery before it said it stopped:\n%s", log)
	}
	var endpoints []struct {
		LastStatus int    `json:"last_status"`
		LastError  string `json:"last_error"`
	}
	e.mustJSON(&endpoints, "admin", "webhook", "list", "--org", "acme")
	if len(endpoints) != 1 || endpoints[0].LastStatus != http.StatusNoContent || endpoints[0].LastError != "" {
		t.Errorf("the delivery in flight when serve stopped was recorded as %+v, want status 204 and no error", endpoints)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("the receiver got %d requests, want 1", n)
	}
}

// TestNewerSchemaIsRefused: a database that a newer orgd migrated (a
// rolled-back deployment) is refused by serve, with or without --migrate,
// and by migrate, instead of being served by a binary that does not know
// its tables.
func TestNewerSchemaIsRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		e := newTestEnv(t, databaseURL)
		e.must("migrate")
		latest := latestVersion(t, databaseURL)
		st, err := store.Open(context.Background(), databaseURL, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.DB().Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, TRUE)`, latest+1)
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("is at schema version %d, newer than this orgd", latest+1)
		for _, args := range [][]string{nil, {"--migrate"}} {
			if s := e.start(args...); s.URL != "" || s.code != exitError || !strings.Contains(s.stderr.String(), want) {
				t.Errorf("serve %v on a newer schema: exit %d, listening at %q; want exit 1 with %q\n%s", args, s.code, s.URL, want, s.stderr)
			}
		}
		if r := e.run("migrate"); r.code != exitError || !strings.Contains(r.stderr, want) {
			t.Errorf("migrate on a newer schema: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}
