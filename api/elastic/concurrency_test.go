package elastic_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
)

// race sends n requests at once (each goroutine waits for the same start)
// and returns the answers in order.
func race(n int, send func(i int) *apitest.Response) []*apitest.Response {
	out := make([]*apitest.Response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = send(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// tally counts answers by status and first error code.
func tally(t *testing.T, rs []*apitest.Response) map[want]int {
	t.Helper()
	m := map[want]int{}
	for _, r := range rs {
		w := want{status: r.Status}
		if r.Status >= 400 {
			var reply struct{ Errors []struct{ Code string } }
			if err := json.Unmarshal(r.Body, &reply); err != nil || len(reply.Errors) == 0 {
				t.Fatalf("error body %s", r.Body)
			}
			w.code = reply.Errors[0].Code
		}
		m[w]++
	}
	return m
}

func TestConcurrentAcceptsMakeOneMembership(t *testing.T) {
	acceptAny := apitest.Option(func(l *orgd.Limits) { l.AcceptAnyEmail = true })
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL, acceptAny)
		tok := invite(t, w.srv, w.org, orgRole(w.org, orgd.RoleBillingAdmin), "team@example.com")[0]
		const n = 8
		people := make([]*apitest.Caller, n)
		for i := range people {
			people[i] = w.srv.User(fmt.Sprintf("p%d@example.com", i), false)
		}
		rs := race(n, func(i int) *apitest.Response {
			return w.srv.Elastic("POST", "/api/v1/organizations/invitations/"+tok+"/_accept", people[i].Key, nil)
		})
		if diff := cmp.Diff(map[want]int{ok200: 1, {400, orgd.CodeInviteUsed}: n - 1}, tally(t, rs), cmp.AllowUnexported(want{})); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		joined := 0
		for _, m := range listMembers(t, w.srv, w.owner.Key, w.org.ID) {
			for _, p := range people {
				if m.UserID == p.User.ID {
					joined++
				}
			}
		}
		if joined != 1 || len(listInvitations(t, w.srv, w.owner.Key, w.org.ID)) != 0 {
			t.Errorf("%d of the racers became members, want 1; the invitation must be gone", joined)
		}
	})
}

func TestConcurrentCreatesForOneAddressMakeOneInvitation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		const n = 8
		keys := []string{w.owner.Key, w.admin.Key, w.pa.Key}
		rs := race(n, func(i int) *apitest.Response {
			return w.srv.Elastic("POST", "/api/v1/organizations/"+w.org.ID+"/invitations", keys[i%len(keys)],
				map[string]any{"emails": []string{"same@example.com"}})
		})
		if diff := cmp.Diff(map[want]int{created201: 1, {400, orgd.CodeInviteExists}: n - 1}, tally(t, rs), cmp.AllowUnexported(want{})); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		if invs := listInvitations(t, w.srv, w.owner.Key, w.org.ID); len(invs) != 1 {
			t.Errorf("%d invitations exist, want 1", len(invs))
		}
	})
}

// TestConcurrentCreatesKeepTheHourlyLimit: the limit is counted in the
// database, so racing requests cannot overshoot it.
func TestConcurrentCreatesKeepTheHourlyLimit(t *testing.T) {
	five := apitest.Option(func(l *orgd.Limits) { l.InvitesPerHour = 5 })
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL, five)
		const n = 12
		rs := race(n, func(i int) *apitest.Response {
			return w.srv.Elastic("POST", "/api/v1/organizations/"+w.org.ID+"/invitations", w.owner.Key,
				map[string]any{"emails": []string{fmt.Sprintf("r%d@example.com", i)}})
		})
		if diff := cmp.Diff(map[want]int{created201: 5, {429, orgd.CodeInviteRateLimit}: n - 5}, tally(t, rs), cmp.AllowUnexported(want{})); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		if invs := listInvitations(t, w.srv, w.owner.Key, w.org.ID); len(invs) != 5 {
			t.Errorf("%d invitations exist, want 5", len(invs))
		}
	})
}

// TestConcurrentRemovalsKeepAnOwner: two owners removing each other at once
// leave exactly one.
func TestConcurrentRemovalsKeepAnOwner(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		second := w.srv.Member(w.org, "second@acme.test", orgd.RoleOwner)
		owners := []*apitest.Caller{w.owner, second}
		rs := race(2, func(i int) *apitest.Response {
			return w.srv.Elastic("DELETE", "/api/v1/organizations/"+w.org.ID+"/members/"+owners[1-i].User.ID, owners[i].Key, nil)
		})
		// The loser finds itself removed, or the other owner the last one.
		got := tally(t, rs)
		if got[ok200] != 1 || got[lastOwner]+got[orgNotFound] != 1 {
			t.Errorf("outcomes %v, want one success and one %s or %s", got, lastOwner.code, orgNotFound.code)
		}
		left := 0
		for _, m := range listMembers(t, w.srv, w.admin.Key, w.org.ID) {
			for _, a := range m.RoleAssignments.Organization {
				if a.RoleID == string(orgd.RoleOwner) {
					left++
				}
			}
		}
		if left != 1 {
			t.Errorf("%d owners left, want 1", left)
		}
	})
}
