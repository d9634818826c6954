package dreadnode_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
)

// walk follows the Link headers of a slug list from path and returns the
// ids of every item, failing on a repeated id.
func walk(t *testing.T, srv *apitest.Server, key, path string, between func()) []string {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	for path != "" {
		r := srv.Slug("GET", path, key, nil).Want(t, 200)
		var items []struct {
			ID string `json:"id"`
		}
		r.JSON(t, &items)
		for _, it := range items {
			if seen[it.ID] {
				t.Fatalf("%s repeats %s", path, it.ID)
			}
			seen[it.ID] = true
			ids = append(ids, it.ID)
		}
		path = ""
		if link := r.Header.Get("Link"); link != "" {
			path = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
			if r.Header.Get("X-Next-Cursor") == "" {
				t.Errorf("Link without X-Next-Cursor")
			}
			if between != nil {
				between()
			}
		}
	}
	return ids
}

func TestListPagesAndFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL, func(l *orgd.Limits) { l.RefreshCooldown = 0 })
		var want []string
		start := w.srv.Clock.Now()
		for i := range 25 {
			inviter, role := w.admin, "reader"
			if i%5 == 0 {
				inviter, role = w.owner, "owner"
			}
			var inv dreadnode.Invitation
			w.srv.Slug("POST", "/api/v1/org/acme/invitations", inviter.Key, map[string]any{"email": fmt.Sprintf("p%02d@x.test", i), "role": role}).
				Want(t, 200).JSON(t, &inv)
			want = append(want, inv.ID)
			w.srv.Clock.Advance(time.Minute)
		}
		// Pages of 10 in creation order; invitations made while paging come at the end.
		extra := 0
		got := walk(t, w.srv, w.admin.Key, "/api/v1/org/acme/invitations?limit=10", func() {
			var inv dreadnode.Invitation
			w.srv.Slug("POST", "/api/v1/org/acme/invitations", w.admin.Key, map[string]any{"email": fmt.Sprintf("late%d@x.test", extra)}).Want(t, 200).JSON(t, &inv)
			want = append(want, inv.ID)
			extra++
		})
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("paged %d invitations, want %d in creation order", len(got), len(want))
		}
		// Filters.
		count := func(query string) int {
			t.Helper()
			return len(walk(t, w.srv, w.admin.Key, "/api/v1/org/acme/invitations?limit=7&"+query, nil))
		}
		cut := start.Add(10 * time.Minute).UTC().Format(time.RFC3339)
		for _, tc := range []struct {
			query string
			want  int
		}{
			{"role=owner", 5},
			{"role=reader", 20 + extra},
			{"inviter=owner@acme.test", 5},
			{"inviter=" + w.admin.User.ID, 20 + extra},
			{"inviter=nobody@x.test", 0},
			{"email=P03@X.test", 1},
			{"created_before=" + url.QueryEscape(cut), 10},
			{"created_after=" + url.QueryEscape(cut) + "&role=owner", 3},
			{"status=revoked", 0},
			{"status=all&email_status=queued", 25 + extra},
		} {
			if got := count(tc.query); got != tc.want {
				t.Errorf("?%s: %d invitations, want %d", tc.query, got, tc.want)
			}
		}
		for _, bad := range []struct{ query, typ, loc string }{
			{"limit=0", "int_type", "limit"},
			{"limit=1001", "int_type", "limit"},
			{"cursor=bogus", orgd.CodeInvalidData, "cursor"},
			{"role=admin", "enum", "role"},
			{"created_after=yesterday", "datetime_type", "created_after"},
			{"status=,", "enum", "status"},
			{"status=%20", "enum", "status"},
			{"email_status=,", "enum", "email_status"},
		} {
			wantError(t, w.srv.Slug("GET", "/api/v1/org/acme/invitations?"+bad.query, w.admin.Key, nil), 422, bad.typ, "query", bad.loc)
		}

		// Members page and filter too.
		for i := range 12 {
			w.srv.Member(w.org, fmt.Sprintf("m%02d@acme.test", i), orgd.RoleContributor)
		}
		if n := len(walk(t, w.srv, w.reader.Key, "/api/v1/org/acme/members?limit=5", nil)); n != 17 {
			t.Errorf("%d members paged, want 17", n)
		}
		if n := len(walk(t, w.srv, w.reader.Key, "/api/v1/org/acme/members?limit=5&role=contributor", nil)); n != 13 {
			t.Errorf("%d contributors, want 13", n)
		}
		if n := len(walk(t, w.srv, w.reader.Key, "/api/v1/org/acme/members?email=M07@acme.test", nil)); n != 1 {
			t.Errorf("%d members with one address", n)
		}
	})
}

// TestElasticListsPageOnlyWhenAsked keeps Elastic's answers whole by default.
func TestElasticListsPageOnlyWhenAsked(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		emails := make([]string, 120)
		for i := range emails {
			emails[i] = fmt.Sprintf("e%03d@x.test", i)
		}
		w.srv.Elastic("POST", "/api/v1/organizations/"+w.org.ID+"/invitations", w.admin.Key, map[string]any{"emails": emails[:100]}).Want(t, 201)
		w.srv.Elastic("POST", "/api/v1/organizations/"+w.org.ID+"/invitations", w.admin.Key, map[string]any{"emails": emails[100:]}).Want(t, 201)
		type list struct {
			Invitations []struct{ Email string } `json:"invitations"`
			NextPage    string                   `json:"next_page"`
		}
		var all list
		r := w.srv.Elastic("GET", "/api/v1/organizations/"+w.org.ID+"/invitations", w.admin.Key, nil).Want(t, 200)
		r.JSON(t, &all)
		if len(all.Invitations) != 120 || all.NextPage != "" || r.Header.Get("Link") != "" {
			t.Errorf("the default answer holds %d invitations, next %q", len(all.Invitations), all.NextPage)
		}
		got, cursor := 0, ""
		for {
			var page list
			path := "/api/v1/organizations/" + w.org.ID + "/invitations?limit=50"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			w.srv.Elastic("GET", path, w.admin.Key, nil).Want(t, 200).JSON(t, &page)
			got += len(page.Invitations)
			if page.NextPage == "" {
				break
			}
			cursor = page.NextPage
		}
		if got != 120 {
			t.Errorf("paged %d invitations, want 120", got)
		}
		r = w.srv.Elastic("GET", "/api/v1/organizations/"+w.org.ID+"/members?limit=0", w.admin.Key, nil).Want(t, 400)
		if !strings.Contains(string(r.Body), `"fields":["limit"]`) {
			t.Errorf("bad limit: %s", r.Body)
		}
		r = w.srv.Elastic("GET", "/api/v1/organizations/"+w.org.ID+"/invitations?status=,", w.admin.Key, nil).Want(t, 400)
		if !strings.Contains(string(r.Body), `"fields":["status"]`) || r.Header.Get("x-cloud-error-codes") != orgd.CodeInvalidData {
			t.Errorf("blank status: %s", r.Body)
		}
	})
}
