// Package webhook delivers orgd's events to the endpoints organizations
// register: outbox workers that POST each event to each endpoint, signed as
// the Standard Webhooks specification says, retrying temporary failures
// with backoff until a configurable period has passed, and recording the
// outcome on the endpoint. It also runs the periodic scan that announces
// expired invitations. The events themselves are written by the domain
// (package orgd), in the transaction of the change.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/outbox"
)

// The headers of the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// OutboxQueue is the outbox queue of deliveries, apart from emails: the
// writers of jobs and the workers must both be given it.
func OutboxQueue(concurrency int) outbox.Queue {
	return outbox.Queue{Name: "webhooks", Kinds: []string{orgd.WebhookJob{}.Kind()}, Concurrency: concurrency}
}

// ExpiryScan is the periodic job of the expiry scan (ExpiryWorker).
func ExpiryScan(interval time.Duration) outbox.Periodic {
	return outbox.Periodic{Job: orgd.ExpiryScanJob{}, Interval: interval}
}

// Sign returns the webhook-signature header of a message: "v1," and the
// base64 HMAC-SHA256 of "{id}.{timestamp}.{body}" keyed with the bytes of
// the secret (whsec_ and base64).
func Sign(secret, id string, timestamp time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, orgd.WebhookSecretPrefix))
	if err != nil {
		return "", fmt.Errorf("the webhook secret is not %s and base64", orgd.WebhookSecretPrefix)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Options configure a Worker.
type Options struct {
	// RetryPeriod is how long after an event temporary failures are
	// retried (default a day).
	RetryPeriod time.Duration
	// Timeout bounds one request, from connecting to reading the answer's
	// status (default 10 s).
	Timeout time.Duration
	// AllowPrivate lets deliveries connect to loopback, private and
	// link-local addresses; otherwise every connection is checked with
	// orgd.PublicAddress after the name is resolved.
	AllowPrivate bool
	// Observe, if set, hears the outcome of every attempt: delivered,
	// retrying, failed (given up) or dropped (the endpoint was deleted).
	Observe func(outcome string)
	Log     *slog.Logger
	Now     func() time.Time // the time of attempts and their signatures
}

// Worker delivers webhook events from the outbox.
type Worker struct {
	river.WorkerDefaults[orgd.WebhookJob]
	svc     *orgd.Service
	client  *http.Client
	opts    Options
	observe func(string)
}

// NewWorker returns the worker of webhook deliveries.
func NewWorker(svc *orgd.Service, opts Options) *Worker {
	if opts.RetryPeriod <= 0 {
		opts.RetryPeriod = 24 * time.Hour
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	w := &Worker{svc: svc, opts: opts, observe: opts.Observe}
	if w.observe == nil {
		w.observe = func(string) {}
	}
	dialer := &net.Dialer{Timeout: opts.Timeout}
	if !opts.AllowPrivate {
		dialer.Control = refusePrivate
	}
	w.client = &http.Client{
		Timeout: opts.Timeout,
		// A redirect is not followed: the endpoint's URL is the one that was
		// checked and registered.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			// No proxy from the environment: the address check applies to
			// the receiver itself.
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   opts.Timeout,
			ResponseHeaderTimeout: opts.Timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
	}
	return w
}

// refusePrivate refuses connections to addresses that are not public, after
// the name was resolved, so that a name cannot lead a delivery into the
// server's own network.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	if !orgd.PublicAddress(ip) {
		return fmt.Errorf("the receiver's address %s is not public, and private addresses are not allowed on this server", ip)
	}
	return nil
}

// Register adds the worker to a set of outbox workers.
func (w *Worker) Register(workers *river.Workers) { river.AddWorker(workers, w) }

// JobTimeout is how long one attempt may take with a given request
// timeout; the outbox rescues attempts that take longer (their process died).
func JobTimeout(requestTimeout time.Duration) time.Duration { return requestTimeout + 10*time.Second }

// Timeout bounds one attempt: the request and two database reads and writes.
func (w *Worker) Timeout(*river.Job[orgd.WebhookJob]) time.Duration {
	return JobTimeout(w.opts.Timeout)
}

// permanent marks a failure that retrying will not mend.
type permanent struct{ error }

// Work makes one delivery attempt and records its outcome on the endpoint.
// 2xx is delivered. A connection failure, a timeout, 408, 429 and 5xx are
// retried with backoff until RetryPeriod after the event; any other answer
// (other 4xx, a redirect, 1xx) stops the delivery at once.
func (w *Worker) Work(ctx context.Context, job *river.Job[orgd.WebhookJob]) error {
	a := job.Args
	log := w.opts.Log.With("event_id", a.EventID, "endpoint_id", a.EndpointID, "attempt", job.Attempt)
	target, err := w.svc.PrepareWebhook(ctx, a)
	if errors.Is(err, orgd.ErrNothingToDeliver) {
		w.observe("dropped")
		log.DebugContext(ctx, "webhook endpoint deleted; nothing to deliver")
		return nil
	}
	if err != nil {
		return err // the database: retried
	}
	status, err := w.post(ctx, target, a)
	switch {
	case err == nil:
		w.record(ctx, a, orgd.WebhookAttempt{OK: true, Status: status})
		w.observe("delivered")
		log.InfoContext(ctx, "webhook delivered", "status", status)
		return nil
	case errors.As(err, new(permanent)):
		w.record(ctx, a, orgd.WebhookAttempt{Status: status, Error: err.Error()})
		w.observe("failed")
		log.WarnContext(ctx, "webhook delivery failed for good", "status", status, "error", err)
		return river.JobCancel(err)
	case w.opts.Now().Sub(job.CreatedAt) >= w.opts.RetryPeriod:
		reason := fmt.Sprintf("gave up after %s of retries: %v", orgd.FormatDuration(w.opts.RetryPeriod), err)
		w.record(ctx, a, orgd.WebhookAttempt{Status: status, Error: reason})
		w.observe("failed")
		log.WarnContext(ctx, "webhook delivery failed for good", "status", status, "error", reason)
		return river.JobCancel(err)
	}
	w.record(ctx, a, orgd.WebhookAttempt{Status: status, Error: "retrying: " + err.Error()})
	w.observe("retrying")
	log.WarnContext(ctx, "webhook delivery will be retried", "status", status, "error", err)
	return err
}

// maxAnswerShown bounds how much of a receiver's error answer is recorded.
const maxAnswerShown = 200

// post sends one signed request and classifies the answer.
func (w *Worker) post(ctx context.Context, target *orgd.WebhookTarget, a orgd.WebhookJob) (int, error) {
	body := []byte(a.Payload)
	now := w.opts.Now()
	sig, err := Sign(target.Secret, a.EventID, now, body)
	if err != nil {
		return 0, permanent{err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.URL, bytes.NewReader(body))
	if err != nil {
		return 0, permanent{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "orgd-webhooks")
	req.Header.Set(HeaderID, a.EventID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	resp, err := w.client.Do(req)
	if err != nil {
		// Without the URL, which the endpoint's list shows anyway.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return code, nil
	}
	err = fmt.Errorf("HTTP %d%s", code, shown(answer))
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		return code, err
	case code >= 300 && code < 400:
		return code, permanent{fmt.Errorf("HTTP %d: redirects are not followed; register the URL that answers", code)}
	}
	return code, permanent{err}
}

// shown is the start of a receiver's answer, fit for the endpoint's
// last_error.
func shown(answer []byte) string {
	text := strings.Join(strings.Fields(strings.ToValidUTF8(string(answer), "?")), " ")
	if text == "" {
		return ""
	}
	if utf8.RuneCountInString(text) > maxAnswerShown {
		text = string([]rune(text)[:maxAnswerShown]) + "..."
	}
	return ": " + text
}

// record stores the outcome; a failure to store it is logged, not retried:
// the request itself went (or did not go) already.
func (w *Worker) record(ctx context.Context, a orgd.WebhookJob, attempt orgd.WebhookAttempt) {
	if err := w.svc.RecordWebhookAttempt(context.WithoutCancel(ctx), a.EndpointID, attempt); err != nil {
		w.opts.Log.ErrorContext(ctx, "recording a webhook attempt failed", "endpoint_id", a.EndpointID, "error", err)
	}
}

// ExpiryWorker runs the periodic scan that announces expired invitations
// (orgd.Service.AnnounceExpiredInvitations).
type ExpiryWorker struct {
	river.WorkerDefaults[orgd.ExpiryScanJob]
	svc *orgd.Service
	log *slog.Logger
}

// NewExpiryWorker returns the worker of the expiry scan.
func NewExpiryWorker(svc *orgd.Service, log *slog.Logger) *ExpiryWorker {
	if log == nil {
		log = slog.Default()
	}
	return &ExpiryWorker{svc: svc, log: log}
}

// Register adds the worker to a set of outbox workers.
func (w *ExpiryWorker) Register(workers *river.Workers) { river.AddWorker(workers, w) }

// Work announces the invitations that expired since the last scan.
func (w *ExpiryWorker) Work(ctx context.Context, _ *river.Job[orgd.ExpiryScanJob]) error {
	n, err := w.svc.AnnounceExpiredInvitations(ctx)
	if n > 0 {
		w.log.InfoContext(ctx, "announced expired invitations", "count", n)
	}
	return err
}
