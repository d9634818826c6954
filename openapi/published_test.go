package openapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/openapi"
)

// golden compares got with the file at path; -update rewrites the file.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *openapi.Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what orgd serves; run go test ./openapi -update and review the diff", path)
	}
}

// TestPublished checks that docs/openapi.json is the document orgd serves,
// and the page the golden one.
func TestPublished(t *testing.T) {
	srv := apitest.Start(t, testdb.URL(t, "sqlite"))

	doc := srv.Request("GET", "/api/v1/openapi.json", nil, nil).Want(t, 200)
	golden(t, "../docs/openapi.json", doc.Body)

	req, err := http.NewRequest("GET", srv.URL+"/api/v1/docs", nil)
	if err != nil {
		t.Fatal(err)
	}
	page := srv.Send(t, req)
	if page.Status != 200 || page.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /api/v1/docs: %d %s", page.Status, page.Header.Get("Content-Type"))
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
	} {
		if got := page.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	// The page's one stylesheet is inline; the policy allows it by its hash
	// and nothing else.
	_, style, _ := strings.Cut(string(page.Body), "<style>")
	style, _, _ = strings.Cut(style, "</style>")
	sum := sha256.Sum256([]byte(style))
	wantCSP := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	if csp := page.Header.Get("Content-Security-Policy"); csp != wantCSP {
		t.Errorf("Content-Security-Policy %q, want %q", csp, wantCSP)
	}
	golden(t, "testdata/page.html", page.Body)
}
