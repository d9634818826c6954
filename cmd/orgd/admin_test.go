package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

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
			{[]string{"webhook", "create", "--url", "https://hooks.example.com/x", "--org", "acme-corp"}, []string{"Created webhook endpoint", "(every event)", "shown only this once", "\n  whsec_"}},
			{[]string{"webhook", "list"}, []string{"ORGANIZATION", "https://hooks.example.com/x", "every event"}},
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

// TestAdminJSON checks that every admin command prints with --json exactly
// the keys the README's table documents, whatever the data.
func TestAdminJSON(t *testing.T) {
	documented := documentedJSON(t)
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		e := newTestEnv(t, databaseURL)
		e.must("migrate")
		ran := map[string]bool{}
		// admin runs an admin command with --json, checks its keys and
		// decodes its output into v.
		admin := func(v any, args ...string) {
			t.Helper()
			command := args[0] + " " + args[1]
			ran[command] = true
			var raw json.RawMessage
			e.mustJSON(&raw, append([]string{"admin"}, args...)...)
			shape, ok := documented[command]
			if !ok {
				t.Fatalf("README's admin table does not document %q", command)
			}
			var objects []map[string]json.RawMessage
			if shape.list {
				e.decode(raw, &objects)
			} else {
				objects = make([]map[string]json.RawMessage, 1)
				e.decode(raw, &objects[0])
			}
			for _, o := range objects {
				if keys := slices.Sorted(maps.Keys(o)); !slices.Equal(keys, shape.keys) {
					t.Errorf("orgd admin %s --json printed the keys %q, README documents %q", strings.Join(args, " "), keys, shape.keys)
				}
			}
			e.decode(raw, v)
		}

		var org orgJSON
		admin(&org, "org", "create", "--name", "Acme")
		if org.Slug != "acme" || org.Name != "Acme" || org.ID == "" {
			t.Errorf("org create: %+v", org)
		}
		var orgs []orgJSON
		admin(&orgs, "org", "list")
		if len(orgs) != 1 || orgs[0] != org {
			t.Errorf("org list: %+v, want [%+v]", orgs, org)
		}

		var ann, bob userJSON
		admin(&ann, "user", "create", "--email", "Ann@example.com")
		admin(&bob, "user", "create", "--email", "bob@example.com", "--name", "Bob", "--platform-admin")
		if ann.Email != "Ann@example.com" || ann.Name != "" || ann.PlatformAdmin || bob.Name != "Bob" || !bob.PlatformAdmin {
			t.Errorf("user create: %+v and %+v", ann, bob)
		}
		var annAdmin userJSON
		admin(&annAdmin, "user", "platform-admin", "--email", "ann@example.com")
		if annAdmin.ID != ann.ID || !annAdmin.PlatformAdmin {
			t.Errorf("user platform-admin: %+v", annAdmin)
		}

		for _, u := range []userJSON{ann, bob} {
			var m memberJSON
			admin(&m, "member", "add", "--org", "acme", "--email", u.Email, "--role", "owner")
			if m.OrganizationID != org.ID || m.UserID != u.ID || m.Email != u.Email || m.Name != u.Name || m.Role != "owner" || m.MemberSince == "" {
				t.Errorf("member add %s: %+v", u.Email, m)
			}
		}

		var key, expiring keyJSON
		admin(&key, "key", "create", "--email", "ann@example.com")
		admin(&expiring, "key", "create", "--email", bob.ID, "--name", "ci", "--expires-in", "90d")
		if key.UserID != ann.ID || !strings.HasPrefix(key.Key, key.Prefix) || !strings.HasPrefix(key.Key, "orgd_") || key.ExpiresAt != nil {
			t.Errorf("key create: %+v", key)
		}
		if expiring.UserID != bob.ID || expiring.ExpiresAt == nil {
			t.Errorf("key create --expires-in 90d: %+v", expiring)
		}
		for _, name := range []string{"", "   "} {
			if r := e.run("admin", "key", "create", "--email", "ann@example.com", "--name", name); r.code != exitError || !strings.Contains(r.stderr, "root.invalid_data") || !strings.Contains(r.stderr, "key name is required") {
				t.Errorf("key create --name %q: exit %d, %s", name, r.code, r.stderr)
			}
		}

		var keys []keyListJSON
		admin(&keys, "key", "list", "--email", "ann@example.com")
		if len(keys) != 1 || keys[0].ID != key.ID || keys[0].Prefix != key.Prefix || keys[0].Status != "active" || keys[0].Name != defaultKeyName {
			t.Errorf("key list: %+v, want the key %s, active, named %q", keys, key.ID, defaultKeyName)
		}
		var revoked map[string]string
		admin(&revoked, "key", "revoke", "--id", key.ID)
		if revoked["id"] != key.ID || revoked["status"] != "revoked" {
			t.Errorf("key revoke: %v", revoked)
		}
		admin(&keys, "key", "list", "--email", "ann@example.com")
		if len(keys) != 1 || keys[0].Status != "revoked" {
			t.Errorf("key list after key revoke: %+v", keys)
		}
		var events []auditJSON
		admin(&events, "audit", "list", "--org", "acme", "--limit", "2")
		newestFirst := len(events) == 2
		if newestFirst {
			first, err1 := time.Parse(time.RFC3339Nano, events[0].At)
			second, err2 := time.Parse(time.RFC3339Nano, events[1].At)
			newestFirst = err1 == nil && err2 == nil && !first.Before(second)
		}
		if !newestFirst || events[0].OrgID != org.ID || events[1].OrgID != org.ID {
			t.Errorf("audit list --org acme --limit 2: %+v, want the organization's two newest events, newest first", events)
		}

		var hook, orgHook webhookJSON
		admin(&hook, "webhook", "create", "--url", "https://hooks.example.com/orgd", "--events", "member.added, member.removed")
		admin(&orgHook, "webhook", "create", "--url", "https://hooks.example.com/acme", "--org", "acme", "--description", "Acme's")
		if hook.OrganizationID != nil || !slices.Equal(hook.Events, []string{"member.added", "member.removed"}) || !strings.HasPrefix(hook.Secret, "whsec_") ||
			orgHook.OrganizationID == nil || *orgHook.OrganizationID != org.ID || len(orgHook.Events) != 0 || orgHook.Description != "Acme's" {
			t.Errorf("webhook create: %+v and %+v", hook, orgHook)
		}
		var hooks []webhookJSON
		admin(&hooks, "webhook", "list")
		if len(hooks) != 2 || hooks[0].ID != hook.ID || hooks[1].ID != orgHook.ID || hooks[0].Secret != "" {
			t.Errorf("webhook list: %+v", hooks)
		}
		admin(&hooks, "webhook", "list", "--org", "acme")
		if len(hooks) != 1 || hooks[0].ID != orgHook.ID {
			t.Errorf("webhook list --org acme: %+v", hooks)
		}
		var deleted map[string]string
		admin(&deleted, "webhook", "delete", "--id", hook.ID)
		if deleted["id"] != hook.ID || deleted["status"] != "deleted" {
			t.Errorf("webhook delete: %v", deleted)
		}
		if r := e.run("admin", "webhook", "create", "--url", "http://127.0.0.1:9000/hook"); r.code != exitError || !strings.Contains(r.stderr, "webhook.invalid_url") {
			t.Errorf("a loopback URL without --webhook-allow-private: exit %d, %s", r.code, r.stderr)
		}
		e.must("admin", "webhook", "create", "--url", "http://127.0.0.1:9000/hook", "--webhook-allow-private")

		for command := range documented {
			if !ran[command] {
				t.Errorf("the README documents orgd admin %s, which this test does not run", command)
			}
		}
	})
}
