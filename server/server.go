// Package server assembles orgd's HTTP handler: both API surfaces, health,
// the invitation page, the OpenAPI document and its page, the fallback that
// answers unknown paths in the manner of the part they belong to (JSON for
// the APIs, HTML for the page), and the middleware every request passes
// through.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/api/elastic"
	"github.com/orgd/orgd/auth"
	"github.com/orgd/orgd/httpx"
	"github.com/orgd/orgd/metrics"
	"github.com/orgd/orgd/openapi"
	"github.com/orgd/orgd/web"
)

// Options configure the handler.
type Options struct {
	MaxBodyBytes int64
	PublicURL    string // where people reach orgd, for accept links
	// AcceptRedirect is where the invitation page sends people after they
	// accept; "" shows a success page.
	AcceptRedirect string
	// PageRequireSignIn keeps the invitation page from accepting or
	// declining on the strength of the link alone: the person signs in
	// with PageSignIn first.
	PageRequireSignIn bool
	PageSignIn        *auth.Client
	Now               func() time.Time
	// Failures limits failed key and token look-ups per client address;
	// nil for no limit.
	Failures *httpx.Failures
	// Ready reports why orgd cannot serve (the database is unreachable,
	// migrations are pending); nil means ready. /readyz answers with it.
	Ready func(ctx context.Context) map[string]error
	// Metrics counts requests; with ServeMetrics it is also served at
	// /metrics on this handler.
	Metrics      *metrics.Metrics
	ServeMetrics bool
}

// surface is what the fallback needs of an API surface.
type surface interface {
	WriteError(w http.ResponseWriter, r *http.Request, err error)
}

// New returns the complete HTTP handler of orgd.
func New(svc *orgd.Service, log *slog.Logger, opts Options) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	mux := http.NewServeMux()
	es := elastic.New(svc, log, elastic.Options{MaxBodyBytes: opts.MaxBodyBytes, Now: opts.Now, Failures: opts.Failures})
	es.Register(mux)
	ds := dreadnode.New(svc, log, dreadnode.Options{MaxBodyBytes: opts.MaxBodyBytes, PublicURL: opts.PublicURL, Now: opts.Now, Failures: opts.Failures})
	ds.Register(mux)
	pages := web.New(svc, log, web.Options{PublicURL: opts.PublicURL, AcceptRedirect: opts.AcceptRedirect,
		RequireSignIn: opts.PageRequireSignIn, SignIn: opts.PageSignIn, Now: opts.Now, Failures: opts.Failures})
	pages.Register(mux)
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "alive"})
	})
	mux.HandleFunc("GET /readyz", readiness(opts.Ready))
	if opts.Metrics != nil && opts.ServeMetrics {
		mux.Handle("GET /metrics", opts.Metrics.Handler())
	}
	openapi.NewHandler(log).Register(mux)
	surfaceOf := func(path string) surface {
		switch {
		case web.Serves(path):
			return pages
		case isElastic(path):
			return es
		}
		return ds
	}
	mux.Handle("/", fallback(mux, surfaceOf))
	var h http.Handler = canonicalAPIPaths(mux, surfaceOf)
	if opts.Metrics != nil {
		h = opts.Metrics.Middleware(h)
	}
	return httpx.Middleware(log, h)
}

// readiness answers /readyz: 200 while every check passes, else 503 with
// what failed. Each check is bounded by a short timeout.
func readiness(ready func(context.Context) map[string]error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		checks := map[string]string{}
		status := http.StatusOK
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
			defer cancel()
			for name, err := range ready(ctx) {
				checks[name] = "ok"
				if err != nil {
					checks[name], status = err.Error(), http.StatusServiceUnavailable
				}
			}
		}
		state := "ready"
		if status != http.StatusOK {
			state = "not ready"
		}
		httpx.WriteJSON(w, status, map[string]any{"status": state, "checks": checks})
	}
}

// isElastic reports whether a path belongs to the Elastic surface.
func isElastic(path string) bool {
	return path == "/api/v1/organizations" || strings.HasPrefix(path, "/api/v1/organizations/") || strings.HasPrefix(path, "/api/v1/users/")
}

// canonicalAPIPaths answers a request for an API path that is not in
// canonical form (an empty segment, "." or "..") with 404 in the envelope of
// its surface. ServeMux would redirect it to the cleaned path with an HTML
// body, and clients follow such redirects with the same method and
// credentials into another operation: the SDK's create-invitations for an
// empty organization id (POST /organizations//invitations) reached
// /organizations/invitations. The invitation pages keep ServeMux's redirect.
func canonicalAPIPaths(next http.Handler, surfaceOf func(path string) surface) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; strings.HasPrefix(p, "/api/") && r.Method != http.MethodConnect && p != cleanPath(p) {
			surfaceOf(p).WriteError(w, r, orgd.ResourceNotFound())
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cleanPath is the form ServeMux redirects a path to: path.Clean, keeping
// a trailing slash.
func cleanPath(p string) string {
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// fallback answers requests no route matched: 405 with Allow when the path
// exists under another method, else 404, in the envelope of the surface the
// path belongs to.
func fallback(mux *http.ServeMux, surfaceOf func(path string) surface) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range methods {
			if m == r.Method {
				continue
			}
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
				allowed = append(allowed, m)
			}
		}
		err := orgd.ResourceNotFound()
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			err = &orgd.Error{Kind: orgd.KindInvalid, Code: orgd.CodeMethodNotAllowed,
				Message: "Method " + r.Method + " is not allowed here; use " + strings.Join(allowed, ", ") + "."}
		}
		surfaceOf(r.URL.Path).WriteError(w, r, err)
	})
}
