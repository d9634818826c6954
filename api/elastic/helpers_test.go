package elastic_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/elastic"
	"github.com/orgd/orgd/internal/apitest"
)

// want is the outcome of a request: a status and, for errors, the code of
// the first error element.
type want struct {
	status int
	code   string
}

// check asserts that r is the outcome w: a success with status, or an
// error reply whose first code is w.code and whose x-cloud-error-codes
// header names the same code.
func (w want) check(t *testing.T, r *apitest.Response) {
	t.Helper()
	if w.code == "" {
		if r.Status != w.status {
			t.Errorf("status %d, want %d; body %s", r.Status, w.status, r.Body)
		}
		return
	}
	wantError(t, r, w.status, w.code)
}

// wantError asserts that r is a BasicFailedReply with status whose first
// error has code, that every element has a code and a message, and that
// x-cloud-error-codes equals errors[0].code. It returns the reply.
func wantError(t *testing.T, r *apitest.Response, status int, code string) elastic.BasicFailedReply {
	t.Helper()
	var reply elastic.BasicFailedReply
	r.JSON(t, &reply)
	if r.Status != status || len(reply.Errors) == 0 || reply.Errors[0].Code != code {
		t.Errorf("got %d %s, want %d with code %s", r.Status, r.Body, status, code)
		return reply
	}
	if h := r.Header.Get("x-cloud-error-codes"); h != reply.Errors[0].Code {
		t.Errorf("x-cloud-error-codes %q, want errors[0].code %q", h, reply.Errors[0].Code)
	}
	for i, e := range reply.Errors {
		if e.Code == "" || strings.TrimSpace(e.Message) == "" {
			t.Errorf("errors[%d] = %+v: code and message are required", i, e)
		}
	}
	return reply
}

// world is an organization with an owner, an admin and a reader, another
// organization with its owner, and a platform administrator.
type world struct {
	srv                                *apitest.Server
	org, other                         *orgd.Organization
	owner, admin, reader, outsider, pa *apitest.Caller
}

func newWorld(t *testing.T, databaseURL string, opts ...apitest.Option) *world {
	t.Helper()
	srv := apitest.Start(t, databaseURL, opts...)
	w := &world{srv: srv, org: srv.Org("Acme", "acme"), other: srv.Org("Other", "other")}
	w.owner = srv.Member(w.org, "owner@acme.test", orgd.RoleOwner)
	w.admin = srv.Member(w.org, "admin@acme.test", orgd.RoleOrgAdmin)
	w.reader = srv.Member(w.org, "reader@acme.test", orgd.RoleReader)
	w.outsider = srv.Member(w.other, "owner@other.test", orgd.RoleOwner)
	w.pa = srv.User("root@orgd.test", true)
	return w
}

// snapshot is what the service holds about some organizations: the
// organization, its members (with their roles and platform flag), its
// invitations in every state and its audit log.
type snapshot struct {
	Organizations []*orgd.Organization
	Members       [][]*orgd.Membership
	Invitations   [][]*orgd.Invitation
	Audit         [][]*orgd.AuditEvent
	Keys          []string // "id revoked-at" of the API keys of the users given to withKeys
}

// withKeys adds the API keys of users to the snapshot (not their last use,
// which every authenticated request may record).
func (s snapshot) withKeys(t *testing.T, srv *apitest.Server, users ...*orgd.User) snapshot {
	t.Helper()
	for _, u := range users {
		if u == nil {
			continue
		}
		keys, err := srv.Svc.ListAPIKeys(context.Background(), orgd.SystemPrincipal, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			s.Keys = append(s.Keys, k.ID+" "+k.RevokedAt.String())
		}
	}
	return s
}

// takeSnapshot reads orgs through the service as orgd itself.
func takeSnapshot(t *testing.T, srv *apitest.Server, orgs ...*orgd.Organization) snapshot {
	t.Helper()
	ctx, sys := context.Background(), orgd.SystemPrincipal
	var s snapshot
	for _, o := range orgs {
		v, err := srv.Svc.GetOrganization(ctx, sys, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		members, err := srv.Svc.ListMembers(ctx, sys, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, invs, err := srv.Svc.ListInvitations(ctx, sys, o.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		audit, err := srv.Svc.ListAuditEvents(ctx, sys, o.ID, orgd.AuditQuery{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		s.Organizations = append(s.Organizations, v.Organization)
		s.Members = append(s.Members, members)
		s.Invitations = append(s.Invitations, invs)
		s.Audit = append(s.Audit, audit)
	}
	return s
}

// diff reports what changed between two snapshots.
func (s snapshot) diff(after snapshot) string { return cmp.Diff(s, after) }

// invite creates invitations as orgd itself and returns their tokens.
func invite(t *testing.T, srv *apitest.Server, org *orgd.Organization, roles orgd.RoleAssignments, emails ...string) []string {
	t.Helper()
	_, issued, err := srv.Svc.CreateInvitations(context.Background(), orgd.SystemPrincipal, org.ID,
		orgd.InviteRequest{Emails: emails, Roles: roles, RefreshExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	tokens := make([]string, len(issued))
	for i, inv := range issued {
		tokens[i] = inv.Token
	}
	return tokens
}

// orgRole is the assignment of one organization role.
func orgRole(org *orgd.Organization, role orgd.Role) orgd.RoleAssignments {
	return orgd.RoleAssignments{}.WithOrgRole(org.ID, role)
}

// getJSON GETs path as the owner of key, expects 200 and decodes the body.
func getJSON[T any](t *testing.T, srv *apitest.Server, key, path string) T {
	t.Helper()
	r := srv.Elastic("GET", path, key, nil)
	want{status: 200}.check(t, r)
	var out T
	r.JSON(t, &out)
	return out
}

func getOrganization(t *testing.T, srv *apitest.Server, key, orgID string) elastic.Organization {
	t.Helper()
	return getJSON[elastic.Organization](t, srv, key, "/api/v1/organizations/"+orgID)
}

func listInvitations(t *testing.T, srv *apitest.Server, key, orgID string) []elastic.OrganizationInvitation {
	t.Helper()
	return getJSON[elastic.OrganizationInvitations](t, srv, key, "/api/v1/organizations/"+orgID+"/invitations").Invitations
}

func listMembers(t *testing.T, srv *apitest.Server, key, orgID string) []elastic.OrganizationMembership {
	t.Helper()
	return getJSON[elastic.OrganizationMemberships](t, srv, key, "/api/v1/organizations/"+orgID+"/members").Members
}
