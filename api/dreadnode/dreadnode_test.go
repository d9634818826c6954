package dreadnode_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/oidctest"
	"github.com/orgd/orgd/internal/testdb"
)

// world is an organization with one member of each role, an outsider and a
// platform administrator, on a running server.
type world struct {
	srv                                        *apitest.Server
	org                                        *orgd.Organization
	owner, admin, billing, contributor, reader *apitest.Caller
	outsider, platform                         *apitest.Caller
}

func newWorld(t *testing.T, url string, opts ...apitest.Option) *world {
	srv := apitest.Start(t, url, opts...)
	org := srv.Org("Acme", "acme")
	w := &world{srv: srv, org: org,
		owner:       srv.Member(org, "owner@acme.test", orgd.RoleOwner),
		admin:       srv.Member(org, "admin@acme.test", orgd.RoleOrgAdmin),
		billing:     srv.Member(org, "billing@acme.test", orgd.RoleBillingAdmin),
		contributor: srv.Member(org, "contributor@acme.test", orgd.RoleContributor),
		reader:      srv.Member(org, "reader@acme.test", orgd.RoleReader),
		outsider:    srv.User("outsider@else.test", false),
		platform:    srv.User("root@orgd.test", true),
	}
	other := srv.Org("Other", "other")
	srv.Svc.AddMember(t.Context(), orgd.SystemPrincipal, other.ID, w.outsider.User.ID, orgd.RoleOwner)
	return w
}

// auditEvents is the organization's audit log, newest first.
func (w *world) auditEvents(t *testing.T) []*orgd.AuditEvent {
	t.Helper()
	evs, err := w.srv.Svc.ListAuditEvents(t.Context(), orgd.SystemPrincipal, w.org.ID, orgd.AuditQuery{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// envelope is the slug error body.
type envelope = dreadnode.ErrorEnvelope

// wantError checks the status, the envelope's type for it and the type of
// its first entry (orgd's code or a validation type) and location.
func wantError(t *testing.T, r *apitest.Response, status int, code string, loc ...any) envelope {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	var e envelope
	r.JSON(t, &e)
	if e.Code != status || e.Type != dreadnode.ErrorTypes()[status] || e.Detail == "" {
		t.Errorf("envelope %+v does not match status %d", e, status)
	}
	if len(e.Errors) == 0 || e.Errors[0].Type != code {
		t.Fatalf("errors %+v, want first type %s", e.Errors, code)
	}
	if loc == nil {
		loc = []any{}
	}
	if diff := cmp.Diff(loc, normalizeLoc(e.Errors[0].Loc)); diff != "" {
		t.Errorf("loc (-want +got):\n%s", diff)
	}
	return e
}

// normalizeLoc turns JSON numbers of a decoded loc back into ints.
func normalizeLoc(loc []any) []any {
	out := make([]any, len(loc))
	for i, v := range loc {
		if f, ok := v.(float64); ok {
			out[i] = int(f)
			continue
		}
		out[i] = v
	}
	return out
}

func TestHealthAndUser(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		var health map[string]string
		w.srv.Slug("GET", "/api/v1/health", "", nil).Want(t, 200).JSON(t, &health)
		if health["status"] != "ok" {
			t.Errorf("health %v", health)
		}
		wantError(t, w.srv.Slug("GET", "/api/v1/user", "", nil), 401, orgd.CodeUnauthorized)
		wantError(t, w.srv.Slug("GET", "/api/v1/user", "orgd_nope", nil), 401, orgd.CodeUnauthorized)
		var u dreadnode.User
		w.srv.Request("GET", "/api/v1/user", map[string]string{"X-API-Key": w.reader.Key}, nil).Want(t, 200).JSON(t, &u)
		want := dreadnode.User{ID: w.reader.User.ID, EmailAddress: "reader@acme.test", Username: "reader", CreatedAt: u.CreatedAt}
		if diff := cmp.Diff(want, u); diff != "" {
			t.Errorf("user (-want +got):\n%s", diff)
		}
		var orgs []dreadnode.Organization
		w.srv.Slug("GET", "/api/v1/user/organizations", w.outsider.Key, nil).Want(t, 200).JSON(t, &orgs)
		if len(orgs) != 1 || orgs[0].Key != "other" || !orgs[0].CanManageMembers {
			t.Errorf("outsider's organizations %+v", orgs)
		}
		w.srv.Slug("GET", "/api/v1/user/organizations", w.platform.Key, nil).Want(t, 200).JSON(t, &orgs)
		if len(orgs) != 0 {
			t.Errorf("a platform administrator without memberships lists %d organizations", len(orgs))
		}
	})
}

func TestOrganization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		var org dreadnode.Organization
		w.srv.Slug("GET", "/api/v1/org/acme", w.reader.Key, nil).Want(t, 200).JSON(t, &org)
		if org.ID != w.org.ID || org.Key != "acme" || org.Name != "Acme" || org.MemberCount != 5 || org.MaxMembers != 500 ||
			org.CanManageMembers || !org.IsActive || !org.AllowExternalInvites || org.Description != nil {
			t.Errorf("organization for a reader: %+v", org)
		}
		if len(org.Owners) != 1 || org.Owners[0].Email != "owner@acme.test" {
			t.Errorf("owners %+v", org.Owners)
		}
		w.srv.Slug("GET", "/api/v1/org/"+w.org.ID, w.admin.Key, nil).Want(t, 200).JSON(t, &org)
		if org.Key != "acme" || !org.CanManageMembers {
			t.Errorf("organization by id for an admin: %+v", org)
		}
		wantError(t, w.srv.Slug("GET", "/api/v1/org/acme", w.outsider.Key, nil), 404, orgd.CodeOrgNotFound)
		wantError(t, w.srv.Slug("GET", "/api/v1/org/nowhere", w.outsider.Key, nil), 404, orgd.CodeOrgNotFound)

		w.srv.Slug("PATCH", "/api/v1/org/acme", w.admin.Key, map[string]any{
			"name": "Acme Labs", "description": "We make things", "allow_external_invites": false,
			"allowed_email_domains": []string{"Acme.test", "acme.test", "partner.test"},
		}).Want(t, 200).JSON(t, &org)
		if org.Name != "Acme Labs" || org.Description == nil || *org.Description != "We make things" || org.AllowExternalInvites ||
			!slices.Equal(org.AllowedEmailDomains, []string{"acme.test", "partner.test"}) || org.Key != "acme" {
			t.Errorf("after PATCH: %+v", org)
		}
		// An update of nothing is one of the settings: refused to those who
		// may not change them, and for the others it changes and records nothing.
		wantError(t, w.srv.Slug("PATCH", "/api/v1/org/acme", w.reader.Key, map[string]any{}), 403, orgd.CodeOrgInvalidAccess)
		wantError(t, w.srv.Slug("PATCH", "/api/v1/org/acme", w.billing.Key, map[string]any{}), 403, orgd.CodeOrgInvalidAccess)
		before := w.auditEvents(t)
		var same dreadnode.Organization
		w.srv.Slug("PATCH", "/api/v1/org/acme", w.admin.Key, map[string]any{}).Want(t, 200).JSON(t, &same)
		if diff := cmp.Diff(org, same); diff != "" {
			t.Errorf("an empty PATCH changed the organization (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff(before, w.auditEvents(t)); diff != "" {
			t.Errorf("an empty PATCH was recorded (-before +after):\n%s", diff)
		}
		wantError(t, w.srv.Slug("PATCH", "/api/v1/org/acme", w.owner.Key, map[string]any{"name": "A"}), 422, orgd.CodeOrgInvalidName, "body", "name")
		wantError(t, w.srv.Slug("PATCH", "/api/v1/org/acme", w.owner.Key, map[string]any{"allowed_email_domains": []string{"ok.test", "not a domain"}}),
			422, orgd.CodeInvalidData, "body", "allowed_email_domains", 1)
		e := wantError(t, w.srv.Slug("PATCH", "/api/v1/org/acme", w.owner.Key, map[string]any{"name": 5, "max_members": "x", "allow_external_invites": "no"}),
			422, "string_type", "body", "name")
		if len(e.Errors) != 3 {
			t.Errorf("want every bad field reported, got %+v", e.Errors)
		}
		wantError(t, w.srv.Slug("PATCH", "/api/v1/org/acme", w.owner.Key, map[string]any{"max_members": 10}), 403, orgd.CodeOrgInvalidAccess)
		wantError(t, w.srv.Slug("PATCH", "/api/v1/org/acme", w.billing.Key, map[string]any{"name": "Billing Co"}), 403, orgd.CodeOrgInvalidAccess)
		wantError(t, w.srv.Slug("PATCH", "/api/v1/org/acme", w.owner.Key, "[1,2]"), 422, "model_attributes_type", "body")
		wantError(t, w.srv.Slug("PATCH", "/api/v1/org/acme", w.owner.Key, `{"name":`), 422, "json_invalid", "body")
		w.srv.Slug("PATCH", "/api/v1/org/acme", w.platform.Key, map[string]any{"max_members": 10}).Want(t, 200).JSON(t, &org)
		if org.MaxMembers != 10 {
			t.Errorf("max_members %d", org.MaxMembers)
		}
	})
}

func TestInvitations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		path := "/api/v1/org/acme/invitations"
		var inv dreadnode.Invitation
		w.srv.Slug("POST", path, w.admin.Key, map[string]any{"email": " Ann@Example.test "}).Want(t, 200).JSON(t, &inv)
		if inv.Email != "Ann@Example.test" || inv.Role != "reader" || inv.Status != "pending" || inv.EmailStatus != "queued" ||
			inv.AcceptURL != "" || inv.OrgKey != "acme" || inv.OrgName != "Acme" || inv.InvitedBy == nil || *inv.InvitedBy != w.admin.User.ID ||
			inv.InvitedByEmail == nil || *inv.InvitedByEmail != "admin@acme.test" || inv.RespondedAt != nil {
			t.Errorf("created invitation %+v", inv)
		}
		if strings.Contains(string(w.srv.Slug("GET", path, w.admin.Key, nil).Body), "token") {
			t.Error("a list shows a token")
		}
		created, _ := time.Parse(time.RFC3339Nano, inv.CreatedAt)
		expires, _ := time.Parse(time.RFC3339Nano, inv.ExpiresAt)
		if expires.Sub(created) != 72*time.Hour {
			t.Errorf("default lifetime %v", expires.Sub(created))
		}

		wantError(t, w.srv.Slug("POST", path, w.admin.Key, map[string]any{"email": "ann@example.test"}), 409, orgd.CodeInviteExists, "body", "email")
		wantError(t, w.srv.Slug("POST", path, w.admin.Key, map[string]any{"email": "READER@acme.test"}), 409, orgd.CodeAlreadyMember, "body", "email")
		wantError(t, w.srv.Slug("POST", path, w.admin.Key, map[string]any{"email": "Bob <bob@x.test>"}), 422, orgd.CodeInviteInvalidMail, "body", "email")
		wantError(t, w.srv.Slug("POST", path, w.admin.Key, map[string]any{}), 422, "missing", "body", "email")
		wantError(t, w.srv.Slug("POST", path, w.admin.Key, map[string]any{"email": "c@x.test", "role": "organization-admin"}), 422, "enum", "body", "role")
		wantError(t, w.srv.Slug("POST", path, w.admin.Key, map[string]any{"email": "c@x.test", "expires_in": "90d"}), 422, orgd.CodeInviteExpiry, "body", "expires_in")
		wantError(t, w.srv.Slug("POST", path, w.admin.Key, map[string]any{"email": "c@x.test", "expires_in": true}), 422, "duration_type", "body", "expires_in")
		wantError(t, w.srv.Slug("POST", path, w.admin.Key, map[string]any{"email": "c@x.test", "role": "owner"}), 403, orgd.CodeRolesForbidden)

		// send_email false hands back the link, once, and its token works on the Elastic surface.
		w.srv.Slug("POST", path, w.owner.Key, map[string]any{"email": "cat@x.test", "role": "owner", "send_email": false, "expires_in": "2w"}).
			Want(t, 200).JSON(t, &inv)
		if inv.Role != "owner" || inv.EmailStatus != "not_requested" || !strings.HasPrefix(inv.AcceptURL, "http://orgd.test/invitations/") {
			t.Errorf("invitation without email %+v", inv)
		}
		token := strings.TrimPrefix(inv.AcceptURL, "http://orgd.test/invitations/")
		w.srv.Elastic("GET", "/api/v1/organizations/invitations/"+token, w.reader.Key, nil).Want(t, 200)
		w.srv.Slug("POST", path, w.owner.Key, map[string]any{"email": "sec@x.test", "expires_in": 3600}).Want(t, 200).JSON(t, &inv)
		created, _ = time.Parse(time.RFC3339Nano, inv.CreatedAt)
		expires, _ = time.Parse(time.RFC3339Nano, inv.ExpiresAt)
		if expires.Sub(created) != time.Hour {
			t.Errorf("expires_in 3600 gave a lifetime of %v", expires.Sub(created))
		}

		// Resend: cooldown, then a new token and expiry.
		resend := path + "/" + inv.ID + "/resend"
		r := w.srv.Slug("POST", resend, w.admin.Key, nil)
		wantError(t, r, 409, orgd.CodeInviteExists)
		if r.Header.Get("Retry-After") != "60" {
			t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
		}
		w.srv.Clock.Advance(61 * time.Second)
		var again dreadnode.Invitation
		w.srv.Slug("POST", resend, w.admin.Key, map[string]any{"send_email": false}).Want(t, 200).JSON(t, &again)
		if again.ID != inv.ID || again.ExpiresAt == inv.ExpiresAt || again.AcceptURL == "" {
			t.Errorf("resent invitation %+v", again)
		}
		oldToken := strings.TrimPrefix(again.AcceptURL, "http://orgd.test/invitations/")
		w.srv.Clock.Advance(61 * time.Second)
		var third dreadnode.Invitation
		w.srv.Slug("POST", path+"/"+inv.ID+"/resend", w.admin.Key, map[string]any{}).Want(t, 200).JSON(t, &third)
		if third.AcceptURL != "" || third.EmailStatus != "queued" {
			t.Errorf("a resend with email shows a link: %+v", third)
		}
		wantElastic404 := w.srv.Elastic("GET", "/api/v1/organizations/invitations/"+oldToken, w.reader.Key, nil)
		if wantElastic404.Status != 404 {
			t.Errorf("a superseded token still resolves: %d", wantElastic404.Status)
		}
		wantError(t, w.srv.Slug("POST", path+"/01936f6e-0000-7000-8000-000000000000/resend", w.admin.Key, nil), 404, orgd.CodeInviteNotFound)
		// An organization that narrowed its domains since does not resend
		// to the others.
		w.srv.Slug("PATCH", "/api/v1/org/acme", w.owner.Key, map[string]any{"allow_external_invites": false, "allowed_email_domains": []string{"acme.test"}}).Want(t, 200)
		w.srv.Clock.Advance(61 * time.Second)
		wantError(t, w.srv.Slug("POST", resend, w.admin.Key, nil), 400, orgd.CodeInviteDomain)
		w.srv.Slug("PATCH", "/api/v1/org/acme", w.owner.Key, map[string]any{"allow_external_invites": true}).Want(t, 200)

		// Lists and the status filter.
		var list []dreadnode.Invitation
		w.srv.Slug("GET", path, w.admin.Key, nil).Want(t, 200).JSON(t, &list)
		if len(list) != 3 {
			t.Fatalf("pending list has %d invitations", len(list))
		}
		w.srv.Clock.Advance(2 * time.Hour) // "sec" (1 h) expires
		w.srv.Slug("GET", path+"?status=expired", w.admin.Key, nil).Want(t, 200).JSON(t, &list)
		if len(list) != 1 || list[0].Email != "sec@x.test" || list[0].Status != "expired" {
			t.Errorf("expired list %+v", list)
		}
		wantError(t, w.srv.Slug("GET", path+"?status=bogus", w.admin.Key, nil), 422, "enum", "query", "status")
		wantError(t, w.srv.Slug("GET", path, w.reader.Key, nil), 403, orgd.CodeOrgInvalidAccess)

		// Revoke.
		var revoked dreadnode.Invitation
		w.srv.Slug("DELETE", path+"/"+list[0].ID, w.admin.Key, nil).Want(t, 200).JSON(t, &revoked)
		if revoked.Status != "revoked" || revoked.RespondedAt == nil {
			t.Errorf("revoked %+v", revoked)
		}
		wantError(t, w.srv.Slug("DELETE", path+"/"+list[0].ID, w.admin.Key, nil), 404, orgd.CodeInviteNotFound)
		wantError(t, w.srv.Slug("DELETE", path+"/not-an-id", w.admin.Key, nil), 404, orgd.CodeInviteNotFound)
		w.srv.Slug("GET", path+"?status=revoked,expired", w.admin.Key, nil).Want(t, 200).JSON(t, &list)
		if len(list) != 1 || list[0].Status != "revoked" {
			t.Errorf("revoked list %+v", list)
		}
		w.srv.Slug("GET", path+"?status=all", w.admin.Key, nil).Want(t, 200).JSON(t, &list)
		if len(list) != 3 {
			t.Errorf("all: %d invitations", len(list))
		}
	})
}

func TestMembers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		var members []dreadnode.Member
		w.srv.Slug("GET", "/api/v1/org/acme/members", w.reader.Key, nil).Want(t, 200).JSON(t, &members)
		var roles []string
		for _, m := range members {
			roles = append(roles, m.Role)
			if m.ID != m.UserID || m.OrgID != w.org.ID || m.EmailAddress == "" || m.JoinedAt == "" {
				t.Errorf("member %+v", m)
			}
		}
		if diff := cmp.Diff([]string{"owner", "organization-admin", "billing-admin", "contributor", "reader"}, roles); diff != "" {
			t.Errorf("roles (-want +got):\n%s", diff)
		}
		base := "/api/v1/org/acme/members/"
		var m dreadnode.Member
		w.srv.Slug("PUT", base+w.reader.User.ID, w.admin.Key, map[string]any{"role": "contributor"}).Want(t, 200).JSON(t, &m)
		if m.Role != "contributor" || m.UserID != w.reader.User.ID {
			t.Errorf("after PUT: %+v", m)
		}
		wantError(t, w.srv.Slug("PUT", base+w.reader.User.ID, w.admin.Key, map[string]any{"role": "billing-admin"}), 422, "enum", "body", "role")
		wantError(t, w.srv.Slug("PUT", base+w.reader.User.ID, w.admin.Key, map[string]any{}), 422, "missing", "body", "role")
		wantError(t, w.srv.Slug("PUT", base+w.reader.User.ID, w.admin.Key, map[string]any{"role": "owner"}), 403, orgd.CodeRolesForbidden)
		wantError(t, w.srv.Slug("PUT", base+w.owner.User.ID, w.owner.Key, map[string]any{"role": "reader"}), 409, orgd.CodeLastOwner)
		wantError(t, w.srv.Slug("PUT", base+w.outsider.User.ID, w.owner.Key, map[string]any{"role": "reader"}), 404, orgd.CodeMembershipMissing)
		// Owners manage owners: a second owner, then the first can step down.
		w.srv.Slug("PUT", base+w.admin.User.ID, w.owner.Key, map[string]any{"role": "owner"}).Want(t, 200)
		w.srv.Slug("PUT", base+w.owner.User.ID, w.owner.Key, map[string]any{"role": "reader"}).Want(t, 200)

		var removal dreadnode.MemberRemoval
		w.srv.Slug("DELETE", base+w.contributor.User.ID, w.admin.Key, nil).Want(t, 200).JSON(t, &removal)
		if removal.UserID != w.contributor.User.ID || removal.UserDeleted {
			t.Errorf("removal %+v", removal)
		}
		wantError(t, w.srv.Slug("DELETE", base+w.contributor.User.ID, w.admin.Key, nil), 404, orgd.CodeMembershipMissing)
		wantError(t, w.srv.Slug("DELETE", base+w.admin.User.ID, w.billing.Key, nil), 403, orgd.CodeOrgInvalidAccess)
		w.srv.Slug("DELETE", base+w.billing.User.ID, w.billing.Key, nil).Want(t, 200) // leaving
		wantError(t, w.srv.Slug("DELETE", base+w.admin.User.ID, w.admin.Key, nil), 409, orgd.CodeLastOwner)
	})
}

func TestInviteeJourney(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		beta := w.srv.Org("Beta", "beta")
		betaOwner := w.srv.Member(beta, "owner@beta.test", orgd.RoleOwner)
		dana := w.srv.User("Dana@Example.test", false)

		w.srv.Slug("POST", "/api/v1/org/acme/invitations", w.admin.Key, map[string]any{"email": "dana@example.test", "role": "contributor"}).Want(t, 200)
		w.srv.Slug("POST", "/api/v1/org/beta/invitations", betaOwner.Key, map[string]any{"email": "DANA@example.test"}).Want(t, 200)
		w.srv.Slug("POST", "/api/v1/org/beta/invitations", betaOwner.Key, map[string]any{"email": "someone@else.test"}).Want(t, 200)

		var mine []dreadnode.Invitation
		w.srv.Slug("GET", "/api/v1/invitations/me", dana.Key, nil).Want(t, 200).JSON(t, &mine)
		if len(mine) != 2 || mine[0].OrgKey != "acme" || mine[1].OrgKey != "beta" {
			t.Fatalf("dana's invitations %+v", mine)
		}
		respond := func(id string, who *apitest.Caller, accept bool) *apitest.Response {
			return w.srv.Slug("POST", "/api/v1/invitations/"+id+"/respond", who.Key, map[string]any{"accept": accept})
		}
		wantError(t, respond(mine[0].ID, w.reader, true), 404, orgd.CodeInviteNotFound)
		wantError(t, w.srv.Slug("POST", "/api/v1/invitations/"+mine[0].ID+"/respond", dana.Key, map[string]any{}), 422, "missing", "body", "accept")

		var declined dreadnode.Invitation
		respond(mine[1].ID, dana, false).Want(t, 200).JSON(t, &declined)
		if declined.Status != "declined" || declined.RespondedAt == nil || declined.OrgKey != "beta" {
			t.Errorf("declined %+v", declined)
		}
		wantError(t, respond(mine[1].ID, dana, true), 409, orgd.CodeInviteUsed)

		var member dreadnode.Member
		respond(mine[0].ID, dana, true).Want(t, 200).JSON(t, &member)
		if member.UserID != dana.User.ID || member.OrgID != w.org.ID || member.Role != "contributor" || member.EmailAddress != "Dana@Example.test" {
			t.Errorf("new member %+v", member)
		}
		w.srv.Slug("GET", "/api/v1/invitations/me", dana.Key, nil).Want(t, 200).JSON(t, &mine)
		if len(mine) != 0 {
			t.Errorf("after responding dana still sees %+v", mine)
		}
		var orgs []dreadnode.Organization
		w.srv.Slug("GET", "/api/v1/user/organizations", dana.Key, nil).Want(t, 200).JSON(t, &orgs)
		if len(orgs) != 1 || orgs[0].Key != "acme" {
			t.Errorf("dana's organizations %+v", orgs)
		}
		var declinedList []dreadnode.Invitation
		w.srv.Slug("GET", "/api/v1/org/beta/invitations?status=declined", betaOwner.Key, nil).Want(t, 200).JSON(t, &declinedList)
		if len(declinedList) != 1 || declinedList[0].Email != "DANA@example.test" {
			t.Errorf("beta's declined list %+v", declinedList)
		}

		// An invitation revoked because its address became a member's tells
		// that member that they belong already; to anyone else, and when an
		// administrator revoked it, it does not exist.
		fay, gus := w.srv.User("fay@x.test", false), w.srv.User("gus@x.test", false)
		var fayInv, gusInv dreadnode.Invitation
		w.srv.Slug("POST", "/api/v1/org/acme/invitations", w.admin.Key, map[string]any{"email": "fay@x.test"}).Want(t, 200).JSON(t, &fayInv)
		w.srv.Slug("POST", "/api/v1/org/acme/invitations", w.admin.Key, map[string]any{"email": "gus@x.test"}).Want(t, 200).JSON(t, &gusInv)
		w.srv.Slug("DELETE", "/api/v1/org/acme/invitations/"+gusInv.ID, w.admin.Key, nil).Want(t, 200)
		for _, u := range []*orgd.User{fay.User, gus.User} {
			if _, err := w.srv.Svc.AddMember(t.Context(), orgd.SystemPrincipal, w.org.ID, u.ID, orgd.RoleReader); err != nil {
				t.Fatal(err)
			}
		}
		wantError(t, respond(fayInv.ID, fay, true), 409, orgd.CodeAlreadyMember)
		wantError(t, respond(fayInv.ID, w.reader, true), 404, orgd.CodeInviteNotFound)
		wantError(t, respond(fayInv.ID, w.outsider, true), 404, orgd.CodeInviteNotFound)
		wantError(t, respond(gusInv.ID, gus, true), 404, orgd.CodeInviteNotFound)

		// An expired invitation is refused with what to do next.
		eve := w.srv.User("eve@x.test", false)
		w.srv.Slug("POST", "/api/v1/org/acme/invitations", w.admin.Key, map[string]any{"email": "eve@x.test", "expires_in": "1h"}).Want(t, 200)
		w.srv.Slug("GET", "/api/v1/invitations/me", eve.Key, nil).Want(t, 200).JSON(t, &mine)
		w.srv.Clock.Advance(time.Hour)
		e := wantError(t, respond(mine[0].ID, eve, true), 400, orgd.CodeInviteExpired)
		if !strings.Contains(e.Detail, "resend") {
			t.Errorf("expired detail %q does not say what to do", e.Detail)
		}
	})
}

// TestOneOrganizationTwoViews invites on one surface and manages on the
// other, under the same rules and limits.
func TestOneOrganizationTwoViews(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url, func(l *orgd.Limits) { l.InvitesPerHour = 4 })
		elasticPath := "/api/v1/organizations/" + w.org.ID + "/invitations"

		// Elastic invites, the slug surface lists and revokes.
		w.srv.Elastic("POST", elasticPath, w.admin.Key, map[string]any{"emails": []string{"el@x.test"},
			"role_assignments": map[string]any{"organization": []map[string]any{{"role_id": "organization-admin"}}}}).Want(t, 201)
		var list []dreadnode.Invitation
		w.srv.Slug("GET", "/api/v1/org/acme/invitations", w.admin.Key, nil).Want(t, 200).JSON(t, &list)
		if len(list) != 1 || list[0].Email != "el@x.test" || list[0].Role != "organization-admin" {
			t.Fatalf("slug view of an Elastic invitation %+v", list)
		}
		w.srv.Slug("DELETE", "/api/v1/org/acme/invitations/"+list[0].ID, w.admin.Key, nil).Want(t, 200)
		var el struct {
			Invitations []struct{ Email string } `json:"invitations"`
		}
		w.srv.Elastic("GET", elasticPath, w.admin.Key, nil).Want(t, 200).JSON(t, &el)
		if len(el.Invitations) != 0 {
			t.Errorf("revoked on the slug surface, still listed on Elastic: %+v", el)
		}

		// The slug surface invites, the invitee accepts with the Elastic token endpoint.
		fay := w.srv.User("fay@x.test", false)
		var inv dreadnode.Invitation
		w.srv.Slug("POST", "/api/v1/org/acme/invitations", w.admin.Key, map[string]any{"email": "fay@x.test", "role": "contributor", "send_email": false}).
			Want(t, 200).JSON(t, &inv)
		token := strings.TrimPrefix(inv.AcceptURL, "http://orgd.test/invitations/")
		w.srv.Elastic("POST", "/api/v1/organizations/invitations/"+token+"/_accept", fay.Key, nil).Want(t, 200)
		var members []dreadnode.Member
		w.srv.Slug("GET", "/api/v1/org/acme/members", w.reader.Key, nil).Want(t, 200).JSON(t, &members)
		if last := members[len(members)-1]; last.UserID != fay.User.ID || last.Role != "contributor" {
			t.Errorf("slug view of the Elastic accept: %+v", last)
		}
		var em struct {
			Members []struct {
				UserID          string `json:"user_id"`
				RoleAssignments struct {
					Organization []struct {
						RoleID         string `json:"role_id"`
						OrganizationID string `json:"organization_id"`
					} `json:"organization"`
				} `json:"role_assignments"`
			} `json:"members"`
		}
		w.srv.Elastic("GET", "/api/v1/organizations/"+w.org.ID+"/members", w.reader.Key, nil).Want(t, 200).JSON(t, &em)
		if got := em.Members[len(em.Members)-1].RoleAssignments.Organization; len(got) != 1 || got[0].RoleID != "contributor" || got[0].OrganizationID != w.org.ID {
			t.Errorf("Elastic view of the slug role: %+v", got)
		}

		// One rate limit for both surfaces: 2 issued so far, the limit is 4.
		w.srv.Elastic("POST", elasticPath, w.admin.Key, map[string]any{"emails": []string{"g@x.test"}}).Want(t, 201)
		w.srv.Slug("POST", "/api/v1/org/acme/invitations", w.admin.Key, map[string]any{"email": "h@x.test"}).Want(t, 200)
		r := w.srv.Slug("POST", "/api/v1/org/acme/invitations", w.admin.Key, map[string]any{"email": "i@x.test"})
		wantError(t, r, 429, orgd.CodeInviteRateLimit)
		if r.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		r = w.srv.Elastic("POST", elasticPath, w.admin.Key, map[string]any{"emails": []string{"i@x.test"}}).Want(t, 429)
		if r.Header.Get("x-cloud-error-codes") != orgd.CodeInviteRateLimit {
			t.Errorf("Elastic 429 code %q", r.Header.Get("x-cloud-error-codes"))
		}
	})
}

func TestOrganizationSettingsApplyToBothSurfaces(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		w.srv.Slug("PATCH", "/api/v1/org/acme", w.platform.Key, map[string]any{
			"allow_external_invites": false, "allowed_email_domains": []string{"acme.test"}, "max_members": 7,
		}).Want(t, 200)
		wantError(t, w.srv.Slug("POST", "/api/v1/org/acme/invitations", w.admin.Key, map[string]any{"email": "x@gmail.test"}),
			422, orgd.CodeInviteDomain, "body", "email")
		r := w.srv.Elastic("POST", "/api/v1/organizations/"+w.org.ID+"/invitations", w.admin.Key, map[string]any{"emails": []string{"x@gmail.test"}}).Want(t, 400)
		if r.Header.Get("x-cloud-error-codes") != orgd.CodeInviteDomain {
			t.Errorf("Elastic domain refusal %s", r.Body)
		}
		// 5 members; two pending invitations fill the 7 seats.
		w.srv.Slug("POST", "/api/v1/org/acme/invitations", w.admin.Key, map[string]any{"email": "one@acme.test"}).Want(t, 200)
		w.srv.Elastic("POST", "/api/v1/organizations/"+w.org.ID+"/invitations", w.admin.Key, map[string]any{"emails": []string{"two@ACME.test"}}).Want(t, 201)
		e := wantError(t, w.srv.Slug("POST", "/api/v1/org/acme/invitations", w.admin.Key, map[string]any{"email": "three@acme.test"}), 409, orgd.CodeMemberLimit)
		if !strings.Contains(e.Detail, "at most 7") {
			t.Errorf("member limit detail %q", e.Detail)
		}
		w.srv.Elastic("POST", "/api/v1/organizations/"+w.org.ID+"/invitations", w.admin.Key, map[string]any{"emails": []string{"three@acme.test"}}).Want(t, 400)
	})
}

func TestUnknownPathsAndMethods(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		wantError(t, w.srv.Slug("GET", "/api/v1/nothing", w.owner.Key, nil), 404, orgd.CodeNotFound)
		r := w.srv.Slug("POST", "/api/v1/org/acme", w.owner.Key, nil)
		wantError(t, r, 405, orgd.CodeMethodNotAllowed)
		if r.Header.Get("Allow") != "GET, PATCH" {
			t.Errorf("Allow %q", r.Header.Get("Allow"))
		}
	})
}

// TestTextNoFieldTakes: a NUL, another control character or invalid UTF-8
// in a path, a filter or a one-line field is refused alike on every engine
// (PostgreSQL cannot store the first and the last), and nothing changes;
// a description keeps its line breaks.
func TestTextNoFieldTakes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		for _, tc := range []struct {
			name, method, path string
			body               any
			code               string
			loc                []any
		}{
			{"NUL in the organization", "GET", "/api/v1/org/a%00b", nil, "value_error", []any{"path"}},
			{"invalid UTF-8 in a member", "PUT", "/api/v1/org/acme/members/a%ffb", map[string]any{"role": "reader"}, "value_error", []any{"path"}},
			{"NUL in a filter", "GET", "/api/v1/org/acme/members?email=a%00@b.c", nil, "value_error", []any{"query", "email"}},
			{"invalid UTF-8 in a filter", "GET", "/api/v1/org/acme/invitations?inviter=%ff", nil, "value_error", []any{"query", "inviter"}},
			{"NUL in an audit cursor", "GET", "/api/v1/org/acme/audit-log?before=%00", nil, "value_error", []any{"query", "before"}},
			{"NUL in the description", "PATCH", "/api/v1/org/acme", map[string]any{"description": "x\x00y"}, "json_invalid", []any{"body"}},
			{"a bell in the description", "PATCH", "/api/v1/org/acme", map[string]any{"description": "x\ay"}, orgd.CodeInvalidData, []any{"body", "description"}},
			{"a line break in a key name", "POST", "/api/v1/user/api-keys", map[string]any{"name": "k\nx"}, orgd.CodeInvalidData, []any{"body", "name"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := snapshot(t, w.srv, w.org, w.owner.User.ID)
				r := w.srv.Slug(tc.method, tc.path, w.owner.Key, tc.body)
				wantError(t, r, 422, tc.code, tc.loc...)
				if after := snapshot(t, w.srv, w.org, w.owner.User.ID); after != before {
					t.Errorf("a refused request changed state:\n%s\nthen\n%s", before, after)
				}
			})
		}
		r := w.srv.Slug("PATCH", "/api/v1/org/acme", w.owner.Key, map[string]any{"description": "line one\nline two\ttabbed"})
		if r.Status != 200 {
			t.Fatalf("a description with line breaks: %d %s", r.Status, r.Body)
		}
	})
}

// snapshot is everything a refused request must leave as it was: the
// organization, its members, invitations and webhook endpoints, and the API
// keys of user.
func snapshot(t *testing.T, srv *apitest.Server, org *orgd.Organization, user string) string {
	t.Helper()
	ctx := t.Context()
	v, err := srv.Svc.GetOrganization(ctx, orgd.SystemPrincipal, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	members, err := srv.Svc.ListMembers(ctx, orgd.SystemPrincipal, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, invs, err := srv.Svc.ListInvitations(ctx, orgd.SystemPrincipal, org.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(v.Name + "|" + v.Description + "\n")
	for _, m := range members {
		b.WriteString(m.UserID + " " + string(m.Role) + "\n")
	}
	for _, inv := range invs {
		b.WriteString(inv.Email + " " + string(inv.Status) + " " + inv.TokenHash + "\n")
	}
	hooks, err := srv.Svc.ListWebhookEndpoints(ctx, orgd.SystemPrincipal, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hooks {
		b.WriteString("webhook " + h.ID + " " + h.URL + "\n")
	}
	keys, err := srv.Svc.ListAPIKeys(ctx, orgd.SystemPrincipal, user)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		b.WriteString(k.ID + " revoked " + k.RevokedAt.String() + "\n")
	}
	return b.String()
}

// TestPermissions walks every route of the slug surface with every kind of
// caller, each on an organization of its own, and checks the status and
// that a refused request changed nothing.
func TestPermissions(t *testing.T) {
	type cell struct {
		status int
		code   string
	}
	ok := cell{200, ""}
	unauth := cell{401, orgd.CodeUnauthorized}
	missing := cell{404, orgd.CodeOrgNotFound}
	denied := cell{403, orgd.CodeOrgInvalidAccess}
	// callers are the columns of the table, and a revoked key, an expired
	// JWT and a JWT from an issuer orgd does not trust, which must all be
	// answered exactly as a bad key.
	callers := []string{"anonymous", "bad key", "revoked key", "expired JWT", "JWT from another issuer", "outsider", "reader", "contributor", "billing-admin", "organization-admin", "owner", "platform-admin"}
	// row returns the cells of a route, in the order of callers, given those
	// of every caller but the revoked key.
	row := func(cells ...cell) []cell {
		return append(cells[:2:2], append([]cell{cells[1], cells[1], cells[1]}, cells[2:]...)...)
	}
	anyone := row(ok, ok, ok, ok, ok, ok, ok, ok, ok)
	signedIn := row(unauth, unauth, ok, ok, ok, ok, ok, ok, ok)
	members := row(unauth, unauth, missing, ok, ok, ok, ok, ok, ok)
	managers := row(unauth, unauth, missing, denied, denied, denied, ok, ok, ok)
	expect := map[string][]cell{
		"health_check":                  anyone,
		"get_user":                      signedIn,
		"list_user_organizations":       signedIn,
		"list_my_pending_invitations":   signedIn,
		"get_organization":              members,
		"list_organization_members":     members,
		"update_organization":           managers,
		"update_organization_member":    managers,
		"remove_organization_member":    managers,
		"list_organization_invitations": managers,
		"revoke_invitation":             managers,
		"resend_invitation":             managers,
		"invite_to_organization":        row(unauth, unauth, cell{404, orgd.CodeSenderNotMember}, denied, denied, denied, ok, ok, ok),
		"list_api_keys":                 signedIn,
		"create_api_key":                signedIn,
		"revoke_self_api_key":           signedIn,
		"list_organization_audit_log":   managers,
		"create_webhook_endpoint":       managers,
		"list_webhook_endpoints":        managers,
		"delete_webhook_endpoint":       managers,
		"list_audit_log":                row(unauth, unauth, denied, denied, denied, denied, denied, denied, ok),
		// Keys are their owner's: to anyone else but platform administrators they do not exist.
		"revoke_api_key": row(unauth, unauth, cell{404, orgd.CodeKeyNotFound}, cell{404, orgd.CodeKeyNotFound}, cell{404, orgd.CodeKeyNotFound},
			cell{404, orgd.CodeKeyNotFound}, cell{404, orgd.CodeKeyNotFound}, cell{404, orgd.CodeKeyNotFound}, ok),
		// Only the invitee may respond; to anyone else the invitation does not exist.
		"respond_to_invitation": row(unauth, unauth, cell{404, orgd.CodeInviteNotFound}, cell{404, orgd.CodeInviteNotFound},
			cell{404, orgd.CodeInviteNotFound}, cell{404, orgd.CodeInviteNotFound}, cell{404, orgd.CodeInviteNotFound},
			cell{404, orgd.CodeInviteNotFound}, cell{404, orgd.CodeInviteNotFound}),
	}
	testdb.Each(t, func(t *testing.T, url string) {
		clock := apitest.NewClock()
		trusted, foreign := oidctest.Start(t, clock.Now), oidctest.Start(t, clock.Now)
		srv := apitest.StartWith(t, url, apitest.Setup{Clock: clock, Tokens: trusted.Trust(t)})
		platform := srv.User("root@orgd.test", true)
		outsider := srv.User("outsider@else.test", false)
		freshKey := func(u *orgd.User) string {
			k, err := srv.Svc.CreateAPIKey(t.Context(), orgd.SystemPrincipal, u.ID, "cell", "")
			if err != nil {
				t.Fatal(err)
			}
			return k.Secret
		}
		n := 0
		for _, rt := range dreadnode.Routes {
			want, found := expect[rt.Operation]
			if !found {
				t.Errorf("route %s %s (%s) has no row in the permission table", rt.Method, rt.Path, rt.Operation)
				continue
			}
			for i, who := range callers {
				n++
				// Each cell gets an organization of its own.
				slug := "org-" + strings.Repeat("x", 0) + string(rune('a'+n%26)) + strings.ReplaceAll(time.Duration(n).String(), "ns", "")
				org := srv.Org("Org "+slug, slug)
				id := func(role string) string { return role + "-" + slug + "@acme.test" }
				// Fresh keys for the shared callers: a cell may revoke the key it uses.
				revoked := freshKey(platform.User)
				if err := srv.Svc.RevokeAPIKeys(t.Context(), orgd.SystemPrincipal, []string{mustKeyID(t, srv, revoked)}); err != nil {
					t.Fatal(err)
				}
				// Real tokens for a platform administrator: one expired (past the
				// minute of clock skew), one signed by an untrusted issuer.
				expired := trusted.Claims("sub-"+slug, "root@orgd.test", true)
				now := expired["iat"].(int64)
				expired["exp"], expired["iat"], expired["nbf"] = now-61, now-3600, now-3600
				keys := map[string]string{"anonymous": "", "bad key": "orgd_not-a-key", "revoked key": revoked,
					"expired JWT": trusted.Sign(expired), "JWT from another issuer": foreign.Token("sub-"+slug, "root@orgd.test", true),
					"outsider": freshKey(outsider.User), "platform-admin": freshKey(platform.User)}
				for _, role := range []orgd.Role{orgd.RoleOwner, orgd.RoleOrgAdmin, orgd.RoleBillingAdmin, orgd.RoleContributor, orgd.RoleReader} {
					keys[string(role)] = srv.Member(org, id(string(role)), role).Key
				}
				target := srv.Member(org, id("target"), orgd.RoleReader)
				_, issued, err := srv.Svc.CreateInvitations(t.Context(), orgd.SystemPrincipal, org.ID,
					orgd.InviteRequest{Emails: []string{id("invitee")}, RefreshExisting: true})
				if err != nil {
					t.Fatal(err)
				}
				srv.Clock.Advance(61 * time.Second) // past the resend cooldown
				targetKey, err := srv.Svc.CreateAPIKey(t.Context(), orgd.SystemPrincipal, target.User.ID, "target", "")
				if err != nil {
					t.Fatal(err)
				}
				hook, err := srv.Svc.CreateWebhookEndpoint(t.Context(), orgd.SystemPrincipal, org.ID, orgd.WebhookEndpointRequest{URL: "https://hooks.example.test/" + slug})
				if err != nil {
					t.Fatal(err)
				}
				path := strings.NewReplacer("{org}", slug, "{user_id}", target.User.ID, "{invitation_id}", issued[0].ID, "{key_id}", targetKey.ID,
					"{webhook_id}", hook.ID).Replace(rt.Path)
				var body any
				switch rt.Operation {
				case "update_organization":
					body = map[string]any{"name": "Renamed"}
				case "update_organization_member":
					body = map[string]any{"role": "contributor"}
				case "invite_to_organization":
					body = map[string]any{"email": id("new")}
				case "respond_to_invitation":
					body = map[string]any{"accept": true}
				case "create_api_key":
					body = map[string]any{"name": "new"}
				case "create_webhook_endpoint":
					body = map[string]any{"url": "https://hooks.example.test/new"}
				}
				before := snapshot(t, srv, org, target.User.ID)
				r := srv.Slug(rt.Method, path, keys[who], body)
				if r.Status != want[i].status {
					t.Errorf("%s as %s: status %d, want %d (%s)", rt.Operation, who, r.Status, want[i].status, r.Body)
					continue
				}
				if r.Status >= 400 {
					var e envelope
					r.JSON(t, &e)
					if len(e.Errors) == 0 || e.Errors[0].Type != want[i].code {
						t.Errorf("%s as %s: %s, want code %s", rt.Operation, who, r.Body, want[i].code)
					}
					if after := snapshot(t, srv, org, target.User.ID); after != before {
						t.Errorf("%s as %s was refused but changed the organization:\n%s\n->\n%s", rt.Operation, who, before, after)
					}
				}
			}
		}
	})
}

var _ = http.StatusOK

// mustKeyID finds the id of the key whose secret is secret.
func mustKeyID(t *testing.T, srv *apitest.Server, secret string) string {
	t.Helper()
	var id string
	err := srv.Store.DB().QueryRow(`SELECT id FROM api_keys WHERE hash = $1`, orgd.HashSecret(secret)).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestSettingTheSameRoleRecordsNothing: a PUT of the role a member already
// has answers the member and writes no audit event (so no
// member.roles_changed webhook either); the last owner may be "set" to
// owner too.
func TestSettingTheSameRoleRecordsNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		before := w.auditEvents(t)
		base := "/api/v1/org/acme/members/"
		var m dreadnode.Member
		w.srv.Slug("PUT", base+w.reader.User.ID, w.admin.Key, map[string]any{"role": "reader"}).Want(t, 200).JSON(t, &m)
		if m.Role != "reader" || m.UserID != w.reader.User.ID {
			t.Errorf("member %+v", m)
		}
		w.srv.Slug("PUT", base+w.owner.User.ID, w.owner.Key, map[string]any{"role": "owner"}).Want(t, 200).JSON(t, &m)
		if m.Role != "owner" {
			t.Errorf("owner %+v", m)
		}
		if diff := cmp.Diff(before, w.auditEvents(t)); diff != "" {
			t.Errorf("setting the same role was recorded (-before +after):\n%s", diff)
		}
		// A real change is still recorded.
		w.srv.Slug("PUT", base+w.reader.User.ID, w.admin.Key, map[string]any{"role": "contributor"}).Want(t, 200)
		if got := w.auditEvents(t); len(got) != len(before)+1 || got[0].Action != orgd.AuditMemberRolesChanged {
			t.Errorf("a role change wrote %d events, want 1", len(got)-len(before))
		}
	})
}

// TestAnUpdateRecordsWhatItChanges: an update of values the organization
// already has, through either surface, answers it and changes and records
// nothing (not even updated_at); the event of an update names only the
// fields whose value changed.
func TestAnUpdateRecordsWhatItChanges(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		var org, same dreadnode.Organization
		w.srv.Slug("GET", "/api/v1/org/acme", w.admin.Key, nil).Want(t, 200).JSON(t, &org)
		before := w.auditEvents(t)
		w.srv.Clock.Advance(time.Minute)
		w.srv.Slug("PATCH", "/api/v1/org/acme", w.admin.Key, map[string]any{
			"name": " Acme ", "description": "", "allow_external_invites": true, "allowed_email_domains": []string{},
		}).Want(t, 200).JSON(t, &same)
		w.srv.Slug("PATCH", "/api/v1/org/acme", w.platform.Key, map[string]any{"max_members": org.MaxMembers}).Want(t, 200)
		w.srv.Elastic("PUT", "/api/v1/organizations/"+w.org.ID, w.owner.Key, map[string]any{"name": "Acme", "billing_contacts": []string{}}).Want(t, 200)
		if diff := cmp.Diff(org, same); diff != "" {
			t.Errorf("an update of the values it has changed the organization (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff(before, w.auditEvents(t)); diff != "" {
			t.Errorf("an update of the values it has was recorded (-before +after):\n%s", diff)
		}
		w.srv.Slug("PATCH", "/api/v1/org/acme", w.admin.Key, map[string]any{"name": "Acme", "description": "We make things"}).Want(t, 200)
		got := w.auditEvents(t)
		if len(got) != len(before)+1 || got[0].Action != orgd.AuditOrgUpdated || fmt.Sprint(got[0].Details["fields"]) != "[description]" {
			t.Errorf("a change of the description and the same name wrote %d events, the last %+v; want one naming the description", len(got)-len(before), got[0])
		}
	})
}

// TestNullInPatch: in PATCH /org/{org} an absent field is left as it is,
// and null means what it means to a pydantic model applied with
// model_dump(exclude_unset=True): it clears the description (str | null in
// Organization), with one audit event and none when there is nothing to
// clear, and is refused by name, changing nothing, for the fields that are
// not nullable. Callers who may not change the settings are refused a null
// as any other value.
func TestNullInPatch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		const path = "/api/v1/org/acme"
		var org dreadnode.Organization
		w.srv.Slug("PATCH", path, w.admin.Key, map[string]any{"description": "We make things"}).Want(t, 200).JSON(t, &org)
		before := w.auditEvents(t)
		unchanged := func(what string) {
			t.Helper()
			var now dreadnode.Organization
			w.srv.Slug("GET", path, w.admin.Key, nil).Want(t, 200).JSON(t, &now)
			if diff := cmp.Diff(org, now); diff != "" {
				t.Errorf("%s changed the organization (-before +after):\n%s", what, diff)
			}
			if diff := cmp.Diff(before, w.auditEvents(t)); diff != "" {
				t.Errorf("%s was recorded (-before +after):\n%s", what, diff)
			}
		}

		nullDescription := map[string]any{"description": nil}
		for _, c := range []struct {
			who    string
			key    string
			status int
			code   string
		}{
			{"anonymous", "", 401, orgd.CodeUnauthorized},
			{"outsider", w.outsider.Key, 404, orgd.CodeOrgNotFound},
			{"reader", w.reader.Key, 403, orgd.CodeOrgInvalidAccess},
			{"contributor", w.contributor.Key, 403, orgd.CodeOrgInvalidAccess},
			{"billing-admin", w.billing.Key, 403, orgd.CodeOrgInvalidAccess},
		} {
			wantError(t, w.srv.Slug("PATCH", path, c.key, nullDescription), c.status, c.code)
			unchanged("a null description sent by the " + c.who)
		}

		// Null for a field that is not nullable is pydantic's type error.
		notNullable := []dreadnode.ErrorEntry{
			{Loc: []any{"body", "name"}, Msg: "Input should be a valid string", Type: "string_type"},
			{Loc: []any{"body", "allow_external_invites"}, Msg: "Input should be a valid boolean", Type: "bool_type"},
			{Loc: []any{"body", "allowed_email_domains"}, Msg: "Input should be a valid list", Type: "list_type"},
			{Loc: []any{"body", "max_members"}, Msg: "Input should be a valid integer", Type: "int_type"},
		}
		all := map[string]any{"description": nil}
		for _, want := range notNullable {
			field := want.Loc[1].(string)
			all[field] = nil
			e := wantError(t, w.srv.Slug("PATCH", path, w.platform.Key, map[string]any{field: nil}), 422, want.Type, "body", field)
			if diff := cmp.Diff([]dreadnode.ErrorEntry{want}, e.Errors); diff != "" {
				t.Errorf("null %s (-want +got):\n%s", field, diff)
			}
		}
		e := wantError(t, w.srv.Slug("PATCH", path, w.platform.Key, all), 422, "string_type", "body", "name")
		if diff := cmp.Diff(notNullable, e.Errors); diff != "" {
			t.Errorf("every field null (-want +got):\n%s", diff)
		}
		// A list's items are list[str]'s: null, like a number, is refused
		// at its index.
		e = wantError(t, w.srv.Slug("PATCH", path, w.owner.Key, map[string]any{"allowed_email_domains": []any{"acme.test", nil, 5}}),
			422, "string_type", "body", "allowed_email_domains", 1)
		for i := range e.Errors {
			e.Errors[i].Loc = normalizeLoc(e.Errors[i].Loc)
		}
		notString := func(i int) dreadnode.ErrorEntry {
			return dreadnode.ErrorEntry{Loc: []any{"body", "allowed_email_domains", i}, Msg: "Input should be a valid string", Type: "string_type"}
		}
		if diff := cmp.Diff([]dreadnode.ErrorEntry{notString(1), notString(2)}, e.Errors); diff != "" {
			t.Errorf("a list with a null and a number (-want +got):\n%s", diff)
		}
		unchanged("a refused null")

		// Null clears the description, once.
		var cleared dreadnode.Organization
		w.srv.Slug("PATCH", path, w.admin.Key, nullDescription).Want(t, 200).JSON(t, &cleared)
		if cleared.Description != nil {
			t.Errorf("after a null description: %+v", cleared)
		}
		org.Description, org.UpdatedAt = nil, cleared.UpdatedAt
		if diff := cmp.Diff(org, cleared); diff != "" {
			t.Errorf("a null description changed more (-want +got):\n%s", diff)
		}
		got := w.auditEvents(t)
		if len(got) != len(before)+1 || got[0].Action != orgd.AuditOrgUpdated || fmt.Sprint(got[0].Details["fields"]) != "[description]" {
			t.Fatalf("clearing the description wrote %d events, the last %+v; want one naming the description", len(got)-len(before), got[0])
		}
		before = got
		w.srv.Slug("PATCH", path, w.owner.Key, nullDescription).Want(t, 200)
		unchanged("clearing an empty description")

		// Absent leaves it: a rename keeps a description.
		w.srv.Slug("PATCH", path, w.admin.Key, map[string]any{"description": "Again"}).Want(t, 200)
		w.srv.Slug("PATCH", path, w.admin.Key, map[string]any{"name": "Acme Labs"}).Want(t, 200).JSON(t, &org)
		if org.Name != "Acme Labs" || org.Description == nil || *org.Description != "Again" {
			t.Errorf("a rename: %+v", org)
		}
	})
}

// TestNullInBodies: in the POST and PUT bodies null means what it means to
// a pydantic request model. A nullable field (`T | None = None`) takes null
// as absent: expires_in is the default lifetime (an invitation's previous
// one on a resend, none for a key), a webhook's events every type and its
// description none. Every other field refuses null with its type's error,
// whether it has a default (role, send_email) or is required (a required
// field is missing only when left out), and the refused request changes
// nothing.
func TestNullInBodies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		const invitations = "/api/v1/org/acme/invitations"
		dana := w.srv.User("dana@x.test", false)
		var forDana dreadnode.Invitation
		w.srv.Slug("POST", invitations, w.admin.Key, map[string]any{"email": "dana@x.test", "expires_in": "1h"}).Want(t, 200).JSON(t, &forDana)
		allEvents := func() []*orgd.AuditEvent {
			evs, err := w.srv.Svc.ListAuditEvents(t.Context(), orgd.SystemPrincipal, "", orgd.AuditQuery{Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			return evs
		}
		before := allEvents()

		entry := func(field, typ, msg string) dreadnode.ErrorEntry {
			return dreadnode.ErrorEntry{Loc: []any{"body", field}, Msg: msg, Type: typ}
		}
		str := func(field string) dreadnode.ErrorEntry {
			return entry(field, "string_type", "Input should be a valid string")
		}
		boolean := func(field string) dreadnode.ErrorEntry {
			return entry(field, "bool_type", "Input should be a valid boolean")
		}
		role := entry("role", "enum", "Input should be 'owner', 'contributor' or 'reader'")
		for _, c := range []struct {
			path   string
			caller *apitest.Caller
			body   map[string]any
			want   []dreadnode.ErrorEntry
		}{
			{"/api/v1/org/acme/members/" + w.reader.User.ID, w.admin, map[string]any{"role": nil}, []dreadnode.ErrorEntry{role}},
			{invitations, w.admin, map[string]any{"email": nil}, []dreadnode.ErrorEntry{str("email")}},
			{invitations, w.admin, map[string]any{"email": "new@x.test", "role": nil}, []dreadnode.ErrorEntry{role}},
			{invitations, w.admin, map[string]any{"email": "new@x.test", "role": 5}, []dreadnode.ErrorEntry{role}},
			{invitations, w.admin, map[string]any{"email": "new@x.test", "send_email": nil}, []dreadnode.ErrorEntry{boolean("send_email")}},
			{invitations, w.admin, map[string]any{"email": nil, "role": nil, "send_email": nil, "expires_in": nil},
				[]dreadnode.ErrorEntry{str("email"), role, boolean("send_email")}},
			{invitations + "/" + forDana.ID + "/resend", w.admin, map[string]any{"send_email": nil, "expires_in": nil},
				[]dreadnode.ErrorEntry{boolean("send_email")}},
			{"/api/v1/invitations/" + forDana.ID + "/respond", dana, map[string]any{"accept": nil}, []dreadnode.ErrorEntry{boolean("accept")}},
			{"/api/v1/user/api-keys", w.admin, map[string]any{"name": nil, "expires_in": nil}, []dreadnode.ErrorEntry{str("name")}},
			{"/api/v1/org/acme/webhooks", w.admin, map[string]any{"url": nil, "events": nil, "description": nil}, []dreadnode.ErrorEntry{str("url")}},
		} {
			method := "POST"
			if strings.Contains(c.path, "/members/") {
				method = "PUT"
			}
			r := w.srv.Slug(method, c.path, c.caller.Key, c.body)
			if r.Status != 422 {
				t.Errorf("%s %s %v: status %d, want 422; answer %s", method, c.path, c.body, r.Status, r.Body)
				continue
			}
			var e envelope
			r.JSON(t, &e)
			if diff := cmp.Diff(c.want, e.Errors); diff != "" {
				t.Errorf("%s %s %v (-want +got):\n%s", method, c.path, c.body, diff)
			}
		}
		if diff := cmp.Diff(before, allEvents()); diff != "" {
			t.Errorf("a refused null changed something (-before +after):\n%s", diff)
		}

		// Nullable fields: null is as absent.
		var inv dreadnode.Invitation
		w.srv.Slug("POST", invitations, w.admin.Key, map[string]any{"email": "ann@x.test", "expires_in": nil}).Want(t, 200).JSON(t, &inv)
		if got := lifetime(t, inv.CreatedAt, inv.ExpiresAt); got != 72*time.Hour || inv.Role != "reader" || inv.EmailStatus != "queued" {
			t.Errorf("an invitation with a null expires_in: %+v, lifetime %s", inv, got)
		}
		w.srv.Clock.Advance(61 * time.Second)
		w.srv.Slug("POST", invitations+"/"+forDana.ID+"/resend", w.admin.Key, map[string]any{"expires_in": nil}).Want(t, 200).JSON(t, &inv)
		if got := lifetime(t, inv.CreatedAt, inv.ExpiresAt); inv.ID != forDana.ID || got < time.Hour || got > time.Hour+2*time.Minute {
			t.Errorf("a resend with a null expires_in: %+v, lifetime since creation %s", inv, got)
		}
		var key dreadnode.APIKey
		w.srv.Slug("POST", "/api/v1/user/api-keys", w.admin.Key, map[string]any{"name": "ci", "expires_in": nil}).Want(t, 200).JSON(t, &key)
		if key.Name != "ci" || key.ExpiresAt != nil {
			t.Errorf("a key with a null expires_in: %+v", key)
		}
		var hook dreadnode.WebhookEndpoint
		w.srv.Slug("POST", "/api/v1/org/acme/webhooks", w.admin.Key, map[string]any{"url": "https://hooks.example.test/x", "events": nil, "description": nil}).
			Want(t, 200).JSON(t, &hook)
		if len(hook.Events) != 0 || hook.Description != nil {
			t.Errorf("an endpoint registered with nulls: %+v", hook)
		}
	})
}

// TestUnknownFieldsAreIgnored: a field a body does not take is ignored on
// both surfaces, as pydantic's default model config does: fields of the
// answer that cannot be set (key) change nothing, and a body of only
// unknown fields is an empty one.
func TestUnknownFieldsAreIgnored(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		var org dreadnode.Organization
		w.srv.Slug("PATCH", "/api/v1/org/acme", w.admin.Key, map[string]any{"name": "Acme Labs", "key": "other", "no_such_field": 1}).
			Want(t, 200).JSON(t, &org)
		if org.Name != "Acme Labs" || org.Key != "acme" {
			t.Errorf("a PATCH with unknown fields: %+v", org)
		}
		before := w.auditEvents(t)
		w.srv.Slug("PATCH", "/api/v1/org/acme", w.admin.Key, map[string]any{"no_such_field": nil}).Want(t, 200)
		if diff := cmp.Diff(before, w.auditEvents(t)); diff != "" {
			t.Errorf("a PATCH of only unknown fields was recorded (-before +after):\n%s", diff)
		}
		w.srv.Slug("POST", "/api/v1/org/acme/invitations", w.admin.Key, map[string]any{"email": "new@acme.test", "no_such_field": true}).Want(t, 200)
		var el struct {
			Name string `json:"name"`
		}
		w.srv.Elastic("PUT", "/api/v1/organizations/"+w.org.ID, w.owner.Key, map[string]any{"name": "Acme Co", "no_such_field": map[string]any{"x": 1}}).
			Want(t, 200).JSON(t, &el)
		if el.Name != "Acme Co" {
			t.Errorf("an Elastic update with an unknown field: %+v", el)
		}
	})
}

// TestIDsInUpperCase: a UUID is the same id in upper case (RFC 9562; Dreadnode's
// own example of respond_to_invitation is one, and Swift writes them so):
// every route that names an organization, member, invitation, webhook or
// key by id finds it.
func TestIDsInUpperCase(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		up := strings.ToUpper
		var org dreadnode.Organization
		w.srv.Slug("GET", "/api/v1/org/"+up(w.org.ID), w.reader.Key, nil).Want(t, 200).JSON(t, &org)
		if org.ID != w.org.ID {
			t.Errorf("organization %+v", org)
		}
		base := "/api/v1/org/" + up(w.org.ID)
		var m dreadnode.Member
		w.srv.Slug("PUT", base+"/members/"+up(w.reader.User.ID), w.admin.Key, map[string]any{"role": "contributor"}).Want(t, 200).JSON(t, &m)
		if m.UserID != w.reader.User.ID || m.Role != "contributor" {
			t.Errorf("member %+v", m)
		}
		w.srv.Slug("DELETE", base+"/members/"+up(w.contributor.User.ID), w.contributor.Key, nil).Want(t, 200) // leaving

		dana := w.srv.User("dana@example.test", false)
		var inv dreadnode.Invitation
		w.srv.Slug("POST", base+"/invitations", w.admin.Key, map[string]any{"email": "dana@example.test"}).Want(t, 200).JSON(t, &inv)
		w.srv.Clock.Advance(61 * time.Second)
		w.srv.Slug("POST", base+"/invitations/"+up(inv.ID)+"/resend", w.admin.Key, nil).Want(t, 200)
		w.srv.Slug("POST", "/api/v1/invitations/"+up(inv.ID)+"/respond", dana.Key, map[string]any{"accept": true}).Want(t, 200)
		w.srv.Slug("POST", base+"/invitations", w.admin.Key, map[string]any{"email": "erin@example.test"}).Want(t, 200).JSON(t, &inv)
		w.srv.Slug("DELETE", base+"/invitations/"+up(inv.ID), w.admin.Key, nil).Want(t, 200)

		var hook dreadnode.WebhookEndpoint
		w.srv.Slug("POST", base+"/webhooks", w.admin.Key, map[string]any{"url": "https://hooks.example.test/x"}).Want(t, 200).JSON(t, &hook)
		w.srv.Slug("DELETE", base+"/webhooks/"+up(hook.ID), w.admin.Key, nil).Want(t, 200)
		var key dreadnode.APIKey
		w.srv.Slug("POST", "/api/v1/user/api-keys", w.reader.Key, map[string]any{"name": "spare"}).Want(t, 200).JSON(t, &key)
		w.srv.Slug("DELETE", "/api/v1/user/api-keys/"+up(key.ID), w.reader.Key, nil).Want(t, 200)
	})
}
