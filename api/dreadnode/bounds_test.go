package dreadnode_test

import (
	"testing"

	"github.com/orgd/orgd/internal/testdb"
)

// A body's errors are answered up to a bound: a list of a hundred thousand
// items that are not strings, sent by any signed-in caller (the body is read
// before access is decided), is refused with a short answer, not one error
// per item (56 MB for a body of 1 MiB before the bound).
func TestBodyErrorsAreBounded(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		items := make([]any, 100_000)
		for i := range items {
			items[i] = 1
		}
		for _, c := range []struct{ who, key, path string }{
			{"a reader", w.reader.Key, "/api/v1/org/acme"},
			{"an outsider", w.outsider.Key, "/api/v1/org/acme"},
		} {
			r := w.srv.Slug("PATCH", c.path, c.key, map[string]any{"allowed_email_domains": items, "name": 5})
			e := wantError(t, r, 422, "string_type", "body", "name")
			if len(e.Errors) != 20 {
				t.Errorf("%s: %d errors, want the first 20", c.who, len(e.Errors))
			}
			if len(r.Body) > 5_000 {
				t.Errorf("%s: an answer of %d bytes", c.who, len(r.Body))
			}
		}
	})
}
