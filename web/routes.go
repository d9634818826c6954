package web

import (
	"net/http"

	"github.com/orgd/orgd/httpx"
)

// Register adds the routes of the pages to mux. Every answer carries the
// security headers; the forms pass the cross-origin check first.
func (p *Pages) Register(mux *http.ServeMux) {
	mux.Handle("GET /invitations/{token}", p.handler(p.showInvitation))
	mux.Handle("POST /invitations/{token}/accept", p.crossOrigin.Handler(p.handler(p.accept)))
	mux.Handle("POST /invitations/{token}/decline", p.crossOrigin.Handler(p.handler(p.decline)))
	mux.Handle("GET /assets/orgd.css", p.handler(serveStylesheet))
}

func (p *Pages) handler(h httpx.HandlerFunc) http.Handler {
	adapted := httpx.Adapt(p.log, p.writeError, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.secure(w.Header())
		adapted.ServeHTTP(w, r)
	})
}
