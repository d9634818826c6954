package mail

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/orgd/orgd"
)

// Worker delivers invitation emails from the outbox.
type Worker struct {
	river.WorkerDefaults[orgd.InvitationEmailJob]
	svc         *orgd.Service
	sender      Sender
	templates   *Templates
	publicURL   string
	retryPeriod time.Duration
	sendTimeout time.Duration
	logOnly     bool
	log         *slog.Logger
	now         func() time.Time
	observe     func(outcome string)
}

// WorkerOptions configure a Worker.
type WorkerOptions struct {
	Sender      Sender // nil: the log
	Templates   *Templates
	PublicURL   string        // base of accept links
	RetryPeriod time.Duration // temporary failures are retried this long after the email was queued
	SendTimeout time.Duration // one SMTP conversation
	Log         *slog.Logger
	Now         func() time.Time
	// Observe, if set, hears the outcome of every attempt: sent, logged,
	// retrying or failed.
	Observe func(outcome string)
}

// NewWorker returns the worker of invitation emails.
func NewWorker(svc *orgd.Service, opts WorkerOptions) *Worker {
	w := &Worker{svc: svc, sender: opts.Sender, templates: opts.Templates, publicURL: strings.TrimRight(opts.PublicURL, "/"),
		retryPeriod: opts.RetryPeriod, sendTimeout: opts.SendTimeout, log: opts.Log, now: opts.Now, observe: opts.Observe}
	if w.observe == nil {
		w.observe = func(string) {}
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	if w.sender == nil {
		w.sender = Log{Logger: w.log}
	}
	_, w.logOnly = w.sender.(Log)
	if w.now == nil {
		w.now = time.Now
	}
	if w.sendTimeout <= 0 {
		w.sendTimeout = 30 * time.Second
	}
	return w
}

// Register adds the worker to a set of outbox workers.
func (w *Worker) Register(workers *river.Workers) { river.AddWorker(workers, w) }

// Timeout bounds one attempt: an SMTP conversation and two database writes.
func (w *Worker) Timeout(*river.Job[orgd.InvitationEmailJob]) time.Duration {
	return JobTimeout(w.sendTimeout)
}

// JobTimeout is how long one delivery attempt may take with a given SMTP
// timeout; the outbox rescues attempts that take longer (their process died).
func JobTimeout(sendTimeout time.Duration) time.Duration { return sendTimeout + 10*time.Second }

// AcceptURL is the link of the invitation page for a token.
func AcceptURL(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/invitations/" + token
}

// Work sends one invitation email and records the outcome on the
// invitation. A job whose token was replaced sends nothing.
func (w *Worker) Work(ctx context.Context, job *river.Job[orgd.InvitationEmailJob]) error {
	d, err := w.svc.PrepareDelivery(ctx, job.Args)
	if errors.Is(err, orgd.ErrNothingToDeliver) {
		w.log.DebugContext(ctx, "invitation email no longer wanted", "invitation_id", job.Args.InvitationID)
		return nil
	}
	if err != nil {
		return err // the database: retried
	}
	msg, err := w.templates.Invitation(d, AcceptURL(w.publicURL, d.Token), w.now())
	if err != nil {
		w.record(ctx, job, orgd.EmailFailed, "the email could not be written from the server's templates (orgd's log has the cause)")
		w.log.ErrorContext(ctx, "invitation email could not be written", "invitation_id", job.Args.InvitationID, "error", err)
		return river.JobCancel(err)
	}
	sendCtx, cancel := context.WithTimeout(ctx, w.sendTimeout)
	err = w.sender.Send(sendCtx, msg)
	cancel()
	switch {
	case err == nil:
		status := orgd.EmailSent
		if w.logOnly {
			status = orgd.EmailLogged
		}
		w.record(ctx, job, status, "")
		w.observe(string(status))
		w.log.InfoContext(ctx, "invitation email done", "invitation_id", job.Args.InvitationID, "status", status, "attempt", job.Attempt)
		return nil
	case IsPermanent(err):
		w.record(ctx, job, orgd.EmailFailed, PublicReason(err))
		w.observe("failed")
		w.log.WarnContext(ctx, "invitation email failed for good", "invitation_id", job.Args.InvitationID, "error", err)
		return river.JobCancel(err)
	case w.now().Sub(job.CreatedAt) >= w.retryPeriod:
		gaveUp := "gave up after " + orgd.FormatDuration(w.retryPeriod) + " of retries: "
		w.record(ctx, job, orgd.EmailFailed, gaveUp+PublicReason(err))
		w.observe("failed")
		w.log.WarnContext(ctx, "invitation email failed for good", "invitation_id", job.Args.InvitationID, "error", gaveUp+err.Error())
		return river.JobCancel(err)
	}
	w.record(ctx, job, orgd.EmailQueued, "retrying: "+PublicReason(err))
	w.observe("retrying")
	w.log.WarnContext(ctx, "invitation email will be retried", "invitation_id", job.Args.InvitationID, "attempt", job.Attempt, "error", err)
	return err
}

// record stores the outcome, with a reason the organization's
// administrators may read (PublicReason; the log has the error itself); a
// failure to store it is logged, not retried: the email itself went (or did
// not go) already.
func (w *Worker) record(ctx context.Context, job *river.Job[orgd.InvitationEmailJob], status orgd.EmailStatus, reason string) {
	if err := w.svc.RecordDelivery(context.WithoutCancel(ctx), job.Args, status, reason); err != nil {
		w.log.ErrorContext(ctx, "recording the delivery of an invitation email failed", "invitation_id", job.Args.InvitationID, "error", err)
	}
}
