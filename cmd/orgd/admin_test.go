package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/orgd/orgd/internal/testdb"
)

// TestAdminText checks that without --json the commands print for people.
func TestAdminText(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		e := newTestEnv(t, databaseURL)
		e.must("migrate")
		for _, tc := range []struct {
			args []string
			want []string
		}{
			{[]string{"org", "create", "--name", "Acme Corp"}, []string{`Created organization "Acme Corp"`, "slug: acme-corp"}},
			{[]string{"org", "list"}, []string{"ID", "SLUG", "NAME", "acme-corp", "Acme Corp"}},
			{[]string{"user", "create", "--email", "Ann@Example.com", "--platform-admin"}, []string{"Created user Ann@Example.com (platform administrator)", "id: "}},
			{[]string{"user", "platform-admin", "--email", "ann@example.com", "--revoke"}, []string{"Ann@Example.com is no longer a platform administrator"}},
			{[]string{"member", "add", "--org", "acme-corp", "--email", "ann@example.com", "--role", "organization-admin"}, []string{"Ann@Example.com is now a member of acme-corp with the role organization-admin"}},
			{[]string{"key", "create", "--email", "ann@example.com"}, []string{"shown only this once", "\n  orgd_", `"Authorization: ApiKey <key>"`}},
		} {
			out := e.must(append([]string{"admin"}, tc.args...)...)
			if json.Valid([]byte(out)) {
				t.Errorf("orgd admin %s printed JSON without --json:\n%s", strings.Join(tc.args, " "), out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("orgd admin %s printed\n%s\nwant %q in it", strings.Join(tc.args, " "), out, w)
				}
			}
		}
	})
}
