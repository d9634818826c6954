package main

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"

	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/api/elastic"
)

// The two API surfaces, and the name of the two limits.
const (
	surfaceElastic = "elastic"
	surfaceSlug    = "slug"
	surfaceLimit   = "limit"
)

// What a scenario's throughput is compared with.
const (
	limitHTTP   = "http"   // the bare net/http handler
	limitInsert = "insert" // the one-row INSERT
)

// scenario is one measured workload.
type scenario struct {
	surface string
	name    string
	clients int                             // 0: the run's --clients
	size    int                             // the length of the list it reads or writes, 0 for others: larger ones run last
	warmup  bool                            // run --warmup first, unmeasured (not for pools that run out, nor for slow requests)
	limit   string                          // limitHTTP or limitInsert
	setup   func(ctx context.Context) error // run once before the scenario, unmeasured; nil for none
	op      Op
	// kinds is how many kinds of request op mixes (0: one).
	kinds int
	// checkRuns is how many operations the tool's test runs (0: one):
	// for a workload that draws its requests at random, enough that
	// every kind of request comes up.
	checkRuns int
}

func (s scenario) id() string { return s.surface + "/" + s.name }

// loadSet builds the scenarios over one running orgd and its fixture.
type loadSet struct {
	f       *fixture
	c       *client
	clients int
	seq     atomic.Int64 // makes every created address unique
}

func (l *loadSet) nextEmails(n int) []string {
	last := l.seq.Add(int64(n))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("new-%d@example.com", last-int64(n)+int64(i))
	}
	return out
}

func (l *loadSet) creator(worker int) benchOrg { return l.f.creators[worker%len(l.f.creators)] }

func apiKey(a account) string { return "ApiKey " + a.Key }
func bearer(a account) string { return "Bearer " + a.Key }

// api is how one surface asks for what the scenarios do.
type api struct {
	name   string
	create func(org benchOrg, addrs []string) call
	// listInvitations and listMembers list with the query q ("" for none);
	// want < 0: any length.
	listInvitations func(org benchOrg, q string, want int) call
	listMembers     func(org benchOrg, q string, want int) call
	getOrganization func(org benchOrg) call
	otherRead       func(org mixedOrg, rng *rand.Rand) call // the fourth read of the mixed workload
	acceptName      string
	accept          func(pooled) call
}

var elasticAPI = api{
	name: surfaceElastic, create: elasticCreate, listInvitations: elasticListInvitations, listMembers: elasticListMembers,
	getOrganization: elasticGetOrganization,
	otherRead: func(org mixedOrg, rng *rand.Rand) call {
		return elasticGetInvitation(org.Owner, org.tokens[rng.IntN(len(org.tokens))])
	},
	acceptName: "accept", accept: elasticAccept,
}

var slugAPI = api{
	name: surfaceSlug, create: slugInvite, listInvitations: slugListInvitations, listMembers: slugListMembers,
	getOrganization: slugGetOrganization,
	otherRead:       func(org mixedOrg, _ *rand.Rand) call { return slugMyOrganizations(org.Owner) },
	acceptName:      "respond", accept: slugRespond,
}

// scenarios lists every scenario of the surfaces in the order they run:
// the long lists last, in growing size, so that the memory a long list
// leaves behind in orgd does not count against a smaller scenario.
func (l *loadSet) scenarios(surfaces []string) []scenario {
	var out []scenario
	for _, s := range surfaces {
		a := slugAPI
		if s == surfaceElastic {
			a = elasticAPI
		}
		for _, sc := range l.of(a) {
			sc.surface = s
			out = append(out, sc)
		}
	}
	slices.SortStableFunc(out, func(a, b scenario) int { return cmp.Compare(a.size, b.size) })
	return out
}

// of returns the scenarios of one surface. The slug API takes one address
// per request and has no read by token, so the batch creates and
// get-invitation are Elastic's alone.
func (l *loadSet) of(a api) []scenario {
	f := l.f
	out := []scenario{{name: "create-1", warmup: true, limit: limitInsert, op: l.create(a, 1)}}
	if a.name == surfaceElastic {
		out = append(out,
			scenario{name: "create-100", size: 100, warmup: true, limit: limitInsert, op: l.create(a, 100)},
			scenario{name: "create-1000", size: 1000, limit: limitInsert, op: l.create(a, 1000)},
			scenario{name: "create-1000-single", size: 1000, clients: 1, limit: limitInsert, op: l.create(a, 1000)})
	}
	out = append(out, l.lists("list-invitations", f.invitationLists, a.listInvitations)...)
	out = append(out, l.lists("list-members", f.memberLists, a.listMembers)...)
	if a.name == surfaceElastic && len(f.tokens) > 0 {
		reader := f.creators[0].Owner
		out = append(out, scenario{name: "get-invitation", warmup: true, limit: limitHTTP,
			op: func(ctx context.Context, worker int) (string, error) {
				token := f.tokens[int(l.seq.Add(1))%len(f.tokens)]
				return l.c.do(ctx, elasticGetInvitation(reader, token))
			}})
	}
	if p := f.accept[a.name]; p != nil {
		out = append(out, scenario{name: a.acceptName, limit: limitInsert, op: func(ctx context.Context, _ int) (string, error) {
			it, ok := p.take()
			if !ok {
				return "", errExhausted
			}
			return l.c.do(ctx, a.accept(it))
		}})
	}
	if len(f.mixed) > 0 {
		mix := l.mix(a)
		out = append(out, scenario{name: "mixed", warmup: true, limit: limitInsert, op: l.mixed(mix), kinds: len(mix), checkRuns: 200})
	}
	return out
}

// create invites n new addresses per request to the organization of the client.
func (l *loadSet) create(a api, n int) Op {
	return func(ctx context.Context, worker int) (string, error) {
		return l.c.do(ctx, a.create(l.creator(worker), l.nextEmails(n)))
	}
}

// listScenarios names the list scenarios of an organization of n
// invitations or members (kind): its first pages of 20 and 100 and, when
// there is one, a page of 20 deep in the list.
func listScenarios(kind string, n int) []string {
	names := []string{fmt.Sprintf("%s-%d-first20", kind, n), fmt.Sprintf("%s-%d-first100", kind, n)}
	if n > 20 {
		names = append(names, fmt.Sprintf("%s-%d-deep20", kind, n))
	}
	return names
}

// lists returns, per organization of orgs, scenarios that read a page of
// 20 and a page of 100 at the start of its list, and a page of 20 near its
// end, reached with the cursor (found once, before the scenario). A page
// that costs the same in a small and a large organization is the point.
func (l *loadSet) lists(kind string, orgs map[int]benchOrg, req func(benchOrg, string, int) call) []scenario {
	var out []scenario
	for _, n := range sortedKeys(orgs) {
		org := orgs[n]
		names := listScenarios(kind, n)
		for i, size := range []int{20, 100} {
			k := req(org, fmt.Sprintf("limit=%d", size), min(size, n))
			out = append(out, scenario{name: names[i], size: n, warmup: true, limit: limitHTTP,
				op: func(ctx context.Context, _ int) (string, error) { return l.c.do(ctx, k) }})
		}
		if len(names) > 2 {
			var deep call
			out = append(out, scenario{name: names[2], size: n, warmup: true, limit: limitHTTP,
				setup: func(ctx context.Context) error {
					base := req(org, "", -1)
					cursor, err := l.c.cursorAfter(ctx, base, n-20)
					if err != nil {
						return err
					}
					deep = req(org, "limit=20&cursor="+url.QueryEscape(cursor), 20)
					return nil
				},
				op: func(ctx context.Context, _ int) (string, error) { return l.c.do(ctx, deep) }})
		}
	}
	return out
}

// The requests of the Elastic surface.

func elasticCreate(org benchOrg, addrs []string) call {
	return call{name: "create-organization-invitations", method: http.MethodPost,
		path: "/api/v1/organizations/" + org.ID + "/invitations", auth: apiKey(org.Owner),
		body: jsonBody(map[string]any{"emails": addrs}), want: http.StatusCreated,
		check: decodeAs(func(v *elastic.OrganizationInvitations) error {
			if err := wantLen("invitations", len(v.Invitations), len(addrs)); err != nil {
				return err
			}
			return nonEmpty("token", v.Invitations[0].Token)
		})}
}

// listCall asks for a list whose length must be want, or anything for want < 0.
func listCall[T any](name, path, q, auth string, want int, what string, length func(*T) int) call {
	if q != "" {
		path += "?" + q
	}
	return call{name: name, method: http.MethodGet, path: path, auth: auth, want: http.StatusOK,
		check: decodeAs(func(v *T) error {
			if want < 0 {
				return nil
			}
			return wantLen(what, length(v), want)
		})}
}

func elasticListInvitations(org benchOrg, q string, want int) call {
	return listCall("list-organization-invitations", "/api/v1/organizations/"+org.ID+"/invitations", q, apiKey(org.Owner), want,
		"invitations", func(v *elastic.OrganizationInvitations) int { return len(v.Invitations) })
}

func elasticListMembers(org benchOrg, q string, want int) call {
	return listCall("list-organization-members", "/api/v1/organizations/"+org.ID+"/members", q, apiKey(org.Owner), want,
		"members", func(v *elastic.OrganizationMemberships) int { return len(v.Members) })
}

func elasticGetOrganization(org benchOrg) call {
	return call{name: "get-organization", method: http.MethodGet,
		path: "/api/v1/organizations/" + org.ID, auth: apiKey(org.Owner), want: http.StatusOK,
		check: decodeAs(func(v *elastic.Organization) error { return wantSame("organization", v.ID, org.ID) })}
}

func elasticGetInvitation(caller account, token string) call {
	return call{name: "get-organization-invitation", method: http.MethodGet,
		path: "/api/v1/organizations/invitations/" + url.PathEscape(token), auth: apiKey(caller), want: http.StatusOK,
		check: decodeAs(func(v *elastic.OrganizationInvitation) error { return wantSame("token", v.Token, token) })}
}

func elasticAccept(it pooled) call {
	return call{name: "accept-organization-invitation", method: http.MethodPost,
		path: "/api/v1/organizations/invitations/" + url.PathEscape(it.Token) + "/_accept", auth: apiKey(it.Invitee),
		want: http.StatusOK, check: decodeAs[map[string]any](nil)}
}

// The requests of the slug surface.

// slugInvite invites the one address of addrs: the slug API takes one.
func slugInvite(org benchOrg, addrs []string) call {
	return call{name: "invite_to_organization", method: http.MethodPost,
		path: "/api/v1/org/" + org.Slug + "/invitations", auth: bearer(org.Owner),
		body: jsonBody(map[string]any{"email": addrs[0]}), want: http.StatusOK,
		check: decodeAs(func(v *dreadnode.Invitation) error {
			if v.Status != "pending" {
				return fmt.Errorf("status %q, want pending", v.Status)
			}
			return nonEmpty("id", v.ID)
		})}
}

func slugListInvitations(org benchOrg, q string, want int) call {
	return listCall("list_organization_invitations", "/api/v1/org/"+org.Slug+"/invitations", q, bearer(org.Owner), want,
		"invitations", func(v *[]dreadnode.Invitation) int { return len(*v) })
}

func slugListMembers(org benchOrg, q string, want int) call {
	return listCall("list_organization_members", "/api/v1/org/"+org.Slug+"/members", q, bearer(org.Owner), want,
		"members", func(v *[]dreadnode.Member) int { return len(*v) })
}

func slugGetOrganization(org benchOrg) call {
	return call{name: "get_organization", method: http.MethodGet,
		path: "/api/v1/org/" + org.Slug, auth: bearer(org.Owner), want: http.StatusOK,
		check: decodeAs(func(v *dreadnode.Organization) error { return wantSame("organization", v.Key, org.Slug) })}
}

func slugMyOrganizations(a account) call {
	return call{name: "list_user_organizations", method: http.MethodGet,
		path: "/api/v1/user/organizations", auth: bearer(a), want: http.StatusOK,
		check: decodeAs(func(v *[]dreadnode.Organization) error {
			if len(*v) == 0 {
				return fmt.Errorf("no organizations")
			}
			return nil
		})}
}

func slugRespond(it pooled) call {
	return call{name: "respond_to_invitation", method: http.MethodPost,
		path: "/api/v1/invitations/" + it.ID + "/respond", auth: bearer(it.Invitee),
		body: []byte(`{"accept":true}`), want: http.StatusOK,
		check: decodeAs(func(v *dreadnode.Member) error {
			if v.OrgID != it.OrgID || v.UserID != it.Invitee.ID {
				return fmt.Errorf("membership of %s in %s, want %s in %s", v.UserID, v.OrgID, it.Invitee.ID, it.OrgID)
			}
			return nil
		})}
}

// share is one kind of request of the mixed workload: its share of the
// requests, in thousandths, and the request, on an organization drawn at
// random (false when there is nothing left to do).
type share struct {
	perMille int
	next     func(org mixedOrg, rng *rand.Rand) (call, bool)
}

// mix is what the mixed workload on surface a is made of: 70% reads (four
// kinds, evenly), 25% creates of one invitation, 5% accepts. Each share is
// a different kind of request.
func (l *loadSet) mix(a api) []share {
	accept := l.f.mixedAccept[a.name]
	return []share{
		{175, func(org mixedOrg, _ *rand.Rand) (call, bool) {
			return a.listInvitations(org.benchOrg, "limit=20", -1), true
		}},
		{175, func(org mixedOrg, _ *rand.Rand) (call, bool) {
			return a.listMembers(org.benchOrg, "limit=20", -1), true
		}},
		{175, func(org mixedOrg, _ *rand.Rand) (call, bool) { return a.getOrganization(org.benchOrg), true }},
		{175, func(org mixedOrg, rng *rand.Rand) (call, bool) { return a.otherRead(org, rng), true }},
		{250, func(org mixedOrg, _ *rand.Rand) (call, bool) { return a.create(org.benchOrg, l.nextEmails(1)), true }},
		{50, func(mixedOrg, *rand.Rand) (call, bool) {
			it, ok := accept.take()
			if !ok {
				return call{}, false
			}
			return a.accept(it), true
		}},
	}
}

// mixed is the mixed workload of mix across the fixture's organizations:
// each request is of a share drawn in proportion to its part, on an
// organization drawn at random.
func (l *loadSet) mixed(mix []share) Op {
	rngs := make([]*rand.Rand, l.clients)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewPCG(uint64(i), 7))
	}
	total := 0
	for _, s := range mix {
		total += s.perMille
	}
	orgs := l.f.mixed
	return func(ctx context.Context, worker int) (string, error) {
		rng := rngs[worker]
		org := orgs[rng.IntN(len(orgs))]
		roll := rng.IntN(total)
		i := 0
		for roll >= mix[i].perMille {
			roll -= mix[i].perMille
			i++
		}
		k, ok := mix[i].next(org, rng)
		if !ok {
			return "", errExhausted
		}
		return l.c.do(ctx, k)
	}
}

func sortedKeys[V any](m map[int]V) []int {
	return slices.Sorted(maps.Keys(m))
}
