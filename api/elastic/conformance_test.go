package elastic_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elastic/cloud-sdk-go/pkg/api"
	"github.com/elastic/cloud-sdk-go/pkg/api/apierror"
	"github.com/elastic/cloud-sdk-go/pkg/api/organizationapi"
	"github.com/elastic/cloud-sdk-go/pkg/auth"
	"github.com/elastic/cloud-sdk-go/pkg/client/organizations"
	"github.com/elastic/cloud-sdk-go/pkg/client/user_role_assignments"
	"github.com/elastic/cloud-sdk-go/pkg/models"
	"github.com/go-openapi/runtime"
	"github.com/go-openapi/strfmt"
	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
)

// The conformance suite drives orgd with Elastic's own Go client,
// cloud-sdk-go v1.25.0: its generated operations (which accept only the
// statuses the spec lists) and the organizationapi helpers that the ec
// Terraform provider calls.

// noAuth sends no Authorization header.
type noAuth struct{}

func (noAuth) AuthenticateRequest(runtime.ClientRequest, strfmt.Registry) error { return nil }
func (noAuth) AuthRequest(r *http.Request) *http.Request                        { return r }

// sdk returns a cloud-sdk-go client of srv that sends key ("" for none).
// api.NewAPI sets a package-level timeout of go-openapi, so tests that call
// it must not run in parallel.
func sdk(t *testing.T, srv *apitest.Server, key string) *api.API {
	t.Helper()
	var w auth.Writer = noAuth{}
	if key != "" {
		w = auth.APIKey(key)
	}
	// The server's transport checks every answer against the OpenAPI document.
	a, err := api.NewAPI(api.Config{Client: &http.Client{Transport: srv.HTTP.Transport}, Host: srv.URL, AuthWriter: w})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// cloudError is what every typed error response of the generated client has.
type cloudError interface {
	error
	Code() int
	GetPayload() *models.BasicFailedReply
}

// sdkError returns a check that err is (or wraps) a T whose body's first
// code and x-cloud-error-codes header (where the type has one) are code.
func sdkError[T cloudError](code string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var e T
		if !errors.As(err, &e) {
			t.Errorf("got %T (%v), want %T", err, err, e)
			return
		}
		var codes []string
		for _, el := range e.GetPayload().Errors {
			codes = append(codes, *el.Code)
		}
		if len(codes) == 0 || codes[0] != code {
			t.Errorf("%T codes %v, want %s first", e, codes, code)
		}
		if h := reflect.ValueOf(e).Elem().FieldByName("XCloudErrorCodes"); h.IsValid() && h.String() != code {
			t.Errorf("%T XCloudErrorCodes %q, want %q", e, h.String(), code)
		}
	}
}

// untypedError returns a check for an error status the spec does not list
// for the operation: the client returns a *runtime.APIError, and its
// organizationapi helpers put the code in the message users see.
func untypedError(status int, code string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var e *runtime.APIError
		if !errors.As(err, &e) || e.Code != status || !strings.Contains(err.Error(), code) {
			t.Errorf("got %T %q, want a %d runtime.APIError that says %s", err, err, status, code)
		}
	}
}

const unknownID = "01936f6e-0000-7000-8000-000000000000"

func orgModel(o *orgd.Organization) *models.Organization {
	return &models.Organization{
		ID: new(o.ID), Name: new(o.Name), DefaultDiskUsageAlertsEnabled: new(o.DiskUsageAlerts),
		BillingContacts: nonNil(o.BillingContacts), OperationalContacts: nonNil(o.OperationalContacts),
		NotificationsAllowedEmailDomains: nonNil(o.NotificationDomains),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// roleSet is a RoleAssignments as sorted lines of JSON, one per assignment,
// with every id list sorted and a missing `all` read as false (as the ec
// Terraform provider compares them), so that two sets that mean the same
// are equal whatever their order.
func roleSet(ra *models.RoleAssignments) []string {
	if ra == nil {
		return nil
	}
	var out []string
	add := func(kind string, v any) {
		b, _ := json.Marshal(v)
		out = append(out, kind+" "+string(b))
	}
	sorted := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return slices.Sorted(slices.Values(s))
	}
	all := func(b *bool) *bool { return new(b != nil && *b) }
	for _, a := range ra.Platform {
		add("platform", a)
	}
	for _, a := range ra.Organization {
		add("organization", a)
	}
	for _, a := range ra.Deployment {
		add("deployment", models.DeploymentRoleAssignment{RoleID: a.RoleID, OrganizationID: a.OrganizationID, All: all(a.All),
			DeploymentIds: sorted(a.DeploymentIds), ApplicationRoles: sorted(a.ApplicationRoles)})
	}
	if p := ra.Project; p != nil {
		for kind, list := range map[string][]*models.ProjectRoleAssignment{"elasticsearch": p.Elasticsearch, "observability": p.Observability, "security": p.Security} {
			for _, a := range list {
				add(kind, models.ProjectRoleAssignment{RoleID: a.RoleID, OrganizationID: a.OrganizationID, All: all(a.All),
					ProjectIds: sorted(a.ProjectIds), ApplicationRoles: sorted(a.ApplicationRoles)})
			}
		}
	}
	slices.Sort(out)
	return out
}

func wantRoles(t *testing.T, what string, want, got *models.RoleAssignments) {
	t.Helper()
	if diff := cmp.Diff(roleSet(want), roleSet(got)); diff != "" {
		t.Errorf("%s role assignments (-want +got):\n%s", what, diff)
	}
}

func orgRoleModel(role string, orgID *string) *models.OrganizationRoleAssignment {
	return &models.OrganizationRoleAssignment{RoleID: new(role), OrganizationID: orgID}
}

func findInvitation(invs []*models.OrganizationInvitation, email string) *models.OrganizationInvitation {
	for _, inv := range invs {
		if strings.EqualFold(*inv.Email, email) {
			return inv
		}
	}
	return nil
}

func findMember(ms []*models.OrganizationMembership, userID string) *models.OrganizationMembership {
	for _, m := range ms {
		if *m.UserID == userID {
			return m
		}
	}
	return nil
}

// must returns a function that fails the test if err is set, and otherwise
// returns v: must(call())(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// invitations is the owner's view of one organization through the SDK.
type invitations struct {
	t     *testing.T
	c     *api.API
	orgID string
}

func (iv invitations) create(ra *models.RoleAssignments, emails ...string) (*models.OrganizationInvitations, error) {
	return organizationapi.CreateInvitation(organizationapi.CreateInvitationParams{API: iv.c, OrganizationID: iv.orgID,
		Emails: emails, ExpiresIn: "7d", RoleAssignments: ra})
}

func (iv invitations) mustCreate(ra *models.RoleAssignments, email string) *models.OrganizationInvitation {
	iv.t.Helper()
	return must(iv.create(ra, email))(iv.t).Invitations[0]
}

func (iv invitations) list() []*models.OrganizationInvitation {
	iv.t.Helper()
	return must(organizationapi.ListInvitations(organizationapi.ListInvitationsParams{API: iv.c, OrganizationID: iv.orgID}))(iv.t).Invitations
}

func (iv invitations) members() []*models.OrganizationMembership {
	iv.t.Helper()
	return must(organizationapi.ListMembers(organizationapi.ListMembersParams{API: iv.c, OrganizationID: iv.orgID}))(iv.t).Members
}

// TestConformanceOperations calls every operation once with success and
// checks what comes back.
func TestConformanceOperations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		c := sdk(t, w.srv, w.owner.Key)
		iv := invitations{t, c, w.org.ID}
		now := w.srv.Clock.Now()

		got := must(organizationapi.List(organizationapi.ListParams{API: c}))(t)
		if diff := cmp.Diff([]*models.Organization{orgModel(w.org)}, got); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}
		all := must(organizationapi.List(organizationapi.ListParams{API: sdk(t, w.srv, w.pa.Key)}))(t)
		if len(all) != 2 {
			t.Errorf("a platform administrator lists %d organizations, want 2", len(all))
		}
		if diff := cmp.Diff(orgModel(w.org), must(organizationapi.Get(organizationapi.GetParams{API: c, OrganizationID: w.org.ID}))(t)); diff != "" {
			t.Errorf("get (-want +got):\n%s", diff)
		}

		updated := must(organizationapi.Update(organizationapi.UpdateParams{API: c, OrganizationID: w.org.ID, Name: "Acme Corp",
			DefaultDiskUsageAlertsEnabled: new(false), BillingContacts: []string{"bills@acme.test"},
			OperationalContacts: []string{"ops@acme.test"}, AllowedEmailDomains: []string{"acme.test"}}))(t)
		want := &models.Organization{ID: new(w.org.ID), Name: new("Acme Corp"), DefaultDiskUsageAlertsEnabled: new(false),
			BillingContacts: []string{"bills@acme.test"}, OperationalContacts: []string{"ops@acme.test"}, NotificationsAllowedEmailDomains: []string{"acme.test"}}
		if diff := cmp.Diff(want, updated); diff != "" {
			t.Errorf("update (-want +got):\n%s", diff)
		}
		// The SDK sends null for the lists it is not given: they stay.
		want.Name = new("Acme")
		if diff := cmp.Diff(want, must(organizationapi.Update(organizationapi.UpdateParams{API: c, OrganizationID: w.org.ID, Name: "Acme"}))(t)); diff != "" {
			t.Errorf("rename only (-want +got):\n%s", diff)
		}

		// A billing admin may change billing contacts only; the SDK's nulls
		// for the other lists do not count as changing them.
		biller := w.srv.Member(w.org, "bills@acme.test", orgd.RoleBillingAdmin)
		billing := sdk(t, w.srv, biller.Key)
		want.BillingContacts = []string{"bills@acme.test", "more@acme.test"}
		if diff := cmp.Diff(want, must(organizationapi.Update(organizationapi.UpdateParams{API: billing, OrganizationID: w.org.ID,
			BillingContacts: want.BillingContacts}))(t)); diff != "" {
			t.Errorf("billing contacts by a billing admin (-want +got):\n%s", diff)
		}
		_, err := organizationapi.Update(organizationapi.UpdateParams{API: billing, OrganizationID: w.org.ID, Name: "Billing Corp"})
		sdkError[*organizations.UpdateOrganizationForbidden](orgd.CodeOrgInvalidAccess)(t, err)

		roles := &models.RoleAssignments{Organization: []*models.OrganizationRoleAssignment{orgRoleModel("billing-admin", new(w.org.ID))}}
		invs := must(iv.create(roles, "ann@example.com"))(t).Invitations
		if len(invs) != 1 {
			t.Fatalf("created %d invitations, want 1", len(invs))
		}
		inv := invs[0]
		if *inv.Email != "ann@example.com" || *inv.Token == "" || *inv.Expired || *inv.Organization.ID != w.org.ID ||
			!time.Time(*inv.CreatedAt).Equal(now.Truncate(time.Microsecond)) ||
			time.Time(*inv.ExpiresAt).Sub(time.Time(*inv.CreatedAt)) != 7*24*time.Hour {
			t.Errorf("created invitation %s", must(json.Marshal(inv))(t))
		}
		wantRoles(t, "created invitation", roles, inv.RoleAssignments)

		if diff := cmp.Diff([]*models.OrganizationInvitation{inv}, iv.list()); diff != "" {
			t.Errorf("list invitations (-want +got):\n%s", diff)
		}
		ann := w.srv.User("Ann@Example.com", false)
		byToken := must(c.V1API.Organizations.GetOrganizationInvitation(
			organizations.NewGetOrganizationInvitationParams().WithInvitationToken(*inv.Token), auth.APIKey(ann.Key)))(t)
		if diff := cmp.Diff(inv, byToken.Payload); diff != "" {
			t.Errorf("get invitation (-want +got):\n%s", diff)
		}
		must(c.V1API.Organizations.AcceptOrganizationInvitation(
			organizations.NewAcceptOrganizationInvitationParams().WithInvitationToken(*inv.Token), auth.APIKey(ann.Key)))(t)
		accepted := must(c.V1API.Organizations.GetOrganizationInvitation(
			organizations.NewGetOrganizationInvitationParams().WithInvitationToken(*inv.Token), auth.APIKey(ann.Key)))(t).Payload
		if time.Time(accepted.AcceptedAt).IsZero() {
			t.Error("an accepted invitation read by its token has no accepted_at")
		}

		members := iv.members()
		m := findMember(members, ann.User.ID)
		if m == nil || *m.OrganizationID != w.org.ID || m.Email != ann.User.Email || m.MemberSince == nil {
			t.Fatalf("the invitee is not a member: %s", must(json.Marshal(members))(t))
		}
		wantRoles(t, "new member", roles, m.RoleAssignments)
		if len(members) != 5 {
			t.Errorf("%d members, want 5", len(members))
		}
		if len(iv.list()) != 0 {
			t.Errorf("the accepted invitation is still listed")
		}

		two := must(iv.create(nil, "bo@example.com", "cy@example.com"))(t).Invitations
		must(organizationapi.DeleteInvitation(organizationapi.DeleteInvitationParams{API: c, OrganizationID: w.org.ID,
			InvitationTokens: []string{*two[0].Token, *two[1].Token}}))(t)
		if n := len(iv.list()); n != 0 {
			t.Errorf("%d invitations remain after deleting both", n)
		}

		viewer := &models.RoleAssignments{Deployment: []*models.DeploymentRoleAssignment{
			{RoleID: new("deployment-viewer"), OrganizationID: new(w.org.ID), DeploymentIds: []string{"d2", "d1"}}}}
		must(organizationapi.AddRoleAssignments(organizationapi.AddRoleAssignmentsParams{API: c, UserID: ann.User.ID, RoleAssignments: *viewer}))(t)
		wantRoles(t, "after adding", &models.RoleAssignments{Organization: roles.Organization, Deployment: viewer.Deployment},
			findMember(iv.members(), ann.User.ID).RoleAssignments)
		must(organizationapi.RemoveRoleAssignments(organizationapi.RemoveRoleAssignmentsParams{API: c, UserID: ann.User.ID, RoleAssignments: *viewer}))(t)
		wantRoles(t, "after removing", roles, findMember(iv.members(), ann.User.ID).RoleAssignments)

		must(organizationapi.DeleteMember(organizationapi.DeleteMemberParams{API: c, OrganizationID: w.org.ID,
			UserIDs: []string{ann.User.ID, w.reader.User.ID}}))(t)
		var ids []string
		for _, m := range iv.members() {
			ids = append(ids, *m.UserID)
		}
		if diff := cmp.Diff([]string{w.owner.User.ID, w.admin.User.ID, biller.User.ID}, ids); diff != "" {
			t.Errorf("members after deleting two (-want +got):\n%s", diff)
		}
	})
}

// TestConformanceErrors provokes each error code of the spec's table
// (reference A.6) in the situation it names, and the codes orgd adds,
// through the client's typed errors.
func TestConformanceErrors(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		srv, org := w.srv, w.org
		anon, owner, reader, outsider, pa := sdk(t, srv, ""), sdk(t, srv, w.owner.Key), sdk(t, srv, w.reader.Key), sdk(t, srv, w.outsider.Key), sdk(t, srv, w.pa.Key)
		orgs := func(c *api.API) organizations.ClientService { return c.V1API.Organizations }

		getOrg := func(c *api.API, id string) error {
			_, err := organizationapi.Get(organizationapi.GetParams{API: c, OrganizationID: id})
			return err
		}
		update := func(c *api.API, id, name string) error {
			_, err := organizationapi.Update(organizationapi.UpdateParams{API: c, OrganizationID: id, Name: name})
			return err
		}
		listInvs := func(c *api.API, id string) error {
			_, err := organizationapi.ListInvitations(organizationapi.ListInvitationsParams{API: c, OrganizationID: id})
			return err
		}
		listMems := func(c *api.API, id string) error {
			_, err := organizationapi.ListMembers(organizationapi.ListMembersParams{API: c, OrganizationID: id})
			return err
		}
		createInv := func(c *api.API, id string, emails ...string) error {
			_, err := organizationapi.CreateInvitation(organizationapi.CreateInvitationParams{API: c, OrganizationID: id, Emails: emails})
			return err
		}
		deleteInv := func(c *api.API, id, tokens string) error {
			_, err := orgs(c).DeleteOrganizationInvitations(organizations.NewDeleteOrganizationInvitationsParams().
				WithOrganizationID(id).WithInvitationTokens(tokens), c.AuthWriter)
			return err
		}
		getInv := func(c *api.API, token string) error {
			_, err := orgs(c).GetOrganizationInvitation(organizations.NewGetOrganizationInvitationParams().WithInvitationToken(token), c.AuthWriter)
			return err
		}
		accept := func(c *api.API, token string) error {
			_, err := orgs(c).AcceptOrganizationInvitation(organizations.NewAcceptOrganizationInvitationParams().WithInvitationToken(token), c.AuthWriter)
			return err
		}
		deleteMembers := func(c *api.API, id string, userIDs ...string) error {
			_, err := organizationapi.DeleteMember(organizationapi.DeleteMemberParams{API: c, OrganizationID: id, UserIDs: userIDs})
			return err
		}
		billing := models.RoleAssignments{Organization: []*models.OrganizationRoleAssignment{orgRoleModel("billing-admin", new(org.ID))}}
		addRoles := func(c *api.API, userID string) error {
			_, err := organizationapi.AddRoleAssignments(organizationapi.AddRoleAssignmentsParams{API: c, UserID: userID, RoleAssignments: billing})
			return err
		}
		removeRoles := func(c *api.API, userID string) error {
			_, err := organizationapi.RemoveRoleAssignments(organizationapi.RemoveRoleAssignmentsParams{API: c, UserID: userID, RoleAssignments: billing})
			return err
		}

		// State the cases need: an open invitation to an address no user
		// has, a revoked one, one that a member declined before it was
		// added, one open when its invitee was added (which revoked it),
		// and one an administrator revoked before its invitee was added.
		open := invite(t, srv, org, orgd.RoleAssignments{}, "open@example.com")[0]
		revoked := invite(t, srv, org, orgd.RoleAssignments{}, "revoked@example.com")[0]
		if err := srv.Svc.RevokeInvitationsByToken(context.Background(), orgd.SystemPrincipal, org.ID, []string{revoked}); err != nil {
			t.Fatal(err)
		}
		late := srv.User("late@example.com", false)
		lateToken := invite(t, srv, org, orgd.RoleAssignments{}, late.User.Email)[0]
		if _, err := srv.Svc.DeclineInvitationByToken(context.Background(), &orgd.Principal{User: late.User}, lateToken); err != nil {
			t.Fatal(err)
		}
		added := srv.User("added@example.com", false)
		addedToken := invite(t, srv, org, orgd.RoleAssignments{}, added.User.Email)[0]
		rejoined := srv.User("rejoined@example.com", false)
		rejoinedToken := invite(t, srv, org, orgd.RoleAssignments{}, rejoined.User.Email)[0]
		if err := srv.Svc.RevokeInvitationsByToken(context.Background(), orgd.SystemPrincipal, org.ID, []string{rejoinedToken}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []*orgd.User{late.User, added.User, rejoined.User} {
			if _, err := srv.Svc.AddMember(context.Background(), orgd.SystemPrincipal, org.ID, u.ID, orgd.RoleReader); err != nil {
				t.Fatal(err)
			}
		}
		loner := srv.User("loner@example.com", false)
		solo := srv.Org("Solo", "solo") // managed by one admin, without an owner
		soloAdmin := srv.Member(solo, "admin@solo.test", orgd.RoleOrgAdmin)
		many := make([]string, 101)
		for i := range many {
			many[i] = fmt.Sprintf("m%d@example.com", i)
		}

		tests := []struct {
			name  string
			call  func() error
			check func(*testing.T, error)
		}{
			{"list organizations without credentials", func() error { _, err := organizationapi.List(organizationapi.ListParams{API: anon}); return err },
				sdkError[*organizations.ListOrganizationsUnauthorized](orgd.CodeUserNotFound)},
			{"get organization without credentials", func() error { return getOrg(anon, org.ID) },
				sdkError[*organizations.GetOrganizationUnauthorized](orgd.CodeUserNotFound)},
			{"get organization of another", func() error { return getOrg(outsider, org.ID) },
				sdkError[*organizations.GetOrganizationNotFound](orgd.CodeOrgNotFound)},
			{"get unknown organization", func() error { return getOrg(pa, unknownID) },
				sdkError[*organizations.GetOrganizationNotFound](orgd.CodeOrgNotFound)},
			{"update organization with a one-letter name", func() error { return update(owner, org.ID, "x") },
				sdkError[*organizations.UpdateOrganizationBadRequest](orgd.CodeOrgInvalidName)},
			{"update organization with a 31-letter name", func() error { return update(owner, org.ID, strings.Repeat("n", 31)) },
				sdkError[*organizations.UpdateOrganizationBadRequest](orgd.CodeOrgInvalidName)},
			{"update organization without credentials", func() error { return update(anon, org.ID, "Acme") },
				sdkError[*organizations.UpdateOrganizationUnauthorized](orgd.CodeUnauthorized)},
			{"update organization as a reader", func() error { return update(reader, org.ID, "Acme") },
				sdkError[*organizations.UpdateOrganizationForbidden](orgd.CodeOrgInvalidAccess)},
			{"update organization of another", func() error { return update(outsider, org.ID, "Acme") },
				sdkError[*organizations.UpdateOrganizationNotFound](orgd.CodeOrgNotFound)},
			{"list invitations of another organization", func() error { return listInvs(outsider, org.ID) },
				sdkError[*organizations.ListOrganizationInvitationsNotFound](orgd.CodeOrgNotFound)},
			{"list invitations of an unknown organization", func() error { return listInvs(pa, unknownID) },
				sdkError[*organizations.ListOrganizationInvitationsNotFound](orgd.CodeOrgNotFound)},
			{"create invitation for a bad address", func() error { return createInv(owner, org.ID, "not-an-address") },
				sdkError[*organizations.CreateOrganizationInvitationsBadRequest](orgd.CodeInviteInvalidMail)},
			{"create invitation again within the cooldown", func() error { return createInv(owner, org.ID, "open@example.com") },
				sdkError[*organizations.CreateOrganizationInvitationsBadRequest](orgd.CodeInviteExists)},
			{"create invitation for a member", func() error { return createInv(owner, org.ID, "Reader@acme.test") },
				sdkError[*organizations.CreateOrganizationInvitationsBadRequest](orgd.CodeAlreadyMember)},
			{"create invitation without credentials", func() error { return createInv(anon, org.ID, "x@example.com") },
				sdkError[*organizations.CreateOrganizationInvitationsForbidden](orgd.CodeInvalidAuth)},
			{"create invitation as an outsider", func() error { return createInv(outsider, org.ID, "x@example.com") },
				sdkError[*organizations.CreateOrganizationInvitationsNotFound](orgd.CodeSenderNotMember)},
			{"create invitation as an outsider to an unknown organization", func() error { return createInv(outsider, unknownID, "x@example.com") },
				sdkError[*organizations.CreateOrganizationInvitationsNotFound](orgd.CodeSenderNotMember)},
			{"create invitation to an unknown organization as a platform administrator", func() error { return createInv(pa, unknownID, "x@example.com") },
				sdkError[*organizations.CreateOrganizationInvitationsNotFound](orgd.CodeOrgNotFound)},
			{"create invitation for an empty organization id", func() error {
				_, err := orgs(owner).CreateOrganizationInvitations(organizations.NewCreateOrganizationInvitationsParams().
					WithBody(&models.OrganizationInvitationRequest{Emails: []string{"x@example.com"}}), owner.AuthWriter)
				return err
			}, sdkError[*organizations.CreateOrganizationInvitationsNotFound](orgd.CodeNotFound)},
			{"create invitation as a reader", func() error { return createInv(reader, org.ID, "x@example.com") },
				sdkError[*organizations.CreateOrganizationInvitationsForbidden](orgd.CodeOrgInvalidAccess)},
			{"create 101 invitations at once", func() error { return createInv(owner, org.ID, many...) },
				sdkError[*organizations.CreateOrganizationInvitationsTooManyRequests](orgd.CodeInviteRateLimit)},
			{"delete invitations with no token", func() error { return deleteInv(owner, org.ID, ",") },
				sdkError[*organizations.DeleteOrganizationInvitationsBadRequest](orgd.CodeInvalidData)},
			{"delete invitations with a blank token", func() error { return deleteInv(owner, org.ID, " , ") },
				sdkError[*organizations.DeleteOrganizationInvitationsBadRequest](orgd.CodeInvalidData)},
			{"delete an empty token through the helper", func() error {
				_, err := organizationapi.DeleteInvitation(organizationapi.DeleteInvitationParams{API: owner, OrganizationID: org.ID, InvitationTokens: []string{""}})
				return err
			}, sdkError[*organizations.DeleteOrganizationInvitationsBadRequest](orgd.CodeInvalidData)},
			{"delete an unknown invitation", func() error { return deleteInv(owner, org.ID, "nope") },
				sdkError[*organizations.DeleteOrganizationInvitationsNotFound](orgd.CodeInviteNotFound)},
			{"delete a known and an unknown invitation", func() error { return deleteInv(owner, org.ID, open+",nope") },
				sdkError[*organizations.DeleteOrganizationInvitationsNotFound](orgd.CodeInviteNotFound)},
			{"delete a revoked invitation", func() error { return deleteInv(owner, org.ID, revoked) },
				sdkError[*organizations.DeleteOrganizationInvitationsNotFound](orgd.CodeInviteNotFound)},
			{"delete invitations of another organization", func() error { return deleteInv(outsider, org.ID, open) },
				sdkError[*organizations.DeleteOrganizationInvitationsNotFound](orgd.CodeOrgNotFound)},
			{"delete an invitation through another organization", func() error { return deleteInv(pa, w.other.ID, open) },
				sdkError[*organizations.DeleteOrganizationInvitationsNotFound](orgd.CodeInviteNotFound)},
			{"get an unknown invitation", func() error { return getInv(reader, "nope") },
				sdkError[*organizations.GetOrganizationInvitationNotFound](orgd.CodeInviteNotFound)},
			{"get a revoked invitation", func() error { return getInv(reader, revoked) },
				sdkError[*organizations.GetOrganizationInvitationNotFound](orgd.CodeInviteNotFound)},
			{"accept as a member", func() error { return accept(sdk(t, srv, late.Key), lateToken) },
				sdkError[*organizations.AcceptOrganizationInvitationBadRequest](orgd.CodeAlreadyMember)},
			{"accept an invitation revoked when its invitee was added", func() error { return accept(sdk(t, srv, added.Key), addedToken) },
				sdkError[*organizations.AcceptOrganizationInvitationBadRequest](orgd.CodeAlreadyMember)},
			{"accept an invitation revoked when its invitee was added, as someone else", func() error { return accept(sdk(t, srv, loner.Key), addedToken) },
				sdkError[*organizations.AcceptOrganizationInvitationNotFound](orgd.CodeInviteNotFound)},
			{"accept an invitation revoked when its invitee was added, as another member", func() error { return accept(reader, addedToken) },
				sdkError[*organizations.AcceptOrganizationInvitationNotFound](orgd.CodeInviteNotFound)},
			{"accept an invitation revoked by an administrator, as its invitee now a member", func() error { return accept(sdk(t, srv, rejoined.Key), rejoinedToken) },
				sdkError[*organizations.AcceptOrganizationInvitationNotFound](orgd.CodeInviteNotFound)},
			{"accept without credentials", func() error { return accept(anon, open) },
				sdkError[*organizations.AcceptOrganizationInvitationForbidden](orgd.CodeInvalidAuth)},
			{"accept another address's invitation", func() error { return accept(sdk(t, srv, loner.Key), open) },
				sdkError[*organizations.AcceptOrganizationInvitationForbidden](orgd.CodeInviteMismatch)},
			{"accept an unknown invitation", func() error { return accept(sdk(t, srv, loner.Key), "nope") },
				sdkError[*organizations.AcceptOrganizationInvitationNotFound](orgd.CodeInviteNotFound)},
			{"accept a revoked invitation", func() error { return accept(sdk(t, srv, loner.Key), revoked) },
				sdkError[*organizations.AcceptOrganizationInvitationNotFound](orgd.CodeInviteNotFound)},
			{"list members of another organization", func() error { return listMems(outsider, org.ID) },
				sdkError[*organizations.ListOrganizationMembersNotFound](orgd.CodeOrgNotFound)},
			{"list members of an unknown organization", func() error { return listMems(pa, unknownID) },
				sdkError[*organizations.ListOrganizationMembersNotFound](orgd.CodeOrgNotFound)},
			{"delete an unknown user", func() error { return deleteMembers(owner, org.ID, unknownID) },
				sdkError[*organizations.DeleteOrganizationMembershipsNotFound](orgd.CodeUserNotFound)},
			{"delete a user who is not a member", func() error { return deleteMembers(owner, org.ID, loner.User.ID) },
				sdkError[*organizations.DeleteOrganizationMembershipsNotFound](orgd.CodeMembershipMissing)},
			{"delete a member and a user who is not one", func() error { return deleteMembers(owner, org.ID, w.reader.User.ID, loner.User.ID) },
				sdkError[*organizations.DeleteOrganizationMembershipsNotFound](orgd.CodeMembershipMissing)},
			{"delete members of another organization", func() error { return deleteMembers(outsider, org.ID, w.reader.User.ID) },
				sdkError[*organizations.DeleteOrganizationMembershipsNotFound](orgd.CodeOrgNotFound)},
			{"delete the last owner", func() error { return deleteMembers(owner, org.ID, w.owner.User.ID) },
				untypedError(400, orgd.CodeLastOwner)},
			{"delete the last admin", func() error { return deleteMembers(sdk(t, srv, soloAdmin.Key), solo.ID, soloAdmin.User.ID) },
				untypedError(400, orgd.CodeLastAdmin)},
			{"delete the last owner by force as an owner", func() error {
				_, err := orgs(owner).DeleteOrganizationMemberships(organizations.NewDeleteOrganizationMembershipsParams().
					WithOrganizationID(org.ID).WithUserIds(w.owner.User.ID).WithForce(new(true)), owner.AuthWriter)
				return apierror.Wrap(err) // as the helpers do
			}, untypedError(400, orgd.CodeLastOwner)},
			{"demote the last owner", func() error {
				_, err := organizationapi.RemoveRoleAssignments(organizationapi.RemoveRoleAssignmentsParams{API: pa, UserID: w.owner.User.ID,
					RoleAssignments: models.RoleAssignments{Organization: []*models.OrganizationRoleAssignment{orgRoleModel("owner", new(org.ID))}}})
				return err
			}, sdkError[*user_role_assignments.RemoveRoleAssignmentsBadRequest](orgd.CodeLastOwner)},
			{"demote the last admin", func() error {
				_, err := organizationapi.RemoveRoleAssignments(organizationapi.RemoveRoleAssignmentsParams{API: sdk(t, srv, soloAdmin.Key), UserID: soloAdmin.User.ID,
					RoleAssignments: models.RoleAssignments{Organization: []*models.OrganizationRoleAssignment{orgRoleModel("organization-admin", nil)}}})
				return err
			}, sdkError[*user_role_assignments.RemoveRoleAssignmentsBadRequest](orgd.CodeLastAdmin)},
			{"add roles to an unknown user", func() error { return addRoles(owner, unknownID) },
				sdkError[*user_role_assignments.AddRoleAssignmentsBadRequest](orgd.CodeInvalidTarget)},
			{"add roles to a user outside the organization", func() error { return addRoles(owner, loner.User.ID) },
				sdkError[*user_role_assignments.AddRoleAssignmentsBadRequest](orgd.CodeInvalidTarget)},
			{"add roles to a member of an organization the caller cannot see", func() error { return addRoles(outsider, w.reader.User.ID) },
				sdkError[*user_role_assignments.AddRoleAssignmentsBadRequest](orgd.CodeInvalidTarget)},
			{"add roles without credentials", func() error { return addRoles(anon, w.reader.User.ID) },
				sdkError[*user_role_assignments.AddRoleAssignmentsUnauthorized](orgd.CodeUnauthorized)},
			{"add roles as a reader", func() error { return addRoles(reader, w.reader.User.ID) },
				sdkError[*user_role_assignments.AddRoleAssignmentsForbidden](orgd.CodeRolesForbidden)},
			{"remove roles of an unknown user", func() error { return removeRoles(owner, unknownID) },
				sdkError[*user_role_assignments.RemoveRoleAssignmentsBadRequest](orgd.CodeInvalidTarget)},
			{"remove roles without credentials", func() error { return removeRoles(anon, w.reader.User.ID) },
				sdkError[*user_role_assignments.RemoveRoleAssignmentsUnauthorized](orgd.CodeUnauthorized)},
			{"remove roles as a reader", func() error { return removeRoles(reader, w.admin.User.ID) },
				sdkError[*user_role_assignments.RemoveRoleAssignmentsForbidden](orgd.CodeRolesForbidden)},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := takeSnapshot(t, srv, org, w.other)
				err := tc.call()
				if err == nil {
					t.Fatal("the call succeeded")
				}
				tc.check(t, err)
				if diff := before.diff(takeSnapshot(t, srv, org, w.other)); diff != "" {
					t.Errorf("a refused call changed state (-before +after):\n%s", diff)
				}
			})
		}
	})
}

// acceptAs accepts an invitation through the SDK as the owner of key.
func acceptAs(t *testing.T, srv *apitest.Server, key, token string) error {
	t.Helper()
	a := sdk(t, srv, key)
	_, err := a.V1API.Organizations.AcceptOrganizationInvitation(
		organizations.NewAcceptOrganizationInvitationParams().WithInvitationToken(token), a.AuthWriter)
	return err
}

// TestConformanceInvitationLifecycle: create-or-refresh with its cooldown,
// expiry, and the answers to used invitations.
func TestConformanceInvitationLifecycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		iv := invitations{t, sdk(t, w.srv, w.owner.Key), w.org.ID}
		path := "/api/v1/organizations/" + w.org.ID + "/invitations"

		first := iv.mustCreate(nil, "dee@example.com")
		_, err := iv.create(nil, "dee@example.com")
		sdkError[*organizations.CreateOrganizationInvitationsBadRequest](orgd.CodeInviteExists)(t, err)
		r := w.srv.Elastic("POST", path, w.owner.Key, map[string]any{"emails": []string{"dee@example.com"}})
		wantError(t, r, 400, orgd.CodeInviteExists)
		if got := r.Header.Get("Retry-After"); got != "60" {
			t.Errorf("Retry-After within the cooldown = %q, want 60", got)
		}

		w.srv.Clock.Advance(61 * time.Second)
		second := iv.mustCreate(nil, "DEE@example.com")
		if *second.Token == *first.Token || !time.Time(*second.ExpiresAt).Equal(w.srv.Clock.Now().Add(7*24*time.Hour).Truncate(time.Microsecond)) {
			t.Errorf("refresh: token changed %v, expires_at %v", *second.Token != *first.Token, second.ExpiresAt)
		}
		dee := w.srv.User("dee@example.com", false)
		err = acceptAs(t, w.srv, dee.Key, *first.Token)
		sdkError[*organizations.AcceptOrganizationInvitationNotFound](orgd.CodeInviteNotFound)(t, err)
		if list := iv.list(); len(list) != 1 || *list[0].Token != *second.Token {
			t.Fatalf("after a refresh the list holds %d invitations", len(list))
		}

		w.srv.Clock.Advance(8 * 24 * time.Hour)
		if list := iv.list(); len(list) != 1 || !*list[0].Expired {
			t.Fatalf("an expired invitation must stay listed with expired: true; got %s", must(json.Marshal(list))(t))
		}
		err = acceptAs(t, w.srv, dee.Key, *second.Token)
		sdkError[*organizations.AcceptOrganizationInvitationBadRequest](orgd.CodeInviteExpired)(t, err)

		third := iv.mustCreate(nil, "dee@example.com")
		if *third.Expired {
			t.Error("a refreshed invitation is still expired")
		}
		must(0, acceptAs(t, w.srv, dee.Key, *third.Token))(t)
		err = acceptAs(t, w.srv, dee.Key, *third.Token)
		sdkError[*organizations.AcceptOrganizationInvitationBadRequest](orgd.CodeAlreadyMember)(t, err)
		must(organizationapi.DeleteMember(organizationapi.DeleteMemberParams{API: iv.c, OrganizationID: w.org.ID, UserIDs: []string{dee.User.ID}}))(t)
		err = acceptAs(t, w.srv, dee.Key, *third.Token)
		sdkError[*organizations.AcceptOrganizationInvitationBadRequest](orgd.CodeInviteUsed)(t, err)

		eve := w.srv.User("eve@example.com", false)
		declined := iv.mustCreate(nil, "eve@example.com")
		if _, err := w.srv.Svc.DeclineInvitationByToken(context.Background(), &orgd.Principal{User: eve.User}, *declined.Token); err != nil {
			t.Fatal(err)
		}
		err = acceptAs(t, w.srv, eve.Key, *declined.Token)
		sdkError[*organizations.AcceptOrganizationInvitationBadRequest](orgd.CodeInviteUsed)(t, err)
	})
}

// TestConformanceRateLimit: 1000 invitations an hour per organization;
// the next one is refused with Retry-After until the first leave the window.
func TestConformanceRateLimit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL, func(l *orgd.Limits) { l.DefaultMaxMembers = 0 })
		iv := invitations{t, sdk(t, w.srv, w.owner.Key), w.org.ID}
		for batch := range 10 {
			emails := make([]string, 100)
			for i := range emails {
				emails[i] = fmt.Sprintf("b%d-%d@example.com", batch, i)
			}
			if got := must(iv.create(nil, emails...))(t); len(got.Invitations) != 100 {
				t.Fatalf("batch %d created %d invitations", batch, len(got.Invitations))
			}
		}
		_, err := iv.create(nil, "one-more@example.com")
		sdkError[*organizations.CreateOrganizationInvitationsTooManyRequests](orgd.CodeInviteRateLimit)(t, err)
		r := w.srv.Elastic("POST", "/api/v1/organizations/"+w.org.ID+"/invitations", w.owner.Key, map[string]any{"emails": []string{"one-more@example.com"}})
		wantError(t, r, 429, orgd.CodeInviteRateLimit)
		if got := r.Header.Get("Retry-After"); got != "3600" {
			t.Errorf("Retry-After = %q, want 3600", got)
		}
		if n := len(iv.list()); n != 1000 {
			t.Errorf("%d invitations listed, want 1000", n)
		}
		w.srv.Clock.Advance(time.Hour)
		iv.mustCreate(nil, "one-more@example.com")
	})
}

// TestConformanceTerraformSequence replays what the ec Terraform provider
// does for an ec_organization member: invite, change the pending invitation
// (delete it by token, invite again), the invitee accepts, change the
// member's roles (remove, then add), remove the member; re-reading members
// and invitations after each step as the provider does.
func TestConformanceTerraformSequence(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		c := sdk(t, w.srv, w.owner.Key)
		iv := invitations{t, c, w.org.ID}
		orgID, email := new(w.org.ID), "tf@example.com"

		viewer := &models.RoleAssignments{
			Deployment: []*models.DeploymentRoleAssignment{{RoleID: new("deployment-viewer"), OrganizationID: orgID, All: new(true)}},
			Project:    &models.ProjectRoleAssignments{},
		}
		first := iv.mustCreate(viewer, email)
		pending := findInvitation(iv.list(), email)
		if pending == nil || *pending.Token != *first.Token || *pending.Organization.ID != *orgID {
			t.Fatalf("the new invitation is not listed: %s", must(json.Marshal(iv.list()))(t))
		}
		wantRoles(t, "pending invitation", viewer, pending.RoleAssignments)

		must(organizationapi.DeleteInvitation(organizationapi.DeleteInvitationParams{API: c, OrganizationID: *orgID, InvitationTokens: []string{*pending.Token}}))(t)
		sent := &models.RoleAssignments{
			Organization: []*models.OrganizationRoleAssignment{orgRoleModel("billing-admin", nil)},
			Deployment:   []*models.DeploymentRoleAssignment{{RoleID: new("deployment-editor"), OrganizationID: orgID, All: new(false), DeploymentIds: []string{"d2", "d1"}}},
			Project: &models.ProjectRoleAssignments{
				Elasticsearch: []*models.ProjectRoleAssignment{{RoleID: new("elasticsearch-viewer"), OrganizationID: orgID, All: new(true)}},
				Security:      []*models.ProjectRoleAssignment{{RoleID: new("security-t1-analyst"), OrganizationID: orgID, ProjectIds: []string{"p2", "p1"}, ApplicationRoles: []string{"b", "a"}}},
			},
		}
		second := iv.mustCreate(sent, email)
		// What was sent, with the organization_id the server defaults.
		stored := *sent
		stored.Organization = []*models.OrganizationRoleAssignment{orgRoleModel("billing-admin", orgID)}
		invs := iv.list()
		if len(invs) != 1 || *invs[0].Token != *second.Token || *second.Token == *first.Token {
			t.Fatalf("after changing the pending invitation: %s", must(json.Marshal(invs))(t))
		}
		wantRoles(t, "changed invitation", &stored, invs[0].RoleAssignments)

		tf := w.srv.User(email, false)
		must(0, acceptAs(t, w.srv, tf.Key, *second.Token))(t)
		if inv := findInvitation(iv.list(), email); inv != nil {
			t.Error("the accepted invitation is still listed")
		}
		m := findMember(iv.members(), tf.User.ID)
		if m == nil || m.Email != email || *m.OrganizationID != *orgID {
			t.Fatalf("the invitee is not a member: %s", must(json.Marshal(iv.members()))(t))
		}
		wantRoles(t, "new member", &stored, m.RoleAssignments)

		removed := &models.RoleAssignments{
			Organization: []*models.OrganizationRoleAssignment{orgRoleModel("billing-admin", orgID)},
			Project:      &models.ProjectRoleAssignments{Security: sent.Project.Security},
		}
		added := &models.RoleAssignments{
			Organization: []*models.OrganizationRoleAssignment{orgRoleModel("organization-admin", orgID)},
			Deployment:   []*models.DeploymentRoleAssignment{{RoleID: new("deployment-admin"), OrganizationID: orgID, All: new(true)}},
		}
		must(organizationapi.RemoveRoleAssignments(organizationapi.RemoveRoleAssignmentsParams{API: c, UserID: tf.User.ID, RoleAssignments: *removed}))(t)
		must(organizationapi.AddRoleAssignments(organizationapi.AddRoleAssignmentsParams{API: c, UserID: tf.User.ID, RoleAssignments: *added}))(t)
		want := &models.RoleAssignments{
			Organization: added.Organization,
			Deployment:   append(slices.Clone(sent.Deployment), added.Deployment...),
			Project:      &models.ProjectRoleAssignments{Elasticsearch: sent.Project.Elasticsearch},
		}
		wantRoles(t, "changed member", want, findMember(iv.members(), tf.User.ID).RoleAssignments)

		must(organizationapi.DeleteMember(organizationapi.DeleteMemberParams{API: c, OrganizationID: *orgID, UserIDs: []string{tf.User.ID}}))(t)
		if findMember(iv.members(), tf.User.ID) != nil || findInvitation(iv.list(), email) != nil {
			t.Error("the removed member is still listed")
		}
	})
}
