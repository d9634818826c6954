package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/auth"
	"github.com/orgd/orgd/config"
	"github.com/orgd/orgd/httpx"
	"github.com/orgd/orgd/mail"
	"github.com/orgd/orgd/metrics"
	"github.com/orgd/orgd/outbox"
	"github.com/orgd/orgd/server"
	"github.com/orgd/orgd/store"
	"github.com/orgd/orgd/webhook"
)

// serve runs the HTTP service until the context ends, then drains
// requests in flight and lets the outbox's jobs in progress (an email, a
// webhook delivery) finish, each for up to the shutdown timeout.
func (e *env) serve(args []string) error {
	fs := e.newFlags("orgd serve", "orgd serve [flags]")
	loader := config.Register(fs, config.Storage|config.Server|config.Rules)
	cfg, err := e.parse(fs, loader, args)
	if err != nil {
		return err
	}
	log := e.logger(cfg)
	issuer, err := newIssuer(cfg, log)
	if err != nil {
		return err
	}
	m := metrics.New()
	svc, st, err := e.openService(cfg, log, cfg.Migrate, tokenVerifier(issuer), m)
	if err != nil {
		return err
	}
	defer st.Close()
	m.DBPool(st.DB(), "write")
	if st.ReadDB() != st.DB() {
		m.DBPool(st.ReadDB(), "read")
	}
	m.Outbox(st.ReadDB(), log)
	e.startIssuer(issuer, log)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	defer ln.Close() // Serve closes it too; this covers the returns before
	cfg.ListeningOn(ln.Addr().String())
	errc := make(chan error, 2)
	if cfg.MetricsListen != "" {
		msrv, err := serveMetrics(cfg.MetricsListen, m, log, errc)
		if err != nil {
			return err
		}
		defer msrv.Close()
	}
	worker, err := mailWorker(cfg, svc, log, m)
	if err != nil {
		return err
	}
	workers := river.NewWorkers()
	worker.Register(workers)
	webhook.NewWorker(svc, webhook.Options{RetryPeriod: cfg.WebhookRetryPeriod, Timeout: cfg.WebhookTimeout,
		AllowPrivate: cfg.Limits.WebhookAllowPrivate, Log: log, Observe: func(outcome string) { m.Delivered("webhook", outcome) }}).Register(workers)
	webhook.NewExpiryWorker(svc, log).Register(workers)
	ob, err := openOutbox(st, log, workers, cfg)
	if err != nil {
		return err
	}
	if err := ob.Start(e.ctx); err != nil {
		return fmt.Errorf("start the outbox: %w", err)
	}
	// stopOutbox lets the jobs in progress finish, for up to the shutdown
	// timeout: at the end of the shutdown, or on the way out of an error.
	stopOutbox := sync.OnceFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := ob.Stop(ctx); err != nil {
			log.Warn("stopping the outbox", "error", err)
		}
	})
	defer stopOutbox()

	// Requests keep their context while the server drains them at shutdown;
	// it ends only for those that outlast the shutdown timeout.
	base, cancelRequests := context.WithCancel(context.WithoutCancel(e.ctx))
	defer cancelRequests()
	srv := &http.Server{
		Handler: server.New(svc, log, server.Options{MaxBodyBytes: cfg.MaxBodyBytes, PublicURL: cfg.PublicURL,
			AcceptRedirect: cfg.AcceptRedirect, PageRequireSignIn: cfg.PageSignIn, PageSignIn: pageSignIn(cfg, issuer),
			Failures: httpx.NewFailures(cfg.AuthFailuresPerMinute, cfg.AuthFailureBurst, cfg.TrustedProxies, nil),
			Ready:    readiness(st, log), Metrics: m, ServeMetrics: cfg.MetricsListen == ""}),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.RequestTimeout,
		WriteTimeout:      cfg.RequestTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	log.Info("orgd started", "version", versionString(), "config", cfg)
	fmt.Fprintf(e.stdout, "orgd %s listening on http://%s (%s database %s)\n", versionString(), ln.Addr(), st.Engine(), st.Target())
	e.printFirstKeyHint(svc, cfg)

	go func() { errc <- srv.Serve(ln) }()
	if cfg.MetricsListen != "" {
		fmt.Fprintf(e.stdout, "metrics on http://%s/metrics\n", cfg.MetricsListen)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-e.ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		cancelRequests()
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("waiting for the jobs in progress", "timeout", cfg.ShutdownTimeout)
	stopOutbox()
	log.Info("stopped")
	return nil
}

// oidcStartWait is how long serve waits for the OpenID Connect issuer
// before it serves anyway.
const oidcStartWait = 15 * time.Second

// newIssuer returns the OpenID Connect issuer to trust, nil if none is configured.
func newIssuer(cfg *config.Config, log *slog.Logger) (*auth.Provider, error) {
	if cfg.OIDCIssuer == "" {
		return nil, nil
	}
	return auth.New(auth.Config{Issuer: cfg.OIDCIssuer, Audience: cfg.OIDCAudience, Log: log})
}

// pageSignIn is orgd's client of the issuer for signing in on the invitation
// page, nil unless signing in is required there (the configuration then
// has an issuer and a client id).
func pageSignIn(cfg *config.Config, p *auth.Provider) *auth.Client {
	if !cfg.PageSignIn || p == nil {
		return nil
	}
	return p.NewClient(cfg.OIDCClientID, cfg.OIDCClientSecret)
}

// tokenVerifier is p as the service's verifier of JWTs: none without an issuer.
func tokenVerifier(p *auth.Provider) orgd.TokenVerifier {
	if p == nil {
		return nil
	}
	return p
}

// startIssuer fetches the issuer's discovery document and keys in the
// background, for as long as the issuer takes, and waits up to
// oidcStartWait for them, so that a healthy issuer is ready before orgd
// serves while one that is slow or down delays only JWTs.
func (e *env) startIssuer(p *auth.Provider, log *slog.Logger) {
	if p == nil {
		return
	}
	go p.Run(e.ctx)
	select {
	case <-p.Ready():
	case <-e.ctx.Done():
	case <-time.After(oidcStartWait):
		log.Warn("serving before the OpenID Connect issuer could be reached: JWTs are refused until it is, API keys work", "issuer", p.Issuer())
	}
}

// serveMetrics serves /metrics alone on its own address.
func serveMetrics(addr string, m *metrics.Metrics, log *slog.Logger, errc chan<- error) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s for metrics: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("metrics: %w", err)
		}
	}()
	return srv, nil
}

// readiness checks what orgd needs to serve: the database answers and its
// schema is the one this binary needs. /readyz answers anyone, so the
// driver's errors, which name the database's host, user and name, go to
// the log and the answer only says which check failed.
func readiness(st *store.Store, log *slog.Logger) func(context.Context) map[string]error {
	return func(ctx context.Context) map[string]error {
		checks := map[string]error{"database": nil, "migrations": nil}
		if err := st.Ping(ctx); err != nil {
			log.WarnContext(ctx, "readiness: the database does not answer", "error", err)
			checks["database"] = errors.New("the database does not answer (the cause is in the log)")
			checks["migrations"] = errors.New("unknown: the database does not answer")
			return checks
		}
		current, latest, err := st.MigrationStatus(ctx)
		switch {
		case err != nil:
			log.WarnContext(ctx, "readiness: reading the schema version failed", "error", err)
			checks["migrations"] = errors.New("the schema version could not be read (the cause is in the log)")
		case current < latest:
			checks["migrations"] = fmt.Errorf("schema version %d, this orgd needs %d: run orgd migrate", current, latest)
		default:
			if pending, err := outbox.Pending(ctx, st); err != nil || pending {
				checks["migrations"] = errors.New("outbox migrations are pending: run orgd migrate")
			}
		}
		return checks
	}
}

// mailWorker builds the worker of invitation emails: SMTP when configured,
// else the log.
func mailWorker(cfg *config.Config, svc *orgd.Service, log *slog.Logger, m *metrics.Metrics) (*mail.Worker, error) {
	opts := mail.WorkerOptions{Templates: cfg.MailTemplates, PublicURL: cfg.PublicURL, RetryPeriod: cfg.MailRetryPeriod,
		SendTimeout: cfg.SMTPTimeout, Log: log, Observe: func(outcome string) { m.Delivered("email", outcome) }}
	if cfg.SMTP != nil {
		sender, err := mail.NewSMTP(cfg.SMTP, cfg.MailFrom, mail.SMTPOptions{Timeout: cfg.SMTPTimeout})
		if err != nil {
			return nil, err
		}
		opts.Sender = sender
		log.Info("invitation emails go through SMTP", "server", sender.String(), "from", cfg.MailFrom)
	} else {
		log.Info("no SMTP server configured (ORGD_SMTP_URL): invitation accept links will be written to this log")
	}
	return mail.NewWorker(svc, opts), nil
}

// printFirstKeyHint tells a newcomer how to get an API key while there is
// no user yet.
func (e *env) printFirstKeyHint(svc *orgd.Service, cfg *config.Config) {
	n, err := svc.CountUsers(e.ctx, orgd.SystemPrincipal)
	if err != nil || n > 0 {
		return
	}
	fmt.Fprintf(e.stdout, `
No users yet. In another terminal, create an organization, an administrator and a first API key:

  orgd admin org create --name "Acme"%[1]s
  orgd admin user create --email you@example.com --platform-admin%[1]s
  orgd admin member add --org acme --email you@example.com --role owner%[1]s
  orgd admin key create --email you@example.com%[1]s

then: curl -H "Authorization: ApiKey <key>" %[2]s/api/v1/organizations
(with "go run ./cmd/orgd" in place of "orgd" from a source checkout)

`, cfg.StorageFlags(), cfg.PublicURL)
}
