package server_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/api/elastic"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/rapidflags"
	"github.com/orgd/orgd/internal/testdb"
)

// TestAPIAgreesWithModel drives random sequences of requests through the
// real server, on both surfaces, beside the model of model_test.go: each
// case is an organization of its own with an owner, an organization admin
// and three other users. Every answer must be the model's (status and
// code), never a 5xx, and after every step the lists of invitations and
// members of both surfaces must be the model's.
//
// -rapid.checks sets the number of cases (default 30 per engine),
// -rapid.steps their average length (default 30).
func TestAPIAgreesWithModel(t *testing.T) {
	rapidflags.DefaultChecks(30)
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		srv := apitest.Start(t, databaseURL, func(l *orgd.Limits) { l.InvitesPerHour = invitesPerHour })
		n := 0
		rapid.Check(t, func(t *rapid.T) {
			n++
			c := newCase(t, srv, n)
			t.Repeat(c.actions())
		})
	})
}

// invitesPerHour is low enough for a case to reach it.
const invitesPerHour = 3

// unknownID is shaped like an id but names nothing.
const unknownID = "0193a5b0-0000-7000-8000-00000000dead"

type testCase struct {
	srv    *apitest.Server
	org    *orgd.Organization
	m      *model
	keys   map[string]string // API key by person name
	emails []string          // addresses to invite, as written
	domain string            // of the case's users
}

func newCase(t *rapid.T, srv *apitest.Server, n int) *testCase {
	c := &testCase{srv: srv, keys: map[string]string{},
		m: &model{limits: srv.Svc.Limits(), members: map[string]roles{}, joined: map[string]time.Time{}, allowExternal: true,
			now: srv.Clock.Now().Truncate(time.Microsecond)}}
	domain := fmt.Sprintf("case%d.test", n)
	for _, name := range []string{"owner", "admin", "ann", "bob", "cat"} {
		u, err := srv.NewCaller(name+"@"+domain, false)
		if err != nil {
			t.Fatal(err)
		}
		c.keys[name] = u.Key
		c.m.people = append(c.m.people, &person{name: name, id: u.User.ID, norm: u.User.EmailNorm})
	}
	c.m.people = append(c.m.people, &person{name: "nobody", norm: "ghost@" + domain})
	var err error
	if c.org, err = srv.OwnedOrg(c.person("owner").id); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Svc.AddMember(t.Context(), orgd.SystemPrincipal, c.org.ID, c.person("admin").id, orgd.RoleOrgAdmin); err != nil {
		t.Fatal(err)
	}
	c.m.maxMembers = rapid.SampledFrom([]int{0, 4, 6}).Draw(t, "max_members")
	if _, err := srv.Svc.UpdateOrganization(t.Context(), orgd.SystemPrincipal, c.org.ID, orgd.OrganizationUpdate{MaxMembers: &c.m.maxMembers}); err != nil {
		t.Fatal(err)
	}
	c.m.members[c.person("owner").id] = newRoles(orgd.RoleOwner)
	c.m.members[c.person("admin").id] = newRoles(orgd.RoleOrgAdmin)
	c.m.joined[c.person("owner").id], c.m.joined[c.person("admin").id] = c.m.now, c.m.now
	c.emails = []string{"ann@" + domain, "ANN@" + strings.ToUpper(domain), "bob@" + domain, " cat@" + domain + " ",
		"ghost@" + domain, "dan@" + domain, "eve@elsewhere.test", "owner@" + domain, "admin@" + domain, "not an address"}
	c.domain = domain
	return c
}

func (c *testCase) person(name string) *person {
	for _, p := range c.m.people {
		if p.name == name {
			return p
		}
	}
	panic("no person " + name)
}

// users are the people who can call the API.
var users = []string{"owner", "admin", "ann", "bob", "cat"}

// drawUser draws a user: a member three times in four.
func (c *testCase) drawUser(t *rapid.T, label string) *person {
	if rapid.IntRange(0, 3).Draw(t, label+" may be anyone") == 0 {
		return c.person(rapid.SampledFrom(users).Draw(t, label))
	}
	return c.drawMember(t, label)
}

// drawInvitee draws the person an invitation is for, if that is a user,
// or any user.
func (c *testCase) drawInvitee(t *rapid.T, inv *invitation) *person {
	if inv != nil {
		if p := c.m.personByNorm(inv.norm); p != nil && rapid.IntRange(0, 2).Draw(t, "the invitee") > 0 {
			return p
		}
	}
	return c.drawUser(t, "invitee")
}

// drawMember draws a current member.
func (c *testCase) drawMember(t *rapid.T, label string) *person {
	var names []string
	for _, name := range users {
		if _, ok := c.m.member(c.person(name).id); ok {
			names = append(names, name)
		}
	}
	return c.person(rapid.SampledFrom(names).Draw(t, label))
}

// drawTarget draws a user, or nobody (an id of no user).
func (c *testCase) drawTarget(t *rapid.T) *person {
	return c.person(rapid.SampledFrom(append(slices.Clone(users), "nobody")).Draw(t, "target"))
}

func (c *testCase) drawInvitationID(t *rapid.T) string {
	ids := []string{unknownID}
	for _, inv := range c.m.invs {
		ids = append(ids, inv.id)
	}
	return rapid.SampledFrom(ids).Draw(t, "invitation")
}

// drawToken draws a working, replaced or made-up token.
func (c *testCase) drawToken(t *rapid.T, label string) string {
	tokens := []string{"made-up-token"}
	for _, inv := range c.m.invs {
		if inv.token != "" {
			tokens = append(tokens, inv.token)
		}
		tokens = append(tokens, inv.stale...)
	}
	return rapid.SampledFrom(tokens).Draw(t, label)
}

var drawRole = rapid.SampledFrom(orgd.Roles)

func (c *testCase) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"":                    c.check,
		"elastic invite":      c.elasticInvite,
		"slug invite":         c.slugInvite,
		"accept by token":     c.acceptByToken,
		"respond":             c.respond,
		"revoke by token":     c.revokeByToken,
		"revoke by id":        c.revokeByID,
		"resend":              c.resend,
		"set role":            c.setRole,
		"role assignments":    c.roleAssignments,
		"remove member":       c.removeMember,
		"admin add member":    c.addMember,
		"advance clock":       c.advance,
		"invite policy":       c.invitePolicy,
		"get organization":    c.getOrganization,
		"list invitations":    c.listInvitations,
		"list members":        c.listMembers,
		"my invitations":      c.myInvitations,
		"invitation by token": c.invitationByToken,
	}
}

// call sends a request as who on a surface ("elastic" or "slug").
func (c *testCase) call(t *rapid.T, surface string, who *person, method, path string, body any) *apitest.Response {
	scheme := "Bearer "
	if surface == "elastic" {
		scheme = "ApiKey "
	}
	r, err := c.srv.Do(method, path, map[string]string{"Authorization": scheme + c.keys[who.name]}, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	t.Logf("%s %s %s as %s: %d", surface, method, path, who.name, r.Status)
	if err := r.CheckJSON(); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if r.Status >= 500 {
		t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
	}
	return r
}

// expect checks an answer against the outcomes the model allows (success
// is okStatus) and reports whether it is a success. It returns the codes
// of an error.
func expect(t *rapid.T, surface string, r *apitest.Response, okStatus int, allowed ...outcome) (bool, []string) {
	t.Helper()
	var codes []string
	if r.Status != okStatus {
		var err error
		if surface == "elastic" {
			codes, err = apitest.ElasticCodes(r)
		} else {
			codes, err = apitest.SlugTypes(r)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range allowed {
		status := o.slug
		if surface == "elastic" {
			status = o.elastic
		}
		if o == success && r.Status == okStatus || o != success && r.Status == status && codes[0] == o.code {
			if want := retryAfter(o.retry); o.retry != anyWait && r.Header.Get("Retry-After") != want {
				t.Fatalf("%s: Retry-After %q, the model wants %q; body %s", surface, r.Header.Get("Retry-After"), want, r.Body)
			}
			return o == success, codes
		}
	}
	t.Fatalf("%s: status %d %q, the model wants %+v (success is %d); body %s", surface, r.Status, codes, allowed, okStatus, r.Body)
	return false, nil
}

// retryAfter is the Retry-After header of a wait: whole seconds, rounded up.
func retryAfter(wait time.Duration) string {
	if wait <= 0 {
		return ""
	}
	return strconv.Itoa(int((wait + time.Second - 1) / time.Second))
}

// read GETs path as caller and, if the answer is the success the model
// wants (want), decodes it into v and reports true.
func (c *testCase) read(t *rapid.T, surface string, caller *person, path string, want outcome, v any) bool {
	r := c.call(t, surface, caller, "GET", path, nil)
	if ok, _ := expect(t, surface, r, 200, want); !ok {
		return false
	}
	decode(t, r, v)
	return true
}

func decode(t *rapid.T, r *apitest.Response, v any) {
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (c *testCase) elasticInvite(t *rapid.T) {
	caller := c.drawUser(t, "caller")
	emails := rapid.SliceOfN(rapid.SampledFrom(c.emails), 1, 3).Draw(t, "emails")
	rs := newRoles(rapid.SliceOfN(drawRole, 0, 2).Draw(t, "roles")...)
	expiresIn := rapid.SampledFrom([]string{"", "", "2h", "3d", "0s"}).Draw(t, "expires_in")
	body := map[string]any{"emails": emails}
	if expiresIn != "" {
		body["expires_in"] = expiresIn
	}
	if len(rs) > 0 {
		var ra []map[string]string
		for _, r := range rs {
			ra = append(ra, map[string]string{"role_id": string(r), "organization_id": c.org.ID})
		}
		body["role_assignments"] = map[string]any{"organization": ra}
	}
	r := c.call(t, "elastic", caller, "POST", "/api/v1/organizations/"+c.org.ID+"/invitations", body)
	issued, codes, want := c.m.invite(caller, emails, rs, expiresIn, true, true)
	ok, got := expect(t, "elastic", r, 201, want)
	if !ok {
		if codes != nil && !slices.Equal(got, codes) {
			t.Fatalf("codes %q, the model wants one per bad address %q", got, codes)
		}
		return
	}
	var out elastic.OrganizationInvitations
	decode(t, r, &out)
	if len(out.Invitations) != len(issued) {
		t.Fatalf("%d invitations answered, the model issued %d", len(out.Invitations), len(issued))
	}
	for i, inv := range issued {
		got := out.Invitations[i]
		if orgd.NormalizeEmail(got.Email) != inv.norm {
			t.Fatalf("invitation %d is for %s, the model's for %s", i, got.Email, inv.norm)
		}
		inv.token = got.Token
		want := elasticInvitation(inv, c.m.now)
		if diff := cmp.Diff(want, elasticView(got)); diff != "" {
			t.Fatalf("created invitation (-model +server):\n%s", diff)
		}
	}
	c.learnIDs(t)
}

// learnIDs reads the ids of new invitations (which the Elastic surface
// does not show) from the slug list: an address has one open invitation.
func (c *testCase) learnIDs(t *rapid.T) {
	var list []dreadnode.Invitation
	c.read(t, "slug", c.anOwner(), "/api/v1/org/"+c.org.Slug+"/invitations?status=pending,expired", success, &list)
	for _, inv := range c.m.invs {
		if inv.id != "" {
			continue
		}
		for _, l := range list {
			if orgd.NormalizeEmail(l.Email) == inv.norm {
				inv.id = l.ID
			}
		}
		if inv.id == "" {
			t.Fatalf("the new invitation to %s is not listed", inv.norm)
		}
	}
}

func (c *testCase) anOwner() *person {
	for _, name := range users {
		if rs, ok := c.m.member(c.person(name).id); ok && rs.top() == orgd.RoleOwner {
			return c.person(name)
		}
	}
	panic("the organization has no owner")
}

func (c *testCase) slugInvite(t *rapid.T) {
	caller := c.drawUser(t, "caller")
	email := rapid.SampledFrom(c.emails).Draw(t, "email")
	role := rapid.SampledFrom([]string{"", "owner", "contributor", "reader"}).Draw(t, "role")
	sendEmail := rapid.Bool().Draw(t, "send_email")
	body := map[string]any{"email": email, "send_email": sendEmail}
	rs := newRoles(orgd.RoleReader)
	if role != "" {
		body["role"], rs = role, newRoles(orgd.Role(role))
	}
	r := c.call(t, "slug", caller, "POST", "/api/v1/org/"+c.org.Slug+"/invitations", body)
	issued, _, want := c.m.invite(caller, []string{email}, rs, "", false, sendEmail)
	if ok, _ := expect(t, "slug", r, 200, want); !ok {
		return
	}
	c.checkIssued(t, r, issued[0], sendEmail)
}

// checkIssued checks the answer to a slug invite or resend against the
// invitation the model issued, learning its id and, from the accept link
// of an answer made with send_email false, its token.
func (c *testCase) checkIssued(t *rapid.T, r *apitest.Response, inv *invitation, sendEmail bool) {
	var got dreadnode.Invitation
	decode(t, r, &got)
	if inv.id == "" {
		inv.id = got.ID
	}
	token, ok := strings.CutPrefix(got.AcceptURL, apitest.PublicURL+"/invitations/")
	if ok == sendEmail || ok && token == "" {
		t.Fatalf("send_email %v, accept_url %q", sendEmail, got.AcceptURL)
	}
	inv.token = token
	if diff := cmp.Diff(slugInvitation(inv, c.m.now), slugView(got)); diff != "" {
		t.Fatalf("issued invitation (-model +server):\n%s", diff)
	}
}

func (c *testCase) acceptByToken(t *rapid.T) {
	token := c.drawToken(t, "token")
	who := c.drawInvitee(t, c.m.byToken(token))
	r := c.call(t, "elastic", who, "POST", "/api/v1/organizations/invitations/"+url.PathEscape(token)+"/_accept", nil)
	expect(t, "elastic", r, 200, c.m.acceptByToken(who, token))
}

func (c *testCase) respond(t *rapid.T) {
	id := c.drawInvitationID(t)
	who := c.drawInvitee(t, c.m.byID(id))
	accept := rapid.Bool().Draw(t, "accept")
	r := c.call(t, "slug", who, "POST", "/api/v1/invitations/"+id+"/respond", map[string]bool{"accept": accept})
	expect(t, "slug", r, 200, c.m.respond(who, id, accept))
}

func (c *testCase) revokeByToken(t *rapid.T) {
	caller := c.drawUser(t, "caller")
	tokens := []string{c.drawToken(t, "token")}
	if second := c.drawToken(t, "second token"); rapid.Bool().Draw(t, "two") && second != tokens[0] {
		tokens = append(tokens, second)
	}
	r := c.call(t, "elastic", caller, "DELETE", "/api/v1/organizations/"+c.org.ID+"/invitations/"+url.PathEscape(strings.Join(tokens, ",")), nil)
	expect(t, "elastic", r, 200, c.m.revokeByTokens(caller, tokens)...)
}

func (c *testCase) revokeByID(t *rapid.T) {
	caller := c.drawUser(t, "caller")
	id := c.drawInvitationID(t)
	r := c.call(t, "slug", caller, "DELETE", "/api/v1/org/"+c.org.Slug+"/invitations/"+id, nil)
	if ok, _ := expect(t, "slug", r, 200, c.m.revokeByID(caller, id)); ok {
		var got dreadnode.Invitation
		decode(t, r, &got)
		if got.ID != id || got.Status != revoked {
			t.Fatalf("revoked invitation %+v", got)
		}
	}
}

func (c *testCase) resend(t *rapid.T) {
	caller := c.drawUser(t, "caller")
	id := c.drawInvitationID(t)
	sendEmail := rapid.Bool().Draw(t, "send_email")
	r := c.call(t, "slug", caller, "POST", "/api/v1/org/"+c.org.Slug+"/invitations/"+id+"/resend", map[string]bool{"send_email": sendEmail})
	inv, want := c.m.resend(caller, id, sendEmail)
	if ok, _ := expect(t, "slug", r, 200, want); ok {
		c.checkIssued(t, r, inv, sendEmail)
	}
}

func (c *testCase) setRole(t *rapid.T) {
	caller := c.drawUser(t, "caller")
	target := c.drawTarget(t)
	role := rapid.SampledFrom([]orgd.Role{orgd.RoleOwner, orgd.RoleContributor, orgd.RoleReader}).Draw(t, "role")
	r := c.call(t, "slug", caller, "PUT", "/api/v1/org/"+c.org.Slug+"/members/"+target.idOr(unknownID), map[string]orgd.Role{"role": role})
	if ok, _ := expect(t, "slug", r, 200, c.m.setRole(caller, target.id, role)); ok {
		var got dreadnode.Member
		decode(t, r, &got)
		if got.UserID != target.id || got.Role != string(role) {
			t.Fatalf("member %+v, want %s", got, role)
		}
	}
}

func (p *person) idOr(unknown string) string {
	if p.id == "" {
		return unknown
	}
	return p.id
}

func (c *testCase) roleAssignments(t *rapid.T) {
	caller := c.drawMember(t, "caller")
	target := c.drawUser(t, "target")
	role := drawRole.Draw(t, "role")
	remove := rapid.Bool().Draw(t, "remove")
	method := "POST"
	if remove {
		method = "DELETE"
	}
	assignment := map[string]string{"role_id": string(role)}
	namesOrg := rapid.Bool().Draw(t, "names the organization")
	if namesOrg {
		assignment["organization_id"] = c.org.ID
	}
	body := map[string]any{"organization": []map[string]string{assignment}}
	r := c.call(t, "elastic", caller, method, "/api/v1/users/"+target.id+"/role_assignments", body)
	expect(t, "elastic", r, 200, c.m.changeRole(caller, target.id, role, remove))
}

func (c *testCase) removeMember(t *rapid.T) {
	caller := c.drawUser(t, "caller")
	targets := []*person{c.drawTarget(t)}
	surface := rapid.SampledFrom([]string{"elastic", "slug"}).Draw(t, "surface")
	path := "/api/v1/org/" + c.org.Slug + "/members/" + targets[0].idOr(unknownID)
	if surface == "elastic" {
		// The Elastic surface removes a list of users.
		if rapid.Bool().Draw(t, "two") {
			targets = append(targets, c.drawTarget(t))
		}
		var ids []string
		for _, p := range targets {
			ids = append(ids, p.idOr(unknownID))
		}
		path = "/api/v1/organizations/" + c.org.ID + "/members/" + strings.Join(ids, ",")
	}
	r := c.call(t, surface, caller, "DELETE", path, nil)
	expect(t, surface, r, 200, c.m.removeMembers(caller, targets))
}

// addMember is orgd admin member add, which no route serves: the call the
// command makes.
func (c *testCase) addMember(t *rapid.T) {
	target := c.drawTarget(t)
	role := drawRole.Draw(t, "role")
	_, err := c.srv.Svc.AddMember(t.Context(), orgd.SystemPrincipal, c.org.ID, target.idOr(unknownID), role)
	t.Logf("admin add member %s as %s: %v", target.name, role, err)
	want := c.m.addMember(target, role)
	if want == success {
		if err != nil {
			t.Fatalf("add member: %v, the model wants success", err)
		}
		return
	}
	if e := orgd.AsError(err); err == nil || e.Code != want.code {
		t.Fatalf("add member: %v, the model wants %s", err, want.code)
	}
}

func (c *testCase) invitePolicy(t *rapid.T) {
	caller := c.drawUser(t, "caller")
	allow := rapid.Bool().Draw(t, "allow_external_invites")
	domains := rapid.SampledFrom([][]string{{}, {c.domain}}).Draw(t, "allowed_email_domains")
	r := c.call(t, "slug", caller, "PATCH", "/api/v1/org/"+c.org.Slug, map[string]any{"allow_external_invites": allow, "allowed_email_domains": domains})
	if ok, _ := expect(t, "slug", r, 200, c.m.updateInvitePolicy(caller, allow, domains)); ok {
		var got dreadnode.Organization
		decode(t, r, &got)
		if got.AllowExternalInvites != allow || !slices.Equal(got.AllowedEmailDomains, domains) {
			t.Fatalf("organization %+v after setting %v, %q", got, allow, domains)
		}
	}
}

func (c *testCase) getOrganization(t *rapid.T) {
	caller := c.drawUser(t, "caller")
	role, want := c.m.access(caller, false)
	var got dreadnode.Organization
	if !c.read(t, "slug", caller, "/api/v1/org/"+c.org.Slug, want, &got) {
		return
	}
	var owners, wantOwners []string
	for _, o := range got.Owners {
		owners = append(owners, o.UserID)
	}
	for id, rs := range c.m.members {
		if rs.top() == orgd.RoleOwner {
			wantOwners = append(wantOwners, id)
		}
	}
	slices.Sort(owners)
	slices.Sort(wantOwners)
	if got.MemberCount != len(c.m.members) || !slices.Equal(owners, wantOwners) || got.CanManageMembers != manages(role) ||
		got.MaxMembers != c.m.maxMembers || got.AllowExternalInvites != c.m.allowExternal {
		t.Fatalf("organization %+v; the model has %d members, owners %q, caller role %s", got, len(c.m.members), wantOwners, role)
	}
}

func (c *testCase) advance(t *rapid.T) {
	d := rapid.SampledFrom([]time.Duration{61 * time.Second, 30 * time.Minute, 2 * time.Hour, 73 * time.Hour}).Draw(t, "by")
	c.srv.Clock.Advance(d)
	c.m.now = c.srv.Clock.Now().Truncate(time.Microsecond)
}

func (c *testCase) listInvitations(t *rapid.T) {
	caller := c.drawUser(t, "caller")
	surface := rapid.SampledFrom([]string{"elastic", "slug"}).Draw(t, "surface")
	_, want := c.m.access(caller, true)
	if surface == "elastic" {
		c.checkElasticInvitations(t, caller, want)
	} else {
		status := rapid.SampledFrom([]string{"", "pending", "expired", "pending,expired", "accepted,declined", "revoked", "all"}).Draw(t, "status")
		c.checkSlugInvitations(t, caller, status, want)
	}
}

func (c *testCase) listMembers(t *rapid.T) {
	caller := c.drawUser(t, "caller")
	_, want := c.m.access(caller, false)
	c.checkMembers(t, caller, rapid.SampledFrom([]string{"elastic", "slug"}).Draw(t, "surface"), want)
}

func (c *testCase) myInvitations(t *rapid.T) {
	who := c.drawUser(t, "invitee")
	var got []dreadnode.Invitation
	c.read(t, "slug", who, "/api/v1/invitations/me", success, &got)
	var ids []string
	for _, inv := range got {
		ids = append(ids, inv.ID)
	}
	if want := c.m.pendingFor(who); !slices.Equal(slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("pending invitations of %s: %q, the model's %q", who.name, ids, want)
	}
}

func (c *testCase) invitationByToken(t *rapid.T) {
	who := c.drawUser(t, "caller")
	token := c.drawToken(t, "token")
	inv := c.m.byToken(token)
	want := success
	if inv == nil || inv.status == revoked {
		want = notFound(orgd.CodeInviteNotFound)
	}
	var got elastic.OrganizationInvitation
	if c.read(t, "elastic", who, "/api/v1/organizations/invitations/"+url.PathEscape(token), want, &got) {
		if got.Token != token || orgd.NormalizeEmail(got.Email) != inv.norm || got.Expired != (inv.state(c.m.now) == "expired") ||
			(got.AcceptedAt != "") != (inv.status == accepted) {
			t.Fatalf("invitation %+v, the model's %+v", got, inv)
		}
	}
}

// check compares the lists of both surfaces, as an owner, with the model.
func (c *testCase) check(t *rapid.T) {
	owner := c.anOwner()
	c.checkSlugInvitations(t, owner, "all", success)
	c.checkElasticInvitations(t, owner, success)
	c.checkMembers(t, owner, "slug", success)
	c.checkMembers(t, owner, "elastic", success)
}

// slugInv is what the model knows of an invitation on the slug surface.
type slugInv struct {
	ID, Email, Role, Status, InvitedBy, EmailStatus string
	Created, Expires, Responded                     string
}

func slugInvitation(inv *invitation, now time.Time) slugInv {
	out := slugInv{ID: inv.id, Email: inv.email, Role: string(inv.roles.acting()), Status: inv.state(now), InvitedBy: inv.inviter,
		EmailStatus: string(inv.emailStatus), Created: timestamp(inv.created), Expires: timestamp(inv.expires)}
	if !inv.responded.IsZero() {
		out.Responded = timestamp(inv.responded)
	}
	return out
}

func slugView(inv dreadnode.Invitation) slugInv {
	return slugInv{ID: inv.ID, Email: inv.Email, Role: inv.Role, Status: inv.Status, InvitedBy: deref(inv.InvitedBy),
		EmailStatus: inv.EmailStatus, Created: inv.CreatedAt, Expires: inv.ExpiresAt, Responded: deref(inv.RespondedAt)}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (c *testCase) checkSlugInvitations(t *rapid.T, caller *person, status string, want outcome) {
	var list []dreadnode.Invitation
	if !c.read(t, "slug", caller, "/api/v1/org/"+c.org.Slug+"/invitations?status="+status, want, &list) {
		return
	}
	var got, model []slugInv
	for i, inv := range list {
		got = append(got, slugView(inv))
		if i > 0 && inv.CreatedAt < list[i-1].CreatedAt {
			t.Fatalf("invitations are not listed oldest first: %s after %s", inv.CreatedAt, list[i-1].CreatedAt)
		}
	}
	states := strings.Split(status, ",")
	if status == "" {
		states = []string{"pending"}
	}
	for _, inv := range c.m.invs {
		if status == "all" || slices.Contains(states, inv.state(c.m.now)) {
			model = append(model, slugInvitation(inv, c.m.now))
		}
	}
	byID := func(a, b slugInv) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(got, byID)
	slices.SortFunc(model, byID)
	if diff := cmp.Diff(model, got); diff != "" {
		t.Fatalf("slug invitations (-model +server):\n%s", diff)
	}
}

// elasticInv is what the model knows of an open invitation on the
// Elastic surface.
type elasticInv struct {
	Email, Token, Created, Expires, EmailStatus string
	Expired                                     bool
	Roles                                       roles
}

func elasticInvitation(inv *invitation, now time.Time) elasticInv {
	return elasticInv{Email: inv.email, Token: inv.token, Created: timestamp(inv.created), Expires: timestamp(inv.expires),
		EmailStatus: string(inv.emailStatus), Expired: inv.state(now) == "expired", Roles: inv.roles}
}

func elasticView(inv elastic.OrganizationInvitation) elasticInv {
	return elasticInv{Email: inv.Email, Token: inv.Token, Created: inv.CreatedAt, Expires: inv.ExpiresAt, EmailStatus: inv.EmailStatus,
		Expired: inv.Expired, Roles: orgRoles(inv.RoleAssignments)}
}

func orgRoles(ra elastic.RoleAssignments) roles {
	var rs []orgd.Role
	for _, a := range ra.Organization {
		rs = append(rs, orgd.Role(a.RoleID))
	}
	return newRoles(rs...)
}

func (c *testCase) checkElasticInvitations(t *rapid.T, caller *person, want outcome) {
	var list elastic.OrganizationInvitations
	if !c.read(t, "elastic", caller, "/api/v1/organizations/"+c.org.ID+"/invitations", want, &list) {
		return
	}
	got := map[string]elasticInv{}
	for _, inv := range list.Invitations {
		got[orgd.NormalizeEmail(inv.Email)] = elasticView(inv)
	}
	role, _ := c.m.access(caller, true)
	model := map[string]elasticInv{}
	for _, inv := range c.m.invs {
		if inv.status != open {
			continue
		}
		handles := mayGrant(role, inv.roles.top())
		if inv.token == "" && handles {
			// Delivered by email: the model learns the token here.
			inv.token = got[inv.norm].Token
		}
		want := elasticInvitation(inv, c.m.now)
		if !handles {
			want.Token = "" // withheld from who may not revoke it
		}
		model[inv.norm] = want
	}
	if diff := cmp.Diff(model, got); diff != "" {
		t.Fatalf("Elastic invitations (-model +server):\n%s", diff)
	}
}

func (c *testCase) checkMembers(t *rapid.T, caller *person, surface string, want outcome) {
	got, model := map[string]string{}, map[string]string{}
	if surface == "elastic" {
		var list elastic.OrganizationMemberships
		if !c.read(t, surface, caller, "/api/v1/organizations/"+c.org.ID+"/members", want, &list) {
			return
		}
		for _, m := range list.Members {
			got[m.UserID] = fmt.Sprint(orgRoles(m.RoleAssignments), " since ", m.MemberSince)
		}
		for id, rs := range c.m.members {
			model[id] = fmt.Sprint(rs, " since ", timestamp(c.m.joined[id]))
		}
	} else {
		var list []dreadnode.Member
		if !c.read(t, surface, caller, "/api/v1/org/"+c.org.Slug+"/members", want, &list) {
			return
		}
		for _, m := range list {
			got[m.UserID] = m.Role + " since " + m.JoinedAt
		}
		for id, rs := range c.m.members {
			model[id] = string(rs.acting()) + " since " + timestamp(c.m.joined[id])
		}
	}
	if diff := cmp.Diff(model, got); diff != "" {
		t.Fatalf("%s members (-model +server):\n%s", surface, diff)
	}
}
