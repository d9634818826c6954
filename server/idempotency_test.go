package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/api/elastic"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
)

// postRoute is a POST operation of one of the surfaces.
type postRoute struct {
	surface   string // "elastic" or "slug"
	operation string
	path      string
}

func (p postRoute) String() string { return p.surface + " " + p.operation }

// postRoutes lists the POST operations of both route tables: a new one is
// in the tests below the moment it is in a table.
func postRoutes() []postRoute {
	var out []postRoute
	for _, rt := range elastic.Routes {
		if rt.Method == http.MethodPost {
			out = append(out, postRoute{"elastic", rt.Operation, rt.Path})
		}
	}
	for _, rt := range dreadnode.Routes {
		if rt.Method == http.MethodPost {
			out = append(out, postRoute{"slug", rt.Operation, rt.Path})
		}
	}
	return out
}

// keyed is a request of a scenario: who sends what where, and another body
// for the same path (a different request under the same key).
type keyed struct {
	caller *apitest.Caller
	path   string
	body   string
	other  string
}

// idemWorld is an organization with an owner and an administrator on a
// running server; n makes addresses unique.
type idemWorld struct {
	srv          *apitest.Server
	org          *orgd.Organization
	owner, admin *apitest.Caller
	n            int
}

func (w *idemWorld) fresh(prefix string) string {
	w.n++
	return fmt.Sprintf("%s-%d@x.test", prefix, w.n)
}

// invite invites address to the organization as its owner.
func (w *idemWorld) invite(t *testing.T, address string) *orgd.IssuedInvitation {
	t.Helper()
	_, issued, err := w.srv.Svc.CreateInvitations(context.Background(), &orgd.Principal{User: w.owner.User}, w.org.ID,
		orgd.InviteRequest{Emails: []string{address}, RefreshExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	return issued[0]
}

// scenarios hold the scenario of each POST operation. Every POST operation
// needs one: TestEveryPOSTHasAScenario says so.
var scenarios = map[string]scenario{
	"elastic create-organization-invitations": func(t *testing.T, w *idemWorld) keyed {
		return keyed{w.owner, "/api/v1/organizations/" + w.org.ID + "/invitations",
			`{"emails":["` + w.fresh("new") + `"]}`, `{"emails":["` + w.fresh("other") + `"]}`}
	},
	"elastic accept-organization-invitation": func(t *testing.T, w *idemWorld) keyed {
		address := w.fresh("joiner")
		invitee := w.srv.User(address, false)
		inv := w.invite(t, address)
		return keyed{invitee, "/api/v1/organizations/invitations/" + inv.Token + "/_accept", ``, `{}`}
	},
	"elastic add-role-assignments": func(t *testing.T, w *idemWorld) keyed {
		member := w.srv.Member(w.org, w.fresh("member"), orgd.RoleReader)
		roles := `{"organization":[{"organization_id":"` + w.org.ID + `","role_id":"%s"}]}`
		return keyed{w.owner, "/api/v1/users/" + member.User.ID + "/role_assignments",
			fmt.Sprintf(roles, "contributor"), fmt.Sprintf(roles, "billing-admin")}
	},
	"elastic create-api-key": func(t *testing.T, w *idemWorld) keyed {
		return keyed{w.owner, "/api/v1/users/auth/keys", `{"description":"ci"}`, `{"description":"deploy"}`}
	},
	"slug invite_to_organization": func(t *testing.T, w *idemWorld) keyed {
		return keyed{w.owner, "/api/v1/org/" + w.org.Slug + "/invitations",
			`{"email":"` + w.fresh("new") + `"}`, `{"email":"` + w.fresh("other") + `"}`}
	},
	"slug resend_invitation": func(t *testing.T, w *idemWorld) keyed {
		inv := w.invite(t, w.fresh("resent"))
		w.srv.Clock.Advance(w.srv.Svc.Limits().RefreshCooldown) // a resend within the cooldown is refused
		return keyed{w.owner, "/api/v1/org/" + w.org.Slug + "/invitations/" + inv.ID + "/resend", `{}`, `{"send_email":false}`}
	},
	"slug respond_to_invitation": func(t *testing.T, w *idemWorld) keyed {
		address := w.fresh("invitee")
		invitee := w.srv.User(address, false)
		inv := w.invite(t, address)
		return keyed{invitee, "/api/v1/invitations/" + inv.ID + "/respond", `{"accept":true}`, `{"accept":false}`}
	},
	"slug create_api_key": func(t *testing.T, w *idemWorld) keyed {
		return keyed{w.owner, "/api/v1/user/api-keys", `{"name":"ci"}`, `{"name":"deploy"}`}
	},
	"slug create_webhook_endpoint": func(t *testing.T, w *idemWorld) keyed {
		return keyed{w.owner, "/api/v1/org/" + w.org.Slug + "/webhooks",
			`{"url":"https://hooks.example.com/` + w.fresh("a") + `"}`, `{"url":"https://hooks.example.com/` + w.fresh("b") + `"}`}
	},
}

// scenario makes a POST operation succeed, on fresh state at each call.
type scenario func(t *testing.T, w *idemWorld) keyed

// eachPOST runs test on every engine, over one server with an organization,
// its owner and an administrator, as a subtest for every POST operation
// that has a scenario (TestEveryPOSTHasAScenario reports those without);
// i numbers the operations.
func eachPOST(t *testing.T, test func(t *testing.T, w *idemWorld, i int, rt postRoute, setup scenario)) {
	testdb.Each(t, func(t *testing.T, url string) {
		srv := apitest.Start(t, url)
		org := srv.Org("Acme", "acme")
		w := &idemWorld{srv: srv, org: org, owner: srv.Member(org, "owner@acme.test", orgd.RoleOwner),
			admin: srv.Member(org, "admin@acme.test", orgd.RoleOrgAdmin)}
		for i, rt := range postRoutes() {
			if setup := scenarios[rt.String()]; setup != nil {
				t.Run(rt.String(), func(t *testing.T) { test(t, w, i, rt, setup) })
			}
		}
	})
}

func TestEveryPOSTHasAScenario(t *testing.T) {
	for _, rt := range postRoutes() {
		if scenarios[rt.String()] == nil {
			t.Errorf("POST %s (%s) has no idempotency scenario: add one to scenarios", rt.path, rt)
		}
	}
}

// request is a POST as the surface's clients make it, with the keys given.
func (w *idemWorld) request(rt postRoute, c *apitest.Caller, path, body string, keys ...string) *http.Request {
	req, err := http.NewRequest(http.MethodPost, w.srv.URL+path, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Key)
	if rt.surface == "elastic" {
		req.Header.Set("Authorization", "ApiKey "+c.Key)
	}
	for _, k := range keys {
		req.Header.Add("Idempotency-Key", k)
	}
	return req
}

func (w *idemWorld) send(t *testing.T, rt postRoute, c *apitest.Caller, path, body string, keys ...string) *apitest.Response {
	t.Helper()
	return w.srv.Send(t, w.request(rt, c, path, body, keys...))
}

// state is what orgd holds, as text: every row of the tables of its
// rules (but the last use of API keys, which any request may record) and
// the number of outbox jobs. Two equal states mean that nothing changed.
func state(t *testing.T, srv *apitest.Server) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"organizations", "users", "api_keys", "memberships", "invitations", "audit_events", "webhook_endpoints"} {
		cols, rows := testdb.Rows(t, srv.Store.DB(), "SELECT * FROM "+table+" ORDER BY 1, 2")
		for _, row := range rows {
			fmt.Fprintf(&b, "%s:", table)
			for i, v := range row {
				if cols[i] != "last_used_at" {
					fmt.Fprintf(&b, " %s=%s", cols[i], v)
				}
			}
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "river_job: %d\n", count(t, srv, "river_job"))
	return b.String()
}

func count(t *testing.T, srv *apitest.Server, table string) int {
	t.Helper()
	var n int
	if err := srv.Store.DB().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantUnchanged fails the test if orgd's state is no longer before.
func wantUnchanged(t *testing.T, srv *apitest.Server, before, what string) {
	t.Helper()
	if after := state(t, srv); after != before {
		t.Errorf("%s changed the state:\nbefore:\n%s\nafter:\n%s", what, before, after)
	}
}

// wantIdemError checks an error answer in the surface's envelope: its
// status and code (the Elastic x-cloud-error-codes header and first
// element, the slug envelope's type for the status and first entry).
func wantIdemError(t *testing.T, rt postRoute, r *apitest.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d with %s; body %s", rt, r.Status, status, code, r.Body)
		return
	}
	if rt.surface == "elastic" {
		var reply elastic.BasicFailedReply
		r.JSON(t, &reply)
		if len(reply.Errors) == 0 || reply.Errors[0].Code != code || r.Header.Get("x-cloud-error-codes") != code {
			t.Errorf("%s: %s with x-cloud-error-codes %q, want code %s", rt, r.Body, r.Header.Get("x-cloud-error-codes"), code)
		}
		return
	}
	var env dreadnode.ErrorEnvelope
	r.JSON(t, &env)
	if env.Code != status || env.Type != dreadnode.ErrorTypes()[status] || len(env.Errors) == 0 || env.Errors[0].Type != code {
		t.Errorf("%s: %s, want an envelope of %d with type %s", rt, r.Body, status, code)
		return
	}
	if code == orgd.CodeIdempotencyKey && fmt.Sprint(env.Errors[0].Loc) != "[header Idempotency-Key]" {
		t.Errorf("%s: loc %v, want [header Idempotency-Key]", rt, env.Errors[0].Loc)
	}
}

// sameAnswer fails the test unless got is want again: status, body and the
// headers that describe it.
func sameAnswer(t *testing.T, what string, got, want *apitest.Response) {
	t.Helper()
	if got.Status != want.Status || string(got.Body) != string(want.Body) {
		t.Errorf("%s: %d %s, want the first answer %d %s", what, got.Status, got.Body, want.Status, want.Body)
	}
	for _, h := range []string{"Content-Type", "X-Content-Type-Options", "X-Cloud-Error-Codes", "WWW-Authenticate"} {
		if got.Header.Get(h) != want.Header.Get(h) {
			t.Errorf("%s: %s %q, want %q", what, h, got.Header.Get(h), want.Header.Get(h))
		}
	}
}

func replayed(r *apitest.Response) bool { return r.Header.Get("Idempotent-Replayed") == "true" }

// TestIdempotencyKeyOnEveryPOST runs every POST operation of both surfaces
// with Idempotency-Key: bad keys are refused and change nothing; the first
// request runs, its retry gets the same answer and changes nothing; the key
// with another request is refused; another user's key of the same name is
// another key; concurrent requests with one key run once; a key held by a
// running request is refused; an expired key is new; without the header
// requests run as before.
func TestIdempotencyKeyOnEveryPOST(t *testing.T) {
	eachPOST(t, func(t *testing.T, w *idemWorld, i int, rt postRoute, setup scenario) {
		srv := w.srv
		q := setup(t, w)
		send := func(body string, keys ...string) *apitest.Response {
			t.Helper()
			return w.send(t, rt, q.caller, q.path, body, keys...)
		}
		key := fmt.Sprintf("key-%d", i)

		before := state(t, srv)
		for _, bad := range [][]string{{""}, {strings.Repeat("k", 256)}, {"ключ"}, {"tab\there"}, {`"unclosed`}, {`"a"b"`}, {"one", "two"}} {
			wantIdemError(t, rt, send(q.body, bad...), http.StatusBadRequest, orgd.CodeIdempotencyKey)
		}
		wantUnchanged(t, srv, before, "a bad Idempotency-Key")

		first := send(q.body, key)
		if first.Status >= 300 || replayed(first) {
			t.Fatalf("first request: %d %s (replayed %v)", first.Status, first.Body, replayed(first))
		}
		after := state(t, srv)
		if after == before {
			t.Fatal("the first request changed nothing")
		}
		again := send(q.body, key)
		sameAnswer(t, "the retry", again, first)
		if !replayed(again) {
			t.Error("the retry is not marked Idempotent-Replayed")
		}
		// The quoted form of the IETF draft is the same key.
		sameAnswer(t, "the retry with the quoted key", send(q.body, `"`+key+`"`), first)
		wantUnchanged(t, srv, after, "the retries")

		wantIdemError(t, rt, send(q.other, key), http.StatusUnprocessableEntity, orgd.CodeIdempotencyReused)
		wantUnchanged(t, srv, after, "the key with another request")

		// The same key of another user is another key: it runs.
		if r := w.send(t, rt, w.admin, q.path, q.body, key); replayed(r) || r.Status == http.StatusUnprocessableEntity {
			t.Errorf("another user's request with the key: %d %s (replayed %v)", r.Status, r.Body, replayed(r))
		}

		// While a request with a key runs, another with it is refused.
		if t.Failed() {
			return // the request below would wait for the held key's transaction
		}
		// The held key keeps SQLite's one writer busy: let the
		// caller's key record its use now, so that the request
		// below has nothing to write before it is refused.
		srv.Clock.Advance(2 * time.Minute)
		srv.Slug("GET", "/api/v1/user", q.caller.Key, nil).Want(t, http.StatusOK)
		held := key + "-held"
		started, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			srv.Svc.Idempotent(context.Background(), &orgd.Principal{User: q.caller.User}, held, "",
				func(context.Context) ([]byte, bool) { close(started); <-release; return nil, false })
		}()
		<-started
		wantIdemError(t, rt, send(q.body, held), http.StatusConflict, orgd.CodeIdempotencyInUse)
		close(release)
		<-done

		// After the TTL the key is new: it takes another request.
		srv.Clock.Advance(orgd.DefaultIdempotencyTTL)
		if r := send(q.other, key); replayed(r) || r.Status == http.StatusUnprocessableEntity {
			t.Errorf("the expired key with another request: %d %s (replayed %v)", r.Status, r.Body, replayed(r))
		}

		// Without the header, nothing is stored or replayed.
		plain := setup(t, w)
		records := count(t, srv, "idempotency_keys")
		r := w.send(t, rt, plain.caller, plain.path, plain.body)
		if r.Status != first.Status || replayed(r) || count(t, srv, "idempotency_keys") != records {
			t.Errorf("without a key: %d %s (replayed %v), want %d and no record", r.Status, r.Body, replayed(r), first.Status)
		}
	})
}

// counts are the rows of the tables a request can add to.
func counts(t *testing.T, srv *apitest.Server) [6]int {
	t.Helper()
	var c [6]int
	for i, table := range []string{"audit_events", "invitations", "memberships", "api_keys", "river_job", "webhook_endpoints"} {
		c[i] = count(t, srv, table)
	}
	return c
}

func delta(before, after [6]int) [6]int {
	for i := range after {
		after[i] -= before[i]
	}
	return after
}

// TestConcurrentRequestsWithOneKeyRunOnce sends one request of every POST
// operation eight times at once with one key: one runs, the others get its
// answer or 409, and together they change what one request changes.
func TestConcurrentRequestsWithOneKeyRunOnce(t *testing.T) {
	eachPOST(t, func(t *testing.T, w *idemWorld, i int, rt postRoute, setup scenario) {
		srv := w.srv
		one := setup(t, w)
		before := counts(t, srv)
		w.send(t, rt, one.caller, one.path, one.body, fmt.Sprintf("once-%d", i))
		want := delta(before, counts(t, srv))

		q := setup(t, w)
		before = counts(t, srv)
		answers := make([]*apitest.Response, 8)
		var wg sync.WaitGroup
		for j := range answers {
			wg.Go(func() {
				resp, err := srv.HTTP.Do(w.request(rt, q.caller, q.path, q.body, fmt.Sprintf("many-%d", i)))
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				answers[j] = &apitest.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		var ran []*apitest.Response
		for _, r := range answers {
			if r.Status != http.StatusConflict && !replayed(r) {
				ran = append(ran, r)
			}
		}
		if len(ran) != 1 {
			t.Fatalf("%d of the requests ran, want 1", len(ran))
		}
		for _, r := range answers {
			if r.Status == http.StatusConflict {
				wantIdemError(t, rt, r, http.StatusConflict, orgd.CodeIdempotencyInUse)
			} else {
				sameAnswer(t, "a concurrent request", r, ran[0])
			}
		}
		if got := delta(before, counts(t, srv)); got != want {
			t.Errorf("the concurrent requests added %v rows of audit events, invitations, memberships, keys and jobs; one request adds %v", got, want)
		}
	})
}

// TestWhichAnswersAreKept: a refusal is an answer like any other, kept and
// replayed; an answer that asks to come back later (Retry-After) is not,
// so the retry after the wait runs; two users' keys of one name are two
// keys.
func TestWhichAnswersAreKept(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		srv := apitest.Start(t, url)
		org := srv.Org("Acme", "acme")
		owner := srv.Member(org, "owner@acme.test", orgd.RoleOwner)
		admin := srv.Member(org, "admin@acme.test", orgd.RoleOrgAdmin)
		path := "/api/v1/organizations/" + org.ID + "/invitations"
		with := func(key string) map[string]string {
			return map[string]string{"Authorization": "ApiKey " + owner.Key, "Idempotency-Key": key}
		}

		refused := srv.Request("POST", path, with("k1"), `{"emails":["not an address"]}`).Want(t, http.StatusBadRequest)
		again := srv.Request("POST", path, with("k1"), `{"emails":["not an address"]}`)
		sameAnswer(t, "the retry of a refused request", again, refused)
		if !replayed(again) {
			t.Error("a refusal was not kept")
		}

		body := `{"emails":["ann@x.test"]}`
		srv.Request("POST", path, with("k2"), body).Want(t, http.StatusCreated)
		cooling := srv.Request("POST", path, with("k3"), body).Want(t, http.StatusBadRequest)
		if cooling.Header.Get("Retry-After") == "" || cooling.Header.Get("x-cloud-error-codes") != orgd.CodeInviteExists {
			t.Fatalf("a refresh within the cooldown: %s, Retry-After %q", cooling.Body, cooling.Header.Get("Retry-After"))
		}
		srv.Clock.Advance(srv.Svc.Limits().RefreshCooldown)
		refreshed := srv.Request("POST", path, with("k3"), body).Want(t, http.StatusCreated)
		if replayed(refreshed) {
			t.Error("the retry after Retry-After was answered from the store")
		}
		sameAnswer(t, "the retry of the refresh", srv.Request("POST", path, with("k3"), body), refreshed)

		var keys [2]struct {
			Key string `json:"key"`
		}
		for i, c := range []*apitest.Caller{owner, admin} {
			srv.Request("POST", "/api/v1/user/api-keys", map[string]string{"Authorization": "Bearer " + c.Key, "Idempotency-Key": "shared"},
				`{"name":"ci"}`).Want(t, http.StatusOK).JSON(t, &keys[i])
		}
		if keys[0].Key == "" || keys[0].Key == keys[1].Key {
			t.Errorf("two users with one key name got keys %q and %q", keys[0].Key, keys[1].Key)
		}
	})
}
