package dreadnode_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/api/elastic"
	"github.com/orgd/orgd/internal/testdb"
)

func TestAPIKeyLifecycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		var created dreadnode.APIKey
		w.srv.Slug("POST", "/api/v1/user/api-keys", w.reader.Key, map[string]any{"name": "ci", "expires_in": "30d"}).Want(t, 200).JSON(t, &created)
		if !strings.HasPrefix(created.Key, orgd.APIKeyPrefix) || created.Prefix != created.Key[:len(created.Prefix)] || created.ExpiresAt == nil || created.Name != "ci" {
			t.Fatalf("created key %+v", created)
		}
		// The new key works on both surfaces and records its use.
		w.srv.Slug("GET", "/api/v1/user", created.Key, nil).Want(t, 200)
		w.srv.Elastic("GET", "/api/v1/organizations", created.Key, nil).Want(t, 200)
		var list []dreadnode.APIKey
		r := w.srv.Slug("GET", "/api/v1/user/api-keys", w.reader.Key, nil).Want(t, 200)
		r.JSON(t, &list)
		if strings.Contains(string(r.Body), created.Key) || strings.Contains(string(r.Body), `"key"`) {
			t.Error("a list shows a secret")
		}
		if len(list) != 2 || list[1].ID != created.ID || list[1].LastUsedAt == nil {
			t.Errorf("keys %+v", list)
		}
		// Someone else's key does not exist for the caller.
		wantError(t, w.srv.Slug("DELETE", "/api/v1/user/api-keys/"+created.ID, w.owner.Key, nil), 404, orgd.CodeKeyNotFound)
		wantError(t, w.srv.Slug("POST", "/api/v1/user/api-keys", w.reader.Key, map[string]any{"expires_in": "x"}), 422, "missing", "body", "name")
		// A name that is empty or only spaces is refused as a missing one is.
		for _, name := range []string{"", " \t\u00a0"} {
			e := wantError(t, w.srv.Slug("POST", "/api/v1/user/api-keys", w.reader.Key, map[string]any{"name": name}), 422, orgd.CodeInvalidData, "body", "name")
			if !strings.Contains(e.Detail, "required") {
				t.Errorf("name %q: %+v, want it to say a name is required", name, e)
			}
		}
		// A name too long or with a line break is refused in this surface's
		// words (the Elastic surface says description).
		for _, name := range []string{strings.Repeat("x", 201), "ci\nkey"} {
			e := wantError(t, w.srv.Slug("POST", "/api/v1/user/api-keys", w.reader.Key, map[string]any{"name": name}), 422, orgd.CodeInvalidData, "body", "name")
			if want := "The key name must be at most 200 characters, without line breaks or control characters."; e.Detail != want || e.Errors[0].Msg != want {
				t.Errorf("name %q: %+v, want the message %q", name, e, want)
			}
		}

		// Revoking stops the key at once.
		var revoked dreadnode.APIKey
		w.srv.Slug("DELETE", "/api/v1/user/api-keys/"+created.ID, w.reader.Key, nil).Want(t, 200).JSON(t, &revoked)
		if revoked.RevokedAt == nil {
			t.Errorf("revoked key %+v", revoked)
		}
		wantError(t, w.srv.Slug("GET", "/api/v1/user", created.Key, nil), 401, orgd.CodeUnauthorized)
		w.srv.Elastic("GET", "/api/v1/organizations", created.Key, nil).Want(t, 401)
		w.srv.Slug("GET", "/api/v1/user/api-keys", w.reader.Key, nil).Want(t, 200).JSON(t, &list)
		if len(list) != 1 {
			t.Errorf("a revoked key is still listed: %+v", list)
		}
		// A key revokes itself.
		w.srv.Slug("DELETE", "/api/v1/user/api-keys/self", w.reader.Key, nil).Want(t, 200)
		wantError(t, w.srv.Slug("GET", "/api/v1/user", w.reader.Key, nil), 401, orgd.CodeUnauthorized)

		// An expired key is refused like a revoked one.
		var short dreadnode.APIKey
		w.srv.Slug("POST", "/api/v1/user/api-keys", w.owner.Key, map[string]any{"name": "short", "expires_in": "1h"}).Want(t, 200).JSON(t, &short)
		w.srv.Slug("GET", "/api/v1/user", short.Key, nil).Want(t, 200)
		w.srv.Clock.Advance(time.Hour)
		wantError(t, w.srv.Slug("GET", "/api/v1/user", short.Key, nil), 401, orgd.CodeUnauthorized)
	})
}

// TestElasticAPIKeys drives the Elastic key operations (/users/auth/keys).
func TestElasticAPIKeys(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		var k struct {
			ID             string `json:"id"`
			UserID         string `json:"user_id"`
			Description    string `json:"description"`
			Key            string `json:"key"`
			CreationDate   string `json:"creation_date"`
			ExpirationDate string `json:"expiration_date"`
		}
		w.srv.Elastic("POST", "/api/v1/users/auth/keys", w.admin.Key, map[string]any{"description": "terraform", "expiration": "7d"}).Want(t, 201).JSON(t, &k)
		if k.UserID != w.admin.User.ID || k.Description != "terraform" || !strings.HasPrefix(k.Key, orgd.APIKeyPrefix) || k.ExpirationDate == "" || k.CreationDate == "" {
			t.Fatalf("created %+v", k)
		}
		w.srv.Elastic("GET", "/api/v1/organizations/"+w.org.ID, k.Key, nil).Want(t, 200)
		var list struct {
			Keys []map[string]any `json:"keys"`
		}
		w.srv.Elastic("GET", "/api/v1/users/auth/keys", w.admin.Key, nil).Want(t, 200).JSON(t, &list)
		if len(list.Keys) != 2 || list.Keys[1]["id"] != k.ID || list.Keys[1]["key"] != nil {
			t.Errorf("keys %+v", list)
		}
		w.srv.Elastic("GET", "/api/v1/users/auth/keys/"+k.ID, w.admin.Key, nil).Want(t, 200)
		// Elastic's CreateApiKeyRequest requires a description; one the
		// domain finds empty (only spaces) is answered as a missing one, and
		// one it refuses as a key's name is told in Elastic's words.
		const required = "A description is required."
		const invalid = "The description must be at most 200 characters, without line breaks or control characters."
		for _, tc := range []struct {
			body       any
			field, msg string // msg "" for any
		}{
			{map[string]any{}, "description", required},
			{map[string]any{"description": nil}, "description", required},
			{map[string]any{"description": ""}, "description", required},
			{map[string]any{"description": " \t\u00a0"}, "description", required},
			{map[string]any{"description": strings.Repeat("x", 201)}, "description", invalid},
			{map[string]any{"description": "ci\nkey"}, "description", invalid},
			{map[string]any{"description": "ci\u0007"}, "description", invalid},
			{map[string]any{"description": "x", "expiration": "soon"}, "expiration", ""},
			{map[string]any{"description": "x", "role_assignments": map[string]any{"organization": []map[string]any{{"role_id": "reader"}}}}, "role_assignments", ""},
		} {
			r := w.srv.Elastic("POST", "/api/v1/users/auth/keys", w.admin.Key, tc.body).Want(t, 400)
			var e elastic.BasicFailedReply
			r.JSON(t, &e)
			if len(e.Errors) != 1 || e.Errors[0].Code != orgd.CodeKeyInvalid || r.Header.Get("x-cloud-error-codes") != orgd.CodeKeyInvalid ||
				!slices.Equal(e.Errors[0].Fields, []string{tc.field}) || (tc.msg != "" && e.Errors[0].Message != tc.msg) {
				t.Errorf("%v: %s, want %s on %s with the message %q", tc.body, r.Body, orgd.CodeKeyInvalid, tc.field, tc.msg)
			}
		}
		r := w.srv.Elastic("GET", "/api/v1/users/auth/keys/"+k.ID, w.owner.Key, nil).Want(t, 404)
		if r.Header.Get("x-cloud-error-codes") != orgd.CodeKeyNotFound {
			t.Errorf("another user's key: %s", r.Body)
		}
		w.srv.Elastic("DELETE", "/api/v1/users/auth/keys/"+k.ID, w.admin.Key, nil).Want(t, 200)
		w.srv.Elastic("GET", "/api/v1/organizations/"+w.org.ID, k.Key, nil).Want(t, 401)
		w.srv.Elastic("GET", "/api/v1/users/auth/keys/"+k.ID, w.admin.Key, nil).Want(t, 404)
		w.srv.Elastic("DELETE", "/api/v1/users/auth/keys/"+k.ID, w.admin.Key, nil).Want(t, 404)

		// Several at once, all or none.
		var k2, k3 struct {
			ID string `json:"id"`
		}
		w.srv.Elastic("POST", "/api/v1/users/auth/keys", w.admin.Key, map[string]any{"description": "a"}).Want(t, 201).JSON(t, &k2)
		w.srv.Elastic("POST", "/api/v1/users/auth/keys", w.admin.Key, map[string]any{"description": "b"}).Want(t, 201).JSON(t, &k3)
		w.srv.Elastic("DELETE", "/api/v1/users/auth/keys", w.admin.Key, map[string]any{"keys": []string{k2.ID, "01936f6e-0000-7000-8000-000000000000"}}).Want(t, 404)
		w.srv.Elastic("GET", "/api/v1/users/auth/keys/"+k2.ID, w.admin.Key, nil).Want(t, 200)
		w.srv.Elastic("DELETE", "/api/v1/users/auth/keys", w.admin.Key, map[string]any{"keys": []string{k2.ID, k3.ID}}).Want(t, 200)
		w.srv.Elastic("GET", "/api/v1/users/auth/keys", w.admin.Key, nil).Want(t, 200).JSON(t, &list)
		if len(list.Keys) != 1 {
			t.Errorf("after deleting two keys: %+v", list)
		}
	})
}

// TestAPIKeyExpiryIsLater checks that both surfaces refuse a key that would
// expire as it is made, whatever the sub-microsecond part of the clock, and
// count a lifetime from the creation.
func TestAPIKeyExpiryIsLater(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		// Half a microsecond past a whole one: finer than the store keeps.
		w.srv.Clock.Advance(time.Duration(1500 - w.srv.Clock.Now().Nanosecond()%1000))

		wantError(t, w.srv.Slug("POST", "/api/v1/user/api-keys", w.reader.Key, map[string]any{"name": "k", "expires_in": "0s"}),
			422, orgd.CodeInvalidData, "body", "expires_in")
		wantError(t, w.srv.Slug("POST", "/api/v1/user/api-keys", w.reader.Key, map[string]any{"name": "k", "expires_in": "soon"}),
			422, orgd.CodeInvalidData, "body", "expires_in")
		for _, expiration := range []string{"0s", "0d", "soon"} {
			r := w.srv.Elastic("POST", "/api/v1/users/auth/keys", w.reader.Key, map[string]any{"description": "k", "expiration": expiration}).Want(t, 400)
			var e elastic.BasicFailedReply
			r.JSON(t, &e)
			if len(e.Errors) != 1 || e.Errors[0].Code != orgd.CodeKeyInvalid || !slices.Equal(e.Errors[0].Fields, []string{"expiration"}) {
				t.Errorf("expiration %q: %s", expiration, r.Body)
			}
		}

		var k dreadnode.APIKey
		w.srv.Slug("POST", "/api/v1/user/api-keys", w.reader.Key, map[string]any{"name": "k", "expires_in": "1s"}).Want(t, 200).JSON(t, &k)
		if k.ExpiresAt == nil {
			t.Fatalf("created %+v", k)
		}
		created, _ := time.Parse(time.RFC3339Nano, k.CreatedAt)
		expires, _ := time.Parse(time.RFC3339Nano, *k.ExpiresAt)
		if got := expires.Sub(created); got != time.Second {
			t.Errorf("a key of 1s expires %v after its creation (%s, %s)", got, k.CreatedAt, *k.ExpiresAt)
		}
	})
}

func TestAuditLog(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		dana := w.srv.User("dana@x.test", false)
		// A change through each surface, one refused request, and an accept.
		w.srv.Request("POST", "/api/v1/org/acme/invitations", map[string]string{"Authorization": "Bearer " + w.admin.Key, "X-Request-Id": "req-slug-1"},
			map[string]any{"email": "dana@x.test", "role": "contributor"}).Want(t, 200)
		w.srv.Request("POST", "/api/v1/organizations/"+w.org.ID+"/invitations", map[string]string{"Authorization": "ApiKey " + w.owner.Key, "X-Request-Id": "req-el-1"},
			map[string]any{"emails": []string{"erin@x.test", "bad@@x"}}).Want(t, 400)
		var mine []dreadnode.Invitation
		w.srv.Slug("GET", "/api/v1/invitations/me", dana.Key, nil).Want(t, 200).JSON(t, &mine)
		w.srv.Slug("POST", "/api/v1/invitations/"+mine[0].ID+"/respond", dana.Key, map[string]any{"accept": true}).Want(t, 200)
		w.srv.Slug("PUT", "/api/v1/org/acme/members/"+dana.User.ID, w.admin.Key, map[string]any{"role": "reader"}).Want(t, 200)
		w.srv.Elastic("DELETE", "/api/v1/organizations/"+w.org.ID+"/members/"+dana.User.ID, w.owner.Key, nil).Want(t, 200)

		var page dreadnode.AuditPage
		w.srv.Slug("GET", "/api/v1/org/acme/audit-log", w.admin.Key, nil).Want(t, 200).JSON(t, &page)
		type row struct{ Action, Actor, Surface, RequestID, Target string }
		var got []row
		for _, ev := range page.Events {
			if ev.OrgID == nil || *ev.OrgID != w.org.ID {
				t.Errorf("event %s of another organization: %+v", ev.ID, ev)
			}
			req := ""
			if ev.RequestID != nil {
				req = *ev.RequestID
			}
			actor := ""
			if ev.Actor.Email != nil {
				actor = *ev.Actor.Email
			}
			got = append(got, row{ev.Action, actor, ev.Surface, req, ev.TargetType})
		}
		// Newest first; the members made at set-up were added by orgd admin.
		want := []row{
			{orgd.AuditMemberRemoved, "owner@acme.test", "elastic", "", "member"},
			{orgd.AuditMemberRolesChanged, "admin@acme.test", "slug", "", "member"},
			{orgd.AuditMemberAdded, "dana@x.test", "slug", "", "member"},
			{orgd.AuditInvitationAccepted, "dana@x.test", "slug", "", "invitation"},
			{orgd.AuditInvitationCreated, "admin@acme.test", "slug", "req-slug-1", "invitation"},
		}
		if len(got) < len(want) {
			t.Fatalf("audit log %+v", got)
		}
		for i := range want {
			if want[i].RequestID == "" {
				got[i].RequestID = "" // generated ids
			}
		}
		if diff := cmp.Diff(want, got[:len(want)]); diff != "" {
			t.Errorf("audit log (-want +got):\n%s", diff)
		}
		for _, ev := range page.Events {
			if ev.RequestID == nil || *ev.RequestID == "req-el-1" {
				if ev.Surface != "internal" {
					t.Errorf("event %+v: the refused Elastic request was recorded, or a request id is missing", ev)
				}
			}
			if ev.Action == orgd.AuditMemberRolesChanged && (ev.Details["from"] != "contributor" || ev.Details["to"] != "reader") {
				t.Errorf("role change details %v", ev.Details)
			}
		}

		// Paging with before, and who may read.
		var first, second dreadnode.AuditPage
		w.srv.Slug("GET", "/api/v1/org/acme/audit-log?limit=2", w.owner.Key, nil).Want(t, 200).JSON(t, &first)
		if len(first.Events) != 2 || first.NextBefore == nil {
			t.Fatalf("first page %+v", first)
		}
		w.srv.Slug("GET", "/api/v1/org/acme/audit-log?limit=2&before="+*first.NextBefore, w.owner.Key, nil).Want(t, 200).JSON(t, &second)
		if len(second.Events) != 2 || second.Events[0].ID != page.Events[2].ID {
			t.Errorf("second page %+v", second)
		}
		wantError(t, w.srv.Slug("GET", "/api/v1/org/acme/audit-log?limit=0", w.owner.Key, nil), 422, "int_type", "query", "limit")
		wantError(t, w.srv.Slug("GET", "/api/v1/org/acme/audit-log?before=nope", w.owner.Key, nil), 422, orgd.CodeInvalidData, "query", "before")
		// An event of another organization is no cursor of this one's log:
		// the answer is exactly that of an unknown id.
		unknown := w.srv.Slug("GET", "/api/v1/org/other/audit-log?before=01936f6e-0000-7000-8000-000000000000", w.outsider.Key, nil)
		wantError(t, unknown, 422, orgd.CodeInvalidData, "query", "before")
		foreign := w.srv.Slug("GET", "/api/v1/org/other/audit-log?before="+page.Events[0].ID, w.outsider.Key, nil)
		if foreign.Status != unknown.Status || string(foreign.Body) != string(unknown.Body) {
			t.Errorf("before=<an event of acme> on other's log: %d %s; an unknown id: %d %s", foreign.Status, foreign.Body, unknown.Status, unknown.Body)
		}
		wantError(t, w.srv.Slug("GET", "/api/v1/org/acme/audit-log", w.reader.Key, nil), 403, orgd.CodeOrgInvalidAccess)
		wantError(t, w.srv.Slug("GET", "/api/v1/admin/audit-log", w.owner.Key, nil), 403, orgd.CodeOrgInvalidAccess)
		var all dreadnode.AuditPage
		w.srv.Slug("GET", "/api/v1/admin/audit-log?limit=500", w.platform.Key, nil).Want(t, 200).JSON(t, &all)
		orgs := map[string]bool{}
		for _, ev := range all.Events {
			if ev.OrgID != nil {
				orgs[*ev.OrgID] = true
			}
		}
		if len(orgs) != 2 {
			t.Errorf("the platform log covers %d organizations, want 2", len(orgs))
		}
		// The platform log takes any event as its cursor.
		w.srv.Slug("GET", "/api/v1/admin/audit-log?before="+page.Events[0].ID, w.platform.Key, nil).Want(t, 200)
	})
}
