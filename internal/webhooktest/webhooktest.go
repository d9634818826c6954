// Package webhooktest is a webhook receiver for tests: a real HTTP server on
// a loopback port that verifies every request's signature with the
// Standard Webhooks reference library (independent of orgd's signing code),
// keeps the events it accepted, and can be made to fail or go down.
package webhooktest

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Event is a request the receiver verified and accepted.
type Event struct {
	ID   string // webhook-id
	Type string
	Body []byte
	Data map[string]any
}

// Receiver receives webhooks.
type Receiver struct {
	URL string

	addr     string
	mu       sync.Mutex
	srv      *http.Server
	verifier *standardwebhooks.Webhook
	status   int   // the answer after next is used up; 0 for 204
	next     []int // answers to give first, one per request
	events   []Event
	attempts int
	invalid  []string // why requests failed verification
}

// New starts a receiver that answers 204; it stops when the test ends,
// which fails if any request did not verify.
func New(t testing.TB) *Receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Receiver{addr: ln.Addr().String()}
	r.URL = "http://" + r.addr + "/hooks"
	r.serve(ln)
	t.Cleanup(func() {
		r.Down()
		for _, why := range r.Invalid() {
			t.Errorf("webhook receiver %s: a request did not verify: %s", r.URL, why)
		}
	})
	return r
}

func (r *Receiver) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(r.handle), ReadHeaderTimeout: 5 * time.Second}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(ln)
}

// SetSecret gives the receiver the endpoint's signing secret (whsec_...).
func (r *Receiver) SetSecret(t testing.TB, secret string) {
	t.Helper()
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.verifier = v
	r.mu.Unlock()
}

// Answer makes the receiver answer status from now on (0: 204).
func (r *Receiver) Answer(status int) {
	r.mu.Lock()
	r.status = status
	r.mu.Unlock()
}

// AnswerNext makes the receiver answer the next requests with statuses, one
// each, before its usual answer.
func (r *Receiver) AnswerNext(statuses ...int) {
	r.mu.Lock()
	r.next = append(r.next, statuses...)
	r.mu.Unlock()
}

// Down stops the receiver: connections are refused until Up.
func (r *Receiver) Down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Up starts a stopped receiver again at the same address.
func (r *Receiver) Up(t testing.TB) {
	t.Helper()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ln, err = net.Listen("tcp", r.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("restart the receiver at %s: %v", r.addr, err)
	}
	r.serve(ln)
}

func (r *Receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if err == nil && r.verifier == nil {
		err = errors.New("the receiver has no secret")
	}
	if err == nil {
		err = r.verifier.Verify(body, req.Header)
	}
	var ev struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err == nil && req.Header.Get("Content-Type") != "application/json" {
		err = errors.New("Content-Type " + req.Header.Get("Content-Type"))
	}
	if err == nil {
		err = json.Unmarshal(body, &ev)
	}
	if err != nil {
		r.invalid = append(r.invalid, err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	status := r.status
	if len(r.next) > 0 {
		status, r.next = r.next[0], r.next[1:]
	}
	if status == 0 {
		status = http.StatusNoContent
	}
	if status < 300 {
		r.events = append(r.events, Event{ID: req.Header.Get("webhook-id"), Type: ev.Type, Body: body, Data: ev.Data})
	}
	w.WriteHeader(status)
	if status >= 300 {
		io.WriteString(w, "the receiver says no")
	}
}

// Events returns the events accepted so far, in the order they came.
func (r *Receiver) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Attempts counts the requests received, accepted or not.
func (r *Receiver) Attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts
}

// Invalid lists why requests failed verification.
func (r *Receiver) Invalid() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.invalid...)
}

// WaitFor polls until done holds for the events accepted so far, for up to
// 20 seconds, and returns them.
func (r *Receiver) WaitFor(t testing.TB, what string, done func([]Event) bool) []Event {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		evs := r.Events()
		if done(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook receiver: %s did not happen within 20 s; it has %d events after %d requests", what, len(evs), r.Attempts())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitEvents waits until n events were accepted and returns them.
func (r *Receiver) WaitEvents(t testing.TB, n int) []Event {
	t.Helper()
	return r.WaitFor(t, "receiving events", func(evs []Event) bool { return len(evs) >= n })
}
