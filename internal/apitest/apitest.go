// Package apitest runs a real orgd HTTP server on a loopback port over a
// fresh database, and bootstraps organizations, users and API keys for the
// API test suites of both surfaces.
package apitest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgd/orgd"
	"github.com/riverqueue/river"

	"github.com/orgd/orgd/auth"
	"github.com/orgd/orgd/httpx"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/mail"
	"github.com/orgd/orgd/outbox"
	"github.com/orgd/orgd/server"
	"github.com/orgd/orgd/store"
	"github.com/orgd/orgd/webhook"
)

// Clock is a settable time source; it starts at the real time.
type Clock struct{ ns atomic.Int64 }

// NewClock returns a clock at the current time.
func NewClock() *Clock {
	c := &Clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// Server is a running orgd.
type Server struct {
	t         testing.TB
	URL       string
	PublicURL string // the base of accept links
	Svc       *orgd.Service
	Store     *store.Store
	Clock     *Clock
	// HTTP follows no redirects, so that tests see them, and fails the test
	// for an answer of the APIs that breaks the OpenAPI document (see
	// contract.go); clients that use its Transport do too.
	HTTP *http.Client
}

// Option changes the limits of a Server.
type Option func(*orgd.Limits)

// Start runs orgd over a new, migrated database at databaseURL (see
// testdb.Each) and stops it when the test ends. Invitation emails are
// written to the outbox but nobody sends them; StartWithMail sends them.
func Start(t testing.TB, databaseURL string, opts ...Option) *Server {
	t.Helper()
	return StartWith(t, databaseURL, Setup{Limits: opts})
}

// PublicURL is the base of the accept links of a test server, unless
// Setup.LinksToServer.
const PublicURL = "http://orgd.test"

// StartWithMail is Start with outbox workers that deliver invitation
// emails through sender, retrying temporary failures every 50 to 200 ms for
// an hour. A nil sender leaves the outbox without workers.
func StartWithMail(t testing.TB, databaseURL string, sender mail.Sender, opts ...Option) *Server {
	t.Helper()
	return StartWith(t, databaseURL, Setup{Sender: sender, Limits: opts})
}

// Setup is everything a test server can be started with.
type Setup struct {
	Limits []Option
	// Sender delivers invitation emails; nil leaves them in the outbox.
	Sender mail.Sender
	// RetryPeriod bounds the retries of temporary delivery failures
	// (default an hour); SendTimeout one SMTP conversation (default 2 s).
	RetryPeriod time.Duration
	SendTimeout time.Duration
	// LinksToServer makes the server's public URL its real address, so that
	// the accept links of emails and API answers lead a browser to it.
	// Otherwise they start with PublicURL.
	LinksToServer bool
	// AcceptRedirect, PageRequireSignIn and PageSignIn are the invitation
	// page's options (server.Options).
	AcceptRedirect    string
	PageRequireSignIn bool
	PageSignIn        *auth.Client
	// FailureBurst limits failed key and token look-ups per client address
	// (refilled at 60 a minute on the server's clock); 0 for no limit.
	FailureBurst   int
	TrustedProxies []netip.Prefix
	Clock          *Clock             // default: a new clock at the current time
	Tokens         orgd.TokenVerifier // verifies bearer JWTs; default: none, every JWT is refused
	Log            *slog.Logger       // default: warnings to the test log with -v, else nothing
	// Webhooks runs the webhook deliveries, retrying every 50 to 200 ms for
	// WebhookRetryPeriod (default an hour), and the expiry scan every
	// 100 ms. Otherwise deliveries stay in the outbox. Endpoints may be on
	// loopback addresses unless a Limits option says otherwise.
	Webhooks           bool
	WebhookRetryPeriod time.Duration
}

// StartWith runs orgd as setup says, over a new, migrated database at
// databaseURL, and stops it when the test ends.
func StartWith(t testing.TB, databaseURL string, setup Setup) *Server {
	t.Helper()
	retryPeriod := cmp.Or(setup.RetryPeriod, time.Hour)
	sendTimeout := cmp.Or(setup.SendTimeout, 2*time.Second)
	st := testdb.OpenURL(t, databaseURL)
	box, err := orgd.NewBox(bytes.Repeat([]byte{7}, orgd.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	limits := orgd.DefaultLimits()
	limits.WebhookAllowPrivate = true
	for _, o := range setup.Limits {
		o(&limits)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := PublicURL
	if setup.LinksToServer {
		publicURL = "http://" + ln.Addr().String()
	}
	clock := setup.Clock
	if clock == nil {
		clock = NewClock()
	}
	log := setup.Log
	switch {
	case log != nil:
	case testing.Verbose():
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	default:
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	svc := orgd.NewService(st, box, orgd.Options{Limits: limits, Tokens: setup.Tokens, Now: clock.Now, Log: log})
	var workers *river.Workers
	if setup.Sender != nil || setup.Webhooks {
		workers = river.NewWorkers()
	}
	if setup.Sender != nil {
		templates, err := mail.LoadTemplates("")
		if err != nil {
			t.Fatal(err)
		}
		mail.NewWorker(svc, mail.WorkerOptions{Sender: setup.Sender, Templates: templates, PublicURL: publicURL,
			RetryPeriod: retryPeriod, SendTimeout: sendTimeout, Log: log}).Register(workers)
	}
	var periodic []outbox.Periodic
	if setup.Webhooks {
		webhook.NewWorker(svc, webhook.Options{RetryPeriod: cmp.Or(setup.WebhookRetryPeriod, time.Hour), Timeout: 2 * time.Second,
			AllowPrivate: limits.WebhookAllowPrivate, Log: log}).Register(workers)
		webhook.NewExpiryWorker(svc, log).Register(workers)
		periodic = []outbox.Periodic{webhook.ExpiryScan(100 * time.Millisecond)}
	}
	ob, err := outbox.New(st, outbox.Options{Workers: workers, Concurrency: 4, Log: log,
		RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond, PollInterval: 50 * time.Millisecond,
		JobTimeout: mail.JobTimeout(sendTimeout), Periodic: periodic, WriteUnworkedKinds: true,
		Queues: []outbox.Queue{webhook.OutboxQueue(4)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ob.Stop(ctx)
	})
	var failures *httpx.Failures
	if setup.FailureBurst > 0 {
		failures = httpx.NewFailures(60, setup.FailureBurst, setup.TrustedProxies, clock.Now)
	}
	ts := httptest.NewUnstartedServer(server.New(svc, log, server.Options{Now: clock.Now, PublicURL: publicURL,
		AcceptRedirect: setup.AcceptRedirect, PageRequireSignIn: setup.PageRequireSignIn, PageSignIn: setup.PageSignIn,
		Failures: failures}))
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	client := ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if err := checkAnswers(t, client, ts.URL); err != nil {
		t.Fatal(err)
	}
	return &Server{t: t, URL: ts.URL, PublicURL: publicURL, Svc: svc, Store: st, Clock: clock, HTTP: client}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func (s *Server) must(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

// Org creates an organization.
func (s *Server) Org(name, slug string) *orgd.Organization {
	s.t.Helper()
	org, err := s.Svc.CreateOrganization(context.Background(), orgd.SystemPrincipal, name, slug)
	s.must(err)
	return org
}

// Unlimited lifts the hourly invitation limit and max_members, for tests
// that issue invitations by the thousand.
func Unlimited(l *orgd.Limits) { l.InvitesPerHour, l.DefaultMaxMembers = 0, 0 }

// OwnedOrg creates an organization with a new key and the user ownerID as
// its owner. It returns failures instead of failing the server's test, so
// that every fuzz input or rapid case can have an organization of its own.
func (s *Server) OwnedOrg(ownerID string) (*orgd.Organization, error) {
	ctx := context.Background()
	var b [8]byte
	_, _ = rand.Read(b[:])
	key := "org-" + hex.EncodeToString(b[:])
	org, err := s.Svc.CreateOrganization(ctx, orgd.SystemPrincipal, key, key)
	if err != nil {
		return nil, err
	}
	if _, err := s.Svc.AddMember(ctx, orgd.SystemPrincipal, org.ID, ownerID, orgd.RoleOwner); err != nil {
		return nil, err
	}
	return org, nil
}

// Caller is a user with an API key.
type Caller struct {
	User *orgd.User
	Key  string
}

// User creates a user and an API key for it.
func (s *Server) User(email string, platformAdmin bool) *Caller {
	s.t.Helper()
	c, err := s.NewCaller(email, platformAdmin)
	s.must(err)
	return c
}

// NewCaller is User returning its failure, for checks that report
// elsewhere than the server's test.
func (s *Server) NewCaller(email string, platformAdmin bool) (*Caller, error) {
	ctx := context.Background()
	u, err := s.Svc.CreateUser(ctx, orgd.SystemPrincipal, email, "", platformAdmin)
	if err != nil {
		return nil, err
	}
	k, err := s.Svc.CreateAPIKey(ctx, orgd.SystemPrincipal, u.ID, "test", "")
	if err != nil {
		return nil, err
	}
	return &Caller{User: u, Key: k.Secret}, nil
}

// Member creates a user with a key and makes it a member of org with role.
func (s *Server) Member(org *orgd.Organization, email string, role orgd.Role) *Caller {
	s.t.Helper()
	c := s.User(email, false)
	_, err := s.Svc.AddMember(context.Background(), orgd.SystemPrincipal, org.ID, c.User.ID, role)
	s.must(err)
	return c
}

// Response is an HTTP answer with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it cannot.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Request sends a request. auth is the whole Authorization header value
// ("" for none); body is marshalled to JSON unless it is a string or nil.
func (s *Server) Request(method, path string, headers map[string]string, body any) *Response {
	s.t.Helper()
	resp, err := s.Do(method, path, headers, body)
	s.must(err)
	if err := resp.CheckJSON(); err != nil {
		s.t.Errorf("%s %s: %v", method, path, err)
	}
	return resp
}

// Do sends a request like Request, but returns a failure to send it or
// read the answer instead of failing the server's test, for checks that
// report elsewhere (a fuzz input's t, a rapid case).
func (s *Server) Do(method, path string, headers map[string]string, body any) (*Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return s.do(req)
}

// Send sends req as it is and returns the answer, whatever its type; t is
// the test that fails if the request cannot be made.
func (s *Server) Send(t testing.TB, req *http.Request) *Response {
	t.Helper()
	r, err := s.do(req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (s *Server) do(req *http.Request) (*Response, error) {
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// CheckJSON reports an answer that is not JSON: every answer is, but an
// empty 204.
func (r *Response) CheckJSON() error {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" && !(r.Status == http.StatusNoContent && len(r.Body) == 0) {
		return fmt.Errorf("status %d with Content-Type %q, want application/json", r.Status, ct)
	}
	return nil
}

// Elastic sends a request with `Authorization: ApiKey <key>` (none if key is "").
func (s *Server) Elastic(method, path, key string, body any) *Response {
	s.t.Helper()
	h := map[string]string{}
	if key != "" {
		h["Authorization"] = "ApiKey " + key
	}
	return s.Request(method, path, h, body)
}

// Engines lists the engines the suites run on.
var Engines = testdb.Engines

// Slug sends a request with `Authorization: Bearer <key>` (none if key is "").
func (s *Server) Slug(method, path, key string, body any) *Response {
	s.t.Helper()
	h := map[string]string{}
	if key != "" {
		h["Authorization"] = "Bearer " + key
	}
	return s.Request(method, path, h, body)
}

// Want fails the test unless the response has status, printing the body.
func (r *Response) Want(t testing.TB, status int) *Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	return r
}

// WaitJobsDone waits, for up to 20 seconds, until the outbox has no job of
// kind left to do: every one completed, cancelled or discarded.
func (s *Server) WaitJobsDone(t testing.TB, kind string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		err := s.Store.DB().QueryRow(`SELECT COUNT(*) FROM river_job WHERE kind = $1
			AND state NOT IN ('completed', 'cancelled', 'discarded')`, kind).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s jobs are still to do after 20 s", n, kind)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
