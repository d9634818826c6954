package elastic_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/elastic"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/oidctest"
	"github.com/orgd/orgd/internal/testdb"
)

// caller is who sends a request in the permission table.
type caller string

const (
	anonymous     caller = "anonymous"
	badKey        caller = "bad key"
	revokedKey    caller = "revoked key"
	expiredJWT    caller = "expired JWT"
	foreignJWT    caller = "JWT from another issuer"
	outsider      caller = "member of another organization" // an owner there
	reader        caller = "reader"
	contributor   caller = "contributor"
	billingAdmin  caller = "billing-admin"
	orgAdmin      caller = "organization-admin"
	owner         caller = "owner"
	platformAdmin caller = "platform administrator"
)

// columns is the order of the outcome columns of permissionCases.
var columns = []caller{anonymous, badKey, outsider, reader, contributor, billingAdmin, orgAdmin, owner, platformAdmin}

// callers is everyone who sends each case: the columns, and callers that
// must be answered exactly as one of them (a revoked key as a bad key).
var callers = append(columns[:2:2], append([]caller{revokedKey, expiredJWT, foreignJWT}, columns[2:]...)...)

// memberRoles are the callers that are members of the scene's organization.
var memberRoles = map[caller]orgd.Role{
	reader: orgd.RoleReader, contributor: orgd.RoleContributor, billingAdmin: orgd.RoleBillingAdmin,
	orgAdmin: orgd.RoleOrgAdmin, owner: orgd.RoleOwner,
}

// scene is a fresh organization with one member of each role, a plain
// member to act on (target), an owner of another organization, a platform
// administrator, an invitation to the caller's own address and an open one
// to an address no user has. The caller's invitation is open unless the
// caller is a member: a member declined it before being added (an open
// one would have been revoked when they were added).
type scene struct {
	org, other    *orgd.Organization
	key           string // the caller's API key; "" for anonymous
	self          *orgd.User
	owner         *orgd.User
	target        *orgd.User
	ownToken      string // "" for anonymous and bad key
	strangerToken string
	targetKeyID   string // an API key of target
	bearer        string // a JWT the caller sends as Bearer instead of key
}

var sceneSeq atomic.Int64

// trusted is the issuer the permission tests' server trusts; foreign is
// another, real issuer it does not trust.
var trusted, foreign *oidctest.Issuer

func newScene(t *testing.T, srv *apitest.Server, c caller) *scene {
	t.Helper()
	ctx := context.Background()
	n := sceneSeq.Add(1)
	email := func(name string) string { return fmt.Sprintf("%s-%d@acme.test", name, n) }
	s := &scene{
		org:   srv.Org("Acme", fmt.Sprintf("acme-%d", n)),
		other: srv.Org("Other", fmt.Sprintf("other-%d", n)),
	}
	users := map[caller]*apitest.Caller{
		outsider:      srv.Member(s.other, email("outsider"), orgd.RoleOwner),
		platformAdmin: srv.User(email("platform"), true),
	}
	for _, r := range callers {
		if _, ok := memberRoles[r]; ok {
			users[r] = srv.User(email(strings.ReplaceAll(string(r), " ", "-")), false)
		}
	}
	switch u := users[c]; {
	case u != nil:
		s.key, s.self = u.Key, u.User
		s.ownToken = invite(t, srv, s.org, orgd.RoleAssignments{}, u.User.Email)[0]
		if _, member := memberRoles[c]; member {
			if _, err := srv.Svc.DeclineInvitationByToken(ctx, &orgd.Principal{User: u.User}, s.ownToken); err != nil {
				t.Fatal(err)
			}
		}
	case c == badKey:
		s.key = orgd.APIKeyPrefix + "unknownunknownunknownunknown"
	case c == expiredJWT:
		// A real token of the trusted issuer for a platform administrator,
		// a second past its expiry (beyond the minute of clock skew).
		claims := trusted.Claims("sub-"+email("expired"), email("expired"), true)
		now := claims["iat"].(int64)
		claims["exp"], claims["iat"], claims["nbf"] = now-61, now-3600, now-3600
		s.bearer = trusted.Sign(claims)
	case c == foreignJWT:
		s.bearer = foreign.Token("sub-"+email("foreign"), email("foreign"), true)
	case c == revokedKey:
		u := srv.User(email("revoked"), true) // even a platform administrator's key
		keys, err := srv.Svc.ListAPIKeys(ctx, orgd.SystemPrincipal, u.User.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Svc.RevokeAPIKeys(ctx, orgd.SystemPrincipal, []string{keys[0].ID}); err != nil {
			t.Fatal(err)
		}
		s.key = u.Key
	}
	for r, role := range memberRoles {
		if _, err := srv.Svc.AddMember(ctx, orgd.SystemPrincipal, s.org.ID, users[r].User.ID, role); err != nil {
			t.Fatal(err)
		}
	}
	s.owner = users[owner].User
	s.target = srv.Member(s.org, email("target"), orgd.RoleReader).User
	keys, err := srv.Svc.ListAPIKeys(ctx, orgd.SystemPrincipal, s.target.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.targetKeyID = keys[0].ID
	s.strangerToken = invite(t, srv, s.org, orgRole(s.org, orgd.RoleBillingAdmin), email("stranger"))[0]
	return s
}

// selfID is the caller's user id, or the target's for callers without a user.
func (s *scene) selfID() string {
	if s.self == nil {
		return s.target.ID
	}
	return s.self.ID
}

// permissionCase is one request of a route, and its outcome for each caller.
type permissionCase struct {
	op      string // the route's Operation
	name    string
	params  func(s *scene) map[string]string // path parameters; organization_id defaults to the scene's
	query   string
	body    func(s *scene) any
	mutates bool // a success must change the snapshot
	want    map[caller]want
}

// outcomes maps callers, in the order of callers, to ws.
func outcomes(ws ...want) map[caller]want {
	if len(ws) != len(columns) {
		panic(fmt.Sprintf("%d outcomes for %d columns", len(ws), len(columns)))
	}
	m := make(map[caller]want, len(ws)+1)
	for i, c := range columns {
		m[c] = ws[i]
	}
	m[revokedKey], m[expiredJWT], m[foreignJWT] = m[badKey], m[badKey], m[badKey]
	return m
}

var (
	ok200           = want{status: 200}
	created201      = want{status: 201}
	userNotFound401 = want{401, orgd.CodeUserNotFound}
	unauthorized401 = want{401, orgd.CodeUnauthorized}
	invalidAuth403  = want{403, orgd.CodeInvalidAuth}
	invalidAccess   = want{403, orgd.CodeOrgInvalidAccess}
	rolesForbidden  = want{403, orgd.CodeRolesForbidden}
	emailMismatch   = want{403, orgd.CodeInviteMismatch}
	orgNotFound     = want{404, orgd.CodeOrgNotFound}
	senderNotMember = want{404, orgd.CodeSenderNotMember}
	membershipGone  = want{404, orgd.CodeMembershipMissing}
	alreadyMember   = want{400, orgd.CodeAlreadyMember}
	lastOwner       = want{400, orgd.CodeLastOwner}
	invalidTarget   = want{400, orgd.CodeInvalidTarget}
	keyNotFound     = want{404, orgd.CodeKeyNotFound}
)

func targetKey(s *scene) map[string]string { return map[string]string{"api_key_id": s.targetKeyID} }

func userIDs(id func(*scene) string) func(*scene) map[string]string {
	return func(s *scene) map[string]string { return map[string]string{"user_ids": id(s)} }
}

func userID(id func(*scene) string) func(*scene) map[string]string {
	return func(s *scene) map[string]string { return map[string]string{"user_id": id(s)} }
}

func token(tok func(*scene) string) func(*scene) map[string]string {
	return func(s *scene) map[string]string {
		return map[string]string{"invitation_token": tok(s), "invitation_tokens": tok(s)}
	}
}

func targetID(s *scene) string { return s.target.ID }
func ownerID(s *scene) string  { return s.owner.ID }

// roleBody is a RoleAssignments body with one organization role; without
// withOrg it leaves organization_id out, as Python clients do.
func roleBody(role orgd.Role, withOrg bool) func(s *scene) any {
	return func(s *scene) any {
		a := map[string]string{"role_id": string(role)}
		if withOrg {
			a["organization_id"] = s.org.ID
		}
		return map[string]any{"organization": []any{a}}
	}
}

func inviteBody(role orgd.Role) func(s *scene) any {
	return func(s *scene) any {
		return map[string]any{"emails": []string{"invitee@example.com"}, "expires_in": "7d",
			"role_assignments": map[string]any{"organization": []any{map[string]string{"role_id": string(role), "organization_id": s.org.ID}}}}
	}
}

// permissionCases is the permission table of the Elastic surface. Columns:
// anonymous, bad key, member of another organization, reader, contributor,
// billing-admin, organization-admin, owner, platform administrator.
var permissionCases = []permissionCase{
	{op: "list-organizations", name: "list",
		want: outcomes(userNotFound401, userNotFound401, ok200, ok200, ok200, ok200, ok200, ok200, ok200)},
	{op: "get-organization", name: "get",
		want: outcomes(userNotFound401, userNotFound401, orgNotFound, ok200, ok200, ok200, ok200, ok200, ok200)},
	{op: "update-organization", name: "rename", mutates: true,
		body: func(*scene) any { return map[string]any{"name": "Renamed"} },
		want: outcomes(unauthorized401, unauthorized401, orgNotFound, invalidAccess, invalidAccess, invalidAccess, ok200, ok200, ok200)},
	{op: "update-organization", name: "billing contacts", mutates: true,
		body: func(*scene) any { return map[string]any{"billing_contacts": []string{"billing@example.com"}} },
		want: outcomes(unauthorized401, unauthorized401, orgNotFound, invalidAccess, invalidAccess, ok200, ok200, ok200, ok200)},
	// An update of nothing is answered as an update of the settings, and changes nothing.
	{op: "update-organization", name: "empty update", body: func(*scene) any { return map[string]any{} },
		want: outcomes(unauthorized401, unauthorized401, orgNotFound, invalidAccess, invalidAccess, invalidAccess, ok200, ok200, ok200)},
	{op: "list-organization-invitations", name: "list",
		want: outcomes(unauthorized401, unauthorized401, orgNotFound, invalidAccess, invalidAccess, invalidAccess, ok200, ok200, ok200)},
	{op: "create-organization-invitations", name: "invite a billing-admin", mutates: true, body: inviteBody(orgd.RoleBillingAdmin),
		want: outcomes(invalidAuth403, invalidAuth403, senderNotMember, invalidAccess, invalidAccess, invalidAccess, created201, created201, created201)},
	{op: "create-organization-invitations", name: "invite an owner", mutates: true, body: inviteBody(orgd.RoleOwner),
		want: outcomes(invalidAuth403, invalidAuth403, senderNotMember, invalidAccess, invalidAccess, invalidAccess, rolesForbidden, created201, created201)},
	{op: "delete-organization-invitations", name: "revoke", mutates: true, params: token(func(s *scene) string { return s.strangerToken }),
		want: outcomes(unauthorized401, unauthorized401, orgNotFound, invalidAccess, invalidAccess, invalidAccess, ok200, ok200, ok200)},
	{op: "get-organization-invitation", name: "read by token", params: token(func(s *scene) string { return s.strangerToken }),
		want: outcomes(unauthorized401, unauthorized401, ok200, ok200, ok200, ok200, ok200, ok200, ok200)},
	{op: "accept-organization-invitation", name: "own invitation", mutates: true, params: token(func(s *scene) string {
		if s.ownToken == "" {
			return s.strangerToken
		}
		return s.ownToken
	}),
		want: outcomes(invalidAuth403, invalidAuth403, ok200, alreadyMember, alreadyMember, alreadyMember, alreadyMember, alreadyMember, ok200)},
	{op: "accept-organization-invitation", name: "another address's invitation", params: token(func(s *scene) string { return s.strangerToken }),
		want: outcomes(invalidAuth403, invalidAuth403, emailMismatch, emailMismatch, emailMismatch, emailMismatch, emailMismatch, emailMismatch, emailMismatch)},
	{op: "list-organization-members", name: "list",
		want: outcomes(unauthorized401, unauthorized401, orgNotFound, ok200, ok200, ok200, ok200, ok200, ok200)},
	{op: "delete-organization-memberships", name: "remove a member", mutates: true, params: userIDs(targetID),
		want: outcomes(unauthorized401, unauthorized401, orgNotFound, invalidAccess, invalidAccess, invalidAccess, ok200, ok200, ok200)},
	{op: "delete-organization-memberships", name: "leave", mutates: true, params: userIDs((*scene).selfID),
		want: outcomes(unauthorized401, unauthorized401, orgNotFound, ok200, ok200, ok200, ok200, lastOwner, membershipGone)},
	{op: "delete-organization-memberships", name: "remove the last owner", mutates: true, params: userIDs(ownerID),
		want: outcomes(unauthorized401, unauthorized401, orgNotFound, invalidAccess, invalidAccess, invalidAccess, rolesForbidden, lastOwner, lastOwner)},
	{op: "delete-organization-memberships", name: "remove the last owner by force", mutates: true, params: userIDs(ownerID), query: "force=true",
		want: outcomes(unauthorized401, unauthorized401, orgNotFound, invalidAccess, invalidAccess, invalidAccess, rolesForbidden, lastOwner, ok200)},
	{op: "add-role-assignments", name: "grant billing-admin", mutates: true, params: userID(targetID), body: roleBody(orgd.RoleBillingAdmin, true),
		want: outcomes(unauthorized401, unauthorized401, invalidTarget, rolesForbidden, rolesForbidden, rolesForbidden, ok200, ok200, ok200)},
	{op: "add-role-assignments", name: "grant billing-admin without organization_id", mutates: true, params: userID(targetID), body: roleBody(orgd.RoleBillingAdmin, false),
		want: outcomes(unauthorized401, unauthorized401, invalidTarget, rolesForbidden, rolesForbidden, rolesForbidden, ok200, ok200, ok200)},
	{op: "add-role-assignments", name: "grant owner", mutates: true, params: userID(targetID), body: roleBody(orgd.RoleOwner, true),
		want: outcomes(unauthorized401, unauthorized401, invalidTarget, rolesForbidden, rolesForbidden, rolesForbidden, rolesForbidden, ok200, ok200)},
	{op: "add-role-assignments", name: "grant platform-admin", mutates: true, params: userID(targetID),
		body: func(*scene) any {
			return map[string]any{"platform": []any{map[string]string{"role_id": orgd.PlatformAdminRole}}}
		},
		want: outcomes(unauthorized401, unauthorized401, invalidTarget, rolesForbidden, rolesForbidden, rolesForbidden, rolesForbidden, rolesForbidden, ok200)},
	// Nothing to add changes nothing, but tells only those who manage the target's organization that it succeeded.
	{op: "add-role-assignments", name: "add nothing", params: userID(targetID), body: func(*scene) any { return map[string]any{} },
		want: outcomes(unauthorized401, unauthorized401, invalidTarget, rolesForbidden, rolesForbidden, rolesForbidden, ok200, ok200, ok200)},
	{op: "remove-role-assignments", name: "take away reader", mutates: true, params: userID(targetID), body: roleBody(orgd.RoleReader, true),
		want: outcomes(unauthorized401, unauthorized401, invalidTarget, rolesForbidden, rolesForbidden, rolesForbidden, ok200, ok200, ok200)},
	{op: "remove-role-assignments", name: "demote the last owner", mutates: true, params: userID(ownerID), body: roleBody(orgd.RoleOwner, true),
		want: outcomes(unauthorized401, unauthorized401, invalidTarget, rolesForbidden, rolesForbidden, rolesForbidden, rolesForbidden, lastOwner, lastOwner)},
	{op: "get-api-keys", name: "own keys",
		want: outcomes(unauthorized401, unauthorized401, ok200, ok200, ok200, ok200, ok200, ok200, ok200)},
	{op: "create-api-key", name: "own key", mutates: true, body: func(*scene) any { return map[string]any{"description": "ci"} },
		want: outcomes(unauthorized401, unauthorized401, created201, created201, created201, created201, created201, created201, created201)},
	// Another user's key does not exist for the caller, but for platform administrators.
	{op: "get-api-key", name: "another user's key", params: targetKey,
		want: outcomes(unauthorized401, unauthorized401, keyNotFound, keyNotFound, keyNotFound, keyNotFound, keyNotFound, keyNotFound, ok200)},
	{op: "delete-api-key", name: "another user's key", mutates: true, params: targetKey,
		want: outcomes(unauthorized401, unauthorized401, keyNotFound, keyNotFound, keyNotFound, keyNotFound, keyNotFound, keyNotFound, ok200)},
	{op: "delete-api-keys", name: "another user's key", mutates: true, body: func(s *scene) any { return map[string]any{"keys": []string{s.targetKeyID}} },
		want: outcomes(unauthorized401, unauthorized401, keyNotFound, keyNotFound, keyNotFound, keyNotFound, keyNotFound, keyNotFound, ok200)},
	{op: "remove-role-assignments", name: "demote the last owner by force", mutates: true, params: userID(ownerID), query: "force=true", body: roleBody(orgd.RoleOwner, true),
		want: outcomes(unauthorized401, unauthorized401, invalidTarget, rolesForbidden, rolesForbidden, rolesForbidden, rolesForbidden, lastOwner, ok200)},
}

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// request fills the route's path template from the case's parameters.
func (pc permissionCase) request(t *testing.T, rt elastic.Route, s *scene) (path string, body any) {
	t.Helper()
	params := map[string]string{"organization_id": s.org.ID}
	if pc.params != nil {
		for k, v := range pc.params(s) {
			params[k] = v
		}
	}
	path = pathParam.ReplaceAllStringFunc(rt.Path, func(p string) string {
		v, ok := params[p[1:len(p)-1]]
		if !ok {
			t.Fatalf("%s: no value for %s", rt.Path, p)
		}
		return v
	})
	if pc.query != "" {
		path += "?" + pc.query
	}
	if pc.body != nil {
		body = pc.body(s)
	}
	return path, body
}

func routeByOperation(t *testing.T, op string) elastic.Route {
	t.Helper()
	for _, rt := range elastic.Routes {
		if rt.Operation == op {
			return rt
		}
	}
	t.Fatalf("no route has operation %q", op)
	return elastic.Route{}
}

// TestPermissionTableCoversRoutes fails for a route without a case, so a new
// route must say who may call it.
func TestPermissionTableCoversRoutes(t *testing.T) {
	for _, rt := range elastic.Routes {
		n := 0
		for _, pc := range permissionCases {
			if pc.op == rt.Operation {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s %s (%s) has no permission case", rt.Method, rt.Path, rt.Operation)
		}
	}
	for _, pc := range permissionCases {
		routeByOperation(t, pc.op)
	}
}

// TestPermissions sends every case of the table as every caller, each on a
// fresh scene, and checks the exact status and code, and that a refused
// request changed nothing (and an allowed write changed something).
func TestPermissions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		clock := apitest.NewClock()
		trusted, foreign = oidctest.Start(t, clock.Now), oidctest.Start(t, clock.Now)
		srv := apitest.StartWith(t, databaseURL, apitest.Setup{Clock: clock, Tokens: trusted.Trust(t)})
		for _, pc := range permissionCases {
			rt := routeByOperation(t, pc.op)
			for _, c := range callers {
				t.Run(pc.op+"/"+pc.name+"/"+string(c), func(t *testing.T) {
					s := newScene(t, srv, c)
					path, body := pc.request(t, rt, s)
					before := takeSnapshot(t, srv, s.org, s.other).withKeys(t, srv, s.self, s.target)
					r := srv.Elastic(rt.Method, path, s.key, body)
					if s.bearer != "" {
						r = srv.Request(rt.Method, path, map[string]string{"Authorization": "Bearer " + s.bearer}, body)
					}
					w := pc.want[c]
					w.check(t, r)
					if w.code == "" {
						checkSuccessShape(t, rt, r)
					}
					after := takeSnapshot(t, srv, s.org, s.other).withKeys(t, srv, s.self, s.target)
					switch d := before.diff(after); {
					case w.code != "" && d != "":
						t.Errorf("refused request changed state (-before +after):\n%s", d)
					case w.code == "" && pc.mutates && d == "":
						t.Errorf("successful %s changed nothing", pc.op)
					case w.code == "" && !pc.mutates && d != "":
						t.Errorf("read-only %s changed state (-before +after):\n%s", pc.op, d)
					}
				})
			}
		}
	})
}

// An invitation that promises the owner role lists without its token to an
// organization admin, who may not revoke it: with the token, the admin
// could answer it on the invitation page. Owners and platform
// administrators see every token.
func TestListWithholdsTokensTheCallerMayNotHandle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		readerToken := invite(t, w.srv, w.org, orgRole(w.org, orgd.RoleReader), "new-reader@acme.test")[0]
		ownerToken := invite(t, w.srv, w.org, orgRole(w.org, orgd.RoleOwner), "new-owner@acme.test")[0]
		for _, c := range []struct {
			name       string
			key        string
			ownerToken string
		}{
			{"organization admin", w.admin.Key, ""},
			{"owner", w.owner.Key, ownerToken},
			{"platform administrator", w.pa.Key, ownerToken},
		} {
			got := map[string]string{}
			for _, inv := range listInvitations(t, w.srv, c.key, w.org.ID) {
				got[inv.Email] = inv.Token
			}
			want := map[string]string{"new-reader@acme.test": readerToken, "new-owner@acme.test": c.ownerToken}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s lists tokens (-want +got):\n%s", c.name, diff)
			}
		}
	})
}
