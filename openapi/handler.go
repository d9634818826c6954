package openapi

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/orgd/orgd/httpx"
)

// Handler serves the document and its page, both made once.
type Handler struct {
	json []byte
	page []byte
}

// NewHandler builds the document and renders its page. What the document
// lacks (a route without an entry in the operation table) is logged; the
// tests fail for it.
func NewHandler(log *slog.Logger) *Handler {
	doc, problems := Build()
	for _, p := range problems {
		log.Error("the OpenAPI document is incomplete", "problem", p.Error())
	}
	page, err := renderPage(doc)
	if err != nil {
		panic(fmt.Sprintf("openapi: render the page: %v", err)) // embedded template; checked by the tests
	}
	return &Handler{json: doc.JSON(), page: page}
}

// Register adds Routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, rt := range Routes {
		mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) { rt.handler(h, w, r) })
	}
}

func (h *Handler) serveJSON(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(h.json)
}

func (h *Handler) servePage(w http.ResponseWriter, _ *http.Request) {
	httpx.SecureHTML(w.Header(), pageCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(h.page)
}
