package web

import (
	_ "embed"
	"net/http"
)

//go:embed assets/orgd.css
var stylesheet []byte

// serveStylesheet serves the one stylesheet of the pages, the only thing
// their Content-Security-Policy lets them load.
func serveStylesheet(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(stylesheet)
	return nil
}
