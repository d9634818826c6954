// Package metrics exposes orgd's Prometheus metrics: requests by route,
// status and latency; the changes the service commits (invitations created,
// refreshed, accepted, declined, revoked, expired; members added, removed,
// changed); the outbox's depth and age; delivery outcomes; the database
// pools and the transactions the store runs again. Each server has its own
// registry: nothing is global.
package metrics

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/store"
)

// Metrics is one server's set of metrics.
type Metrics struct {
	Registry   *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	changes    *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	retries    *prometheus.CounterVec
}

// New returns the metrics of a server, with the Go runtime and process
// collectors registered.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgd_http_requests_total", Help: "HTTP requests answered, by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "orgd_http_request_duration_seconds", Help: "Time to answer HTTP requests, by route and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgd_changes_total",
			Help: "Changes committed, by action: invitation.created, invitation.refreshed, invitation.accepted, invitation.declined, invitation.revoked, invitation.expired, member.added, member.removed, member.roles_changed, and others.",
		}, []string{"action"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgd_deliveries_total", Help: "Delivery attempts of the outbox, by kind (email, webhook) and outcome (sent, logged, retrying, failed).",
		}, []string{"kind", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgd_db_retries_total", Help: "Transactions the database aborted for a transient reason and orgd ran again, by cause (" + strings.Join(store.RetryCauses, ", ") + ").",
		}, []string{"cause"}),
	}
	m.Registry.MustRegister(m.requests, m.latency, m.changes, m.deliveries, m.retries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, a := range []string{orgd.AuditInvitationCreated, orgd.AuditInvitationRefreshed, orgd.AuditInvitationAccepted,
		orgd.AuditInvitationDeclined, orgd.AuditInvitationRevoked, orgd.AuditInvitationExpired, orgd.AuditMemberAdded, orgd.AuditMemberRemoved, orgd.AuditMemberRolesChanged} {
		m.changes.WithLabelValues(a) // present at zero from the start
	}
	for _, c := range store.RetryCauses {
		m.retries.WithLabelValues(c)
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Middleware counts and times every request by its route pattern (so the
// labels stay few whatever the paths).
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" || route == "/" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.status)).Inc()
		m.latency.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Delivered counts one delivery attempt of the outbox.
func (m *Metrics) Delivered(kind, outcome string) {
	m.deliveries.WithLabelValues(kind, outcome).Inc()
}

// DBRetried counts a transaction the store runs again (store.Options.Retried).
func (m *Metrics) DBRetried(cause string) { m.retries.WithLabelValues(cause).Inc() }

// DBPool reports the statistics of a database pool under a name.
func (m *Metrics) DBPool(db *sql.DB, name string) {
	m.Registry.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// Outbox reports the outbox's depth and the age of its oldest waiting job,
// read from the database at each scrape.
func (m *Metrics) Outbox(db *sql.DB, log *slog.Logger) {
	m.Registry.MustRegister(&outboxCollector{db: db, log: log,
		depth: prometheus.NewDesc("orgd_outbox_jobs", "Jobs in the outbox, by state.", []string{"state"}, nil),
		age:   prometheus.NewDesc("orgd_outbox_oldest_waiting_seconds", "Age of the oldest job waiting to run (available or retryable); 0 when none waits.", nil, nil),
	})
}

type outboxCollector struct {
	db         *sql.DB
	log        *slog.Logger
	depth, age *prometheus.Desc
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.depth; ch <- c.age }

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts := map[string]float64{"available": 0, "scheduled": 0, "running": 0, "retryable": 0}
	rows, err := c.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM river_job WHERE state IN ('available', 'scheduled', 'running', 'retryable') GROUP BY state`)
	if err != nil {
		c.log.Warn("reading the outbox for metrics", "error", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n float64
		if err := rows.Scan(&state, &n); err != nil {
			c.log.Warn("reading the outbox for metrics", "error", err)
			return
		}
		counts[state] = n
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, n, state)
	}
	// The oldest waiting job: its id is the smallest (ids grow with time).
	var created any
	err = c.db.QueryRowContext(ctx, `SELECT created_at FROM river_job WHERE state IN ('available', 'retryable') ORDER BY id LIMIT 1`).Scan(&created)
	age := 0.0
	if err == nil {
		if t, ok := riverTime(created); ok {
			age = max(0, time.Since(t).Seconds())
		}
	} else if err != sql.ErrNoRows {
		c.log.Warn("reading the outbox for metrics", "error", err)
	}
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}

// riverTime reads a River timestamp: a time from PostgreSQL, text from SQLite.
func riverTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", time.RFC3339Nano} {
			if p, err := time.Parse(layout, t); err == nil {
				return p, true
			}
		}
	case []byte:
		return riverTime(string(t))
	}
	return time.Time{}, false
}

// Store counts the changes a store commits: every audit event written in a
// transaction that commits counts once under its action.
func (m *Metrics) Store(st orgd.Store) orgd.Store {
	return &countingStore{Store: st, changes: m.changes}
}

type countingStore struct {
	orgd.Store
	changes *prometheus.CounterVec
}

// pendingKey marks the context of an Atomic transaction: the changes of the
// writes inside it wait there for its commit.
type pendingKey struct{}

func (s *countingStore) WriteTx(ctx context.Context, fn func(orgd.Tx) error) error {
	var actions []string
	err := s.Store.WriteTx(ctx, func(tx orgd.Tx) error {
		actions = actions[:0] // a retried transaction starts over
		return fn(&countingTx{Tx: tx, actions: &actions})
	})
	if err != nil {
		return err
	}
	if pending, ok := ctx.Value(pendingKey{}).(*[]string); ok {
		// Joined an Atomic transaction, which may still roll back.
		*pending = append(*pending, actions...)
		return nil
	}
	s.count(actions)
	return nil
}

func (s *countingStore) Atomic(ctx context.Context, fn func(context.Context, orgd.Tx) error) error {
	var actions []string
	err := s.Store.Atomic(ctx, func(ctx context.Context, tx orgd.Tx) error {
		actions = actions[:0]
		return fn(context.WithValue(ctx, pendingKey{}, &actions), &countingTx{Tx: tx, actions: &actions})
	})
	if err == nil {
		s.count(actions)
	}
	return err
}

func (s *countingStore) count(actions []string) {
	for _, a := range actions {
		s.changes.WithLabelValues(a).Inc()
	}
}

type countingTx struct {
	orgd.Tx
	actions *[]string
}

func (t *countingTx) InsertAuditEvents(ctx context.Context, evs []*orgd.AuditEvent, endpoints bool) ([]*orgd.WebhookEndpoint, error) {
	got, err := t.Tx.InsertAuditEvents(ctx, evs, endpoints)
	if err != nil {
		return nil, err
	}
	for _, ev := range evs {
		*t.actions = append(*t.actions, ev.Action)
	}
	return got, nil
}
