package httpx

import "net/http"

// SecureHTML sets the security headers of every HTML answer of orgd: csp,
// no content sniffing, no framing, no referrer (links may carry a token)
// and no caching.
func SecureHTML(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}
