package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testEnv runs orgd commands in this process, as run does for main, with
// an environment of its own: a fresh data directory and a database.
type testEnv struct {
	t    *testing.T
	vars map[string]string
}

// newTestEnv returns an environment whose data directory is new and whose
// database is databaseURL ("" for the default, a file in the data directory).
func newTestEnv(t *testing.T, databaseURL string) *testEnv {
	e := &testEnv{t: t, vars: map[string]string{"ORGD_DATA_DIR": t.TempDir()}}
	if databaseURL != "" {
		e.vars["ORGD_DATABASE_URL"] = databaseURL
	}
	return e
}

func (e *testEnv) getenv(k string) string { return e.vars[k] }

// result is what a command left behind.
type result struct {
	code           int
	stdout, stderr string
}

func (e *testEnv) run(args ...string) result {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, e.getenv, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// must runs a command that has to succeed and returns its output.
func (e *testEnv) must(args ...string) string {
	e.t.Helper()
	r := e.run(args...)
	if r.code != exitOK {
		e.t.Fatalf("orgd %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// mustJSON runs a command with --json and decodes what it prints into v.
func (e *testEnv) mustJSON(v any, args ...string) {
	e.t.Helper()
	out := e.must(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("orgd %s --json printed no JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// syncBuffer is a buffer that serve may write to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveProc is an `orgd serve` running in a goroutine.
type serveProc struct {
	URL            string // "" if serve exited before it listened
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan int
	stopOnce       sync.Once
	code           int
	exitedEarly    bool // serve exited on its own, before stop
}

var listeningLine = regexp.MustCompile(`listening on (http://\S+) `)

// start runs `orgd serve --listen 127.0.0.1:0 args...` until it prints where
// it listens or exits. The server stops when the test ends.
func (e *testEnv) start(args ...string) *serveProc {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &serveProc{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	args = append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)
	go func() { s.done <- run(ctx, args, e.getenv, s.stdout, s.stderr) }()
	e.t.Cleanup(func() { s.stop() })
	var m []string
	if !s.until(func() bool { m = listeningLine.FindStringSubmatch(s.stdout.String()); return m != nil }) {
		if s.exitedEarly {
			return s
		}
		e.t.Fatalf("orgd serve did not listen within a minute\nstdout:\n%s\nstderr:\n%s", s.stdout, s.stderr)
	}
	s.URL = m[1]
	return s
}

// until polls seen every 10 ms until it holds, serve exits or a minute
// passes; it reports whether seen held.
func (s *serveProc) until(seen func() bool) bool {
	deadline := time.Now().Add(time.Minute)
	for !seen() {
		select {
		case code := <-s.done:
			s.stopOnce.Do(func() { s.cancel(); s.code = code; s.exitedEarly = true })
			return seen()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// serve is start for a server that has to come up.
func (e *testEnv) serve(args ...string) *serveProc {
	e.t.Helper()
	s := e.start(args...)
	if s.URL == "" {
		e.t.Fatalf("orgd serve exited with %d before listening\nstdout:\n%s\nstderr:\n%s", s.code, s.stdout, s.stderr)
	}
	return s
}

// waitForLog waits until serve has logged a line holding want, and fails
// if serve exits first or has not logged it within a minute.
func (s *serveProc) waitForLog(t *testing.T, want string) {
	t.Helper()
	if !s.until(func() bool { return strings.Contains(s.stderr.String(), want) }) {
		t.Fatalf("orgd serve did not log %s within a minute or exited first\n%s", want, s.stderr)
	}
}

// stop cancels serve's context and returns its exit code.
func (s *serveProc) stop() int {
	s.stopOnce.Do(func() {
		s.cancel()
		s.code = <-s.done
	})
	return s.code
}

// get sends a GET with the API key key ("" for none) and returns the
// status and body.
func (s *serveProc) get(t *testing.T, path, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "ApiKey "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func (e *testEnv) decode(raw []byte, v any) {
	e.t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		e.t.Fatalf("decode %s: %v", raw, err)
	}
}
