package web

import (
	"net/http"
	"strings"

	"github.com/orgd/orgd/httpx"
)

// Register adds the routes of the pages to mux. Every answer carries the
// security headers and keeps the token out of the access log; the forms
// pass the cross-origin check first.
func (p *Pages) Register(mux *http.ServeMux) {
	mux.Handle("GET /invitations/{token}", p.guard(p.handler(p.showInvitation)))
	mux.Handle("POST /invitations/{token}/accept", p.guard(p.crossOrigin.Handler(p.handler(p.accept))))
	mux.Handle("POST /invitations/{token}/decline", p.guard(p.crossOrigin.Handler(p.handler(p.decline))))
	mux.Handle("GET "+CallbackPath, p.guard(p.handler(p.signInCallback)))
	mux.Handle("GET /assets/orgd.css", p.guard(p.handler(serveStylesheet)))
}

func (p *Pages) handler(h httpx.HandlerFunc) http.Handler {
	return httpx.Adapt(p.log, p.writeError, h)
}

// guard sets what every answer of the pages needs before h runs.
func (p *Pages) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.secure(w.Header())
		hideToken(r)
		h.ServeHTTP(w, r)
	})
}

// hideToken logs the path of a request for an invitation without its token:
// whoever reads the logs must not be able to answer the invitation. The
// callback's path holds no token, and the access log writes no query, so
// the code and the state of a sign-in stay out of it too.
func hideToken(r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/invitations/")
	if !ok || rest == "" || r.URL.Path == CallbackPath {
		return
	}
	path := "/invitations/{token}"
	if _, after, found := strings.Cut(rest, "/"); found {
		path += "/" + after
	}
	httpx.SetLogPath(r.Context(), path)
}
