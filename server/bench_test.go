package server_test

// Benchmarks of the hot paths through the whole server: credentials,
// the permission check, the queries and the JSON answer, over loopback
// HTTP on each engine (PostgreSQL when ORGD_TEST_POSTGRES_URL is set). They
// run one request at a time, so they show what a request costs; the load
// tool under bench/ measures throughput under concurrency.
//
//	go test ./server -run '^$' -bench . -benchmem

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/store"
)

// benchServer is a server with one organization, its owner, and a client
// that does not check answers against the OpenAPI document (the tests do).
type benchServer struct {
	*apitest.Server
	org   *orgd.Organization
	owner *apitest.Caller
	hc    *http.Client
}

func startBench(b *testing.B, e store.Engine) *benchServer {
	b.Helper()
	s := apitest.Start(b, testdb.URL(b, e), apitest.Unlimited, func(l *orgd.Limits) { l.MaxEmailsPerRequest = 1000 })
	org := s.Org("Bench", "bench")
	return &benchServer{Server: s, org: org, owner: s.Member(org, "owner@bench.test", orgd.RoleOwner),
		hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}
}

// send makes one request and fails the benchmark unless it gets want.
func (s *benchServer) send(b *testing.B, method, path, auth, body string, want int) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
}

// invite creates n invitations in s's organization, 1,000 per request.
func (s *benchServer) invite(b *testing.B, prefix string, n int) []*orgd.IssuedInvitation {
	b.Helper()
	ctx := context.Background()
	p, err := s.Svc.Authenticate(ctx, s.owner.Key)
	if err != nil {
		b.Fatal(err)
	}
	var out []*orgd.IssuedInvitation
	for done := 0; done < n; {
		var addrs []string
		for i := done; i < min(n, done+1000); i++ {
			addrs = append(addrs, fmt.Sprintf("%s%d@bench.test", prefix, i))
		}
		_, issued, err := s.Svc.CreateInvitations(ctx, p, s.org.ID, orgd.InviteRequest{Emails: addrs, SendEmail: true})
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, issued...)
		done += len(addrs)
	}
	return out
}

func eachEngine(b *testing.B, fn func(b *testing.B, e store.Engine)) {
	for _, e := range testdb.Engines {
		b.Run(string(e), func(b *testing.B) { fn(b, e) })
	}
}

func BenchmarkCreateInvitation(b *testing.B) {
	eachEngine(b, func(b *testing.B, e store.Engine) {
		s := startBench(b, e)
		var n atomic.Int64
		b.Run("elastic", func(b *testing.B) {
			for b.Loop() {
				s.send(b, http.MethodPost, "/api/v1/organizations/"+s.org.ID+"/invitations", "ApiKey "+s.owner.Key,
					fmt.Sprintf(`{"emails":["e%d@bench.test"]}`, n.Add(1)), http.StatusCreated)
			}
		})
		b.Run("slug", func(b *testing.B) {
			for b.Loop() {
				s.send(b, http.MethodPost, "/api/v1/org/bench/invitations", "Bearer "+s.owner.Key,
					fmt.Sprintf(`{"email":"s%d@bench.test"}`, n.Add(1)), http.StatusOK)
			}
		})
		// 1,000 new addresses in one request, each time to a new
		// organization: the cost of a request, not of an organization that
		// grows by 1,000 per iteration.
		b.Run("elastic-1000", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				org := s.Org("Bench", fmt.Sprintf("bench-%d", n.Add(1)))
				owner := s.Member(org, fmt.Sprintf("owner-%s@bench.test", org.Slug), orgd.RoleOwner)
				addrs := make([]string, 1000)
				for i := range addrs {
					addrs[i] = fmt.Sprintf(`"b%d@bench.test"`, n.Add(1))
				}
				b.StartTimer()
				s.send(b, http.MethodPost, "/api/v1/organizations/"+org.ID+"/invitations", "ApiKey "+owner.Key,
					`{"emails":[`+strings.Join(addrs, ",")+`]}`, http.StatusCreated)
			}
		})
	})
}

// BenchmarkListInvitations reads pages of an organization with 10,000
// invitations: the first page of 20 and of 100, and a page of 20 after
// 9,000 (with the cursor), which must cost what the first does.
func BenchmarkListInvitations(b *testing.B) {
	eachEngine(b, func(b *testing.B, e store.Engine) {
		s := startBench(b, e)
		s.invite(b, "l", 10_000)
		cursor := s.cursorAfter(b, "/api/v1/org/bench/invitations", 9000)
		for _, surface := range []struct{ name, path, auth string }{
			{"elastic", "/api/v1/organizations/" + s.org.ID + "/invitations", "ApiKey " + s.owner.Key},
			{"slug", "/api/v1/org/bench/invitations", "Bearer " + s.owner.Key},
		} {
			for _, page := range []struct{ name, query string }{
				{"first20", "?limit=20"},
				{"first100", "?limit=100"},
				{"deep20", "?limit=20&cursor=" + url.QueryEscape(cursor)},
			} {
				b.Run(surface.name+"/"+page.name, func(b *testing.B) {
					for b.Loop() {
						s.send(b, http.MethodGet, surface.path+page.query, surface.auth, "", http.StatusOK)
					}
				})
			}
		}
	})
}

// cursorAfter returns the cursor of the page after the first skip items,
// walking the list in pages of 1,000.
func (s *benchServer) cursorAfter(b *testing.B, path string, skip int) string {
	b.Helper()
	cursor := ""
	for done := 0; done < skip; done += 1000 {
		q := "?limit=1000"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		req, err := http.NewRequest(http.MethodGet, s.URL+path+q, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+s.owner.Key)
		resp, err := s.hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		cursor = resp.Header.Get("X-Next-Cursor")
		if resp.StatusCode != http.StatusOK || cursor == "" {
			b.Fatalf("paging after %d: status %d, cursor %q", done, resp.StatusCode, cursor)
		}
	}
	return cursor
}

// BenchmarkAccept accepts invitations by token, each by its invitee.
func BenchmarkAccept(b *testing.B) {
	eachEngine(b, func(b *testing.B, e store.Engine) {
		s := startBench(b, e)
		type pending struct{ token, key string }
		var todo []pending
		var made int
		b.Run("elastic", func(b *testing.B) {
			for len(todo) < b.N {
				// Invitees and invitations for this round, made before the clock starts.
				made++
				c := s.User(fmt.Sprintf("a%d@bench.test", made), false)
				_, issued, err := s.Svc.CreateInvitations(context.Background(), orgd.SystemPrincipal, s.org.ID,
					orgd.InviteRequest{Emails: []string{c.User.Email}})
				if err != nil {
					b.Fatal(err)
				}
				todo = append(todo, pending{issued[0].Token, c.Key})
			}
			b.ResetTimer()
			for i := range b.N {
				p := todo[i]
				s.send(b, http.MethodPost, "/api/v1/organizations/invitations/"+url.PathEscape(p.token)+"/_accept",
					"ApiKey "+p.key, "", http.StatusOK)
			}
			todo = todo[b.N:]
		})
	})
}
