package elastic_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/elastic"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
)

// The wire tests speak raw HTTP through apitest, which also fails any
// response whose Content-Type is not application/json.

// emptyResponseOps are the operations whose success body is EmptyResponse.
var emptyResponseOps = map[string]bool{
	"delete-organization-invitations": true, "accept-organization-invitation": true,
	"delete-organization-memberships": true, "add-role-assignments": true, "remove-role-assignments": true,
	"delete-api-key": true, "delete-api-keys": true,
}

// checkSuccessShape asserts what every success of rt looks like on the
// wire: JSON, 201 for create invitations and 200 for everything else, and
// the body {} for EmptyResponse operations.
func checkSuccessShape(t *testing.T, rt elastic.Route, r *apitest.Response) {
	t.Helper()
	wantStatus := 200
	if rt.Operation == "create-organization-invitations" || rt.Operation == "create-api-key" {
		wantStatus = 201 // the spec's creates
	}
	if r.Status != wantStatus {
		t.Errorf("%s answered %d, want %d", rt.Operation, r.Status, wantStatus)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if body := string(bytes.TrimSpace(r.Body)); emptyResponseOps[rt.Operation] && body != "{}" {
		t.Errorf("%s body %q, want {}", rt.Operation, body)
	}
}

// TestWireErrorEnvelope: every kind of error, including those no route
// answers, is a JSON BasicFailedReply with x-cloud-error-codes set to the
// first code.
func TestWireErrorEnvelope(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		org := "/api/v1/organizations/" + w.org.ID
		tests := []struct {
			name, method, path, key string
			body                    any
			want                    want
			allow                   string
		}{
			{"unknown path under /api/v1/users", "GET", "/api/v1/users/u1/nope", w.owner.Key, nil, want{404, orgd.CodeNotFound}, ""},
			{"unknown child of an organization", "GET", org + "/nope", w.owner.Key, nil, want{404, orgd.CodeNotFound}, ""},
			{"path below an operation", "POST", "/api/v1/organizations/invitations/tok/_accept/more", w.owner.Key, nil, want{404, orgd.CodeNotFound}, ""},
			{"PATCH an organization", "PATCH", org, w.owner.Key, "{}", want{405, orgd.CodeMethodNotAllowed}, "GET, PUT"},
			{"POST the organization list", "POST", "/api/v1/organizations", w.owner.Key, "{}", want{405, orgd.CodeMethodNotAllowed}, "GET"},
			{"GET _accept", "GET", "/api/v1/organizations/invitations/tok/_accept", w.owner.Key, nil, want{405, orgd.CodeMethodNotAllowed}, "POST"},
			{"PUT role assignments", "PUT", "/api/v1/users/u1/role_assignments", w.owner.Key, "{}", want{405, orgd.CodeMethodNotAllowed}, "POST, DELETE"},
			{"POST the member list", "POST", org + "/members", w.owner.Key, "{}", want{405, orgd.CodeMethodNotAllowed}, "GET, DELETE"},
			{"GET an empty token list", "GET", org + "/invitations/", w.owner.Key, nil, want{405, orgd.CodeMethodNotAllowed}, "DELETE"},
			{"GET members by id", "GET", org + "/members/u1", w.owner.Key, nil, want{405, orgd.CodeMethodNotAllowed}, "DELETE"},
			{"GET invitations by tokens", "GET", org + "/invitations/a,b", w.owner.Key, nil, want{405, orgd.CodeMethodNotAllowed}, "DELETE"},
			{"over the size limit", "PUT", org, w.owner.Key, `{"name":"` + strings.Repeat("n", 1<<20) + `"}`, want{413, orgd.CodeBodyTooLarge}, ""},
			{"invitations over the size limit", "POST", org + "/invitations", w.owner.Key,
				`{"emails":["` + strings.Repeat("a", 1<<20) + `@example.com"]}`, want{413, orgd.CodeBodyTooLarge}, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := w.srv.Elastic(tc.method, tc.path, tc.key, tc.body)
				tc.want.check(t, r)
				if got := r.Header.Get("Allow"); got != tc.allow {
					t.Errorf("Allow %q, want %q", got, tc.allow)
				}
			})
		}
	})
}

// TestWireBadBodies: malformed JSON and wrong types are 400 with a message
// that names the problem, never 500.
func TestWireBadBodies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		org := "/api/v1/organizations/" + w.org.ID
		invitations, roles := org+"/invitations", "/api/v1/users/"+w.reader.User.ID+"/role_assignments"
		tests := []struct {
			name, method, path, body string
			code, message            string // message: a part of errors[0].message
		}{
			{"truncated JSON", "POST", invitations, `{"emails":["a@example.com"`, orgd.CodeInvalidData, "ends in the middle"},
			{"not JSON", "POST", invitations, `emails=a@example.com`, orgd.CodeInvalidData, "not valid JSON"},
			{"two JSON values", "POST", invitations, `{"emails":["a@example.com"]} {}`, orgd.CodeInvalidData, "more than one JSON value"},
			{"trailing garbage", "POST", invitations, `{"emails":["a@example.com"]}x`, orgd.CodeInvalidData, "JSON"},
			{"an array for the body", "POST", invitations, `["a@example.com"]`, orgd.CodeInvalidData, "must be an object"},
			{"a string for emails", "POST", invitations, `{"emails":"a@example.com"}`, orgd.CodeInvalidData, "emails must be an array"},
			{"a number among emails", "POST", invitations, `{"emails":[1]}`, orgd.CodeInvalidData, "emails must be a string"},
			{"a number for expires_in", "POST", invitations, `{"emails":["a@example.com"],"expires_in":72}`, orgd.CodeInvalidData, "expires_in must be a string"},
			{"an object for organization roles", "POST", invitations, `{"emails":["a@example.com"],"role_assignments":{"organization":{"role_id":"reader"}}}`,
				orgd.CodeInvalidData, "role_assignments.organization must be an array"},
			{"a string for all", "POST", invitations, `{"emails":["a@example.com"],"role_assignments":{"deployment":[{"role_id":"deployment-viewer","all":"yes"}]}}`,
				orgd.CodeInvalidData, "role_assignments.deployment.all must be a boolean"},
			{"deeply nested", "POST", invitations, strings.Repeat("[", 20000) + strings.Repeat("]", 20000), orgd.CodeInvalidData, "JSON"},
			{"a null body", "POST", invitations, `null`, orgd.CodeInviteInvalidMail, "email"},
			{"no emails", "POST", invitations, `{"emails":[]}`, orgd.CodeInviteInvalidMail, "email"},
			{"a duration without unit", "POST", invitations, `{"emails":["a@example.com"],"expires_in":"72"}`, orgd.CodeInviteExpiry, "unit"},
			{"an unknown organization role", "POST", invitations, `{"emails":["a@example.com"],"role_assignments":{"organization":[{"role_id":"boss"}]}}`,
				orgd.CodeInvalidRole, "boss"},
			{"no body for an update", "PUT", org, ``, orgd.CodeInvalidData, "body is required"},
			{"a number for the name", "PUT", org, `{"name":5}`, orgd.CodeInvalidData, "name must be a string"},
			{"a string for billing contacts", "PUT", org, `{"billing_contacts":"a@example.com"}`, orgd.CodeInvalidData, "billing_contacts must be an array"},
			{"a string for disk alerts", "PUT", org, `{"default_disk_usage_alerts_enabled":"yes"}`, orgd.CodeInvalidData, "must be a boolean"},
			{"a bad billing contact", "PUT", org, `{"billing_contacts":["nobody"]}`, orgd.CodeInvalidData, "nobody"},
			{"no body for role assignments", "POST", roles, ``, orgd.CodeInvalidData, "body is required"},
			{"a number for a platform role", "POST", roles, `{"platform":[{"role_id":1}]}`, orgd.CodeInvalidData, "platform.role_id must be a string"},
			{"no body to remove role assignments", "DELETE", roles, ``, orgd.CodeInvalidData, "body is required"},
			{"force that is not a boolean", "DELETE", org + "/members/" + w.reader.User.ID + "?force=maybe", ``, orgd.CodeInvalidData, "force must be true or false"},
			// Text no field takes: PostgreSQL refuses a NUL or invalid UTF-8,
			// so every engine refuses it before anything is looked up.
			{"a NUL in the body", "PUT", org, `{"name":"a\u0000b"}`, orgd.CodeInvalidData, "NUL"},
			{"a NUL in a body id", "POST", roles, `{"organization":[{"role_id":"organization-admin","organization_id":"a\u0000"}]}`, orgd.CodeInvalidData, "NUL"},
			{"a NUL in the path", "GET", "/api/v1/organizations/a%00b", ``, orgd.CodeInvalidData, "path"},
			{"invalid UTF-8 in the path", "GET", "/api/v1/organizations/a%ffb/members", ``, orgd.CodeInvalidData, "path"},
			{"invalid UTF-8 in a user id", "POST", "/api/v1/users/a%ffb/role_assignments", `{}`, orgd.CodeInvalidData, "path"},
			{"a NUL in a filter", "GET", invitations + "?email=a%00@b.c", ``, orgd.CodeInvalidData, "email holds"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := takeSnapshot(t, w.srv, w.org)
				r := w.srv.Elastic(tc.method, tc.path, w.owner.Key, tc.body)
				reply := wantError(t, r, 400, tc.code)
				if len(reply.Errors) > 0 && !strings.Contains(reply.Errors[0].Message, tc.message) {
					t.Errorf("message %q does not say %q", reply.Errors[0].Message, tc.message)
				}
				if diff := before.diff(takeSnapshot(t, w.srv, w.org)); diff != "" {
					t.Errorf("a refused request changed state (-before +after):\n%s", diff)
				}
			})
		}
	})
}

// TestWireBatchErrors: each bad address of a batch gets its own error
// element whose fields is the address as sent, and nothing is written.
func TestWireBatchErrors(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		path := "/api/v1/organizations/" + w.org.ID + "/invitations"
		invite(t, w.srv, w.org, orgd.RoleAssignments{}, "cool@example.com", "down@example.com")

		r := w.srv.Elastic("POST", path, w.owner.Key, map[string]any{
			"emails": []string{"good@example.com", "Bob <bob@example.com>", " Reader@ACME.test ", "no-at-sign", "cool@example.com"}})
		wantBatchErrors(t, wantError(t, r, 400, orgd.CodeInviteInvalidMail), [][]string{
			{orgd.CodeInviteInvalidMail, "Bob <bob@example.com>"},
			{orgd.CodeAlreadyMember, " Reader@ACME.test "},
			{orgd.CodeInviteInvalidMail, "no-at-sign"},
			{orgd.CodeInviteExists, "cool@example.com"},
		})
		if n := len(listInvitations(t, w.srv, w.owner.Key, w.org.ID)); n != 2 {
			t.Errorf("%d invitations after a refused batch, want the 2 from before", n)
		}
		// A batch refused only for the cooldown says when to retry.
		w.srv.Clock.Advance(20 * time.Second)
		invite(t, w.srv, w.org, orgd.RoleAssignments{}, "later@example.com")
		r = w.srv.Elastic("POST", path, w.owner.Key, map[string]any{"emails": []string{"cool@example.com", "later@example.com"}})
		wantError(t, r, 400, orgd.CodeInviteExists)
		if got := r.Header.Get("Retry-After"); got != "60" {
			t.Errorf("Retry-After %q, want 60 (the longer wait)", got)
		}
		r = w.srv.Elastic("POST", path, w.owner.Key, map[string]any{"emails": []string{"cool@example.com", "not-an-address"}})
		wantError(t, r, 400, orgd.CodeInviteExists)
		if got := r.Header.Get("Retry-After"); got != "" {
			t.Errorf("Retry-After %q for a batch that waiting does not mend", got)
		}
		// Too many addresses at once is a limit of the request, not of time.
		many := make([]string, 101)
		for i := range many {
			many[i] = "a" + strings.Repeat("x", i) + "@example.com"
		}
		r = w.srv.Elastic("POST", path, w.owner.Key, map[string]any{"emails": many})
		wantError(t, r, 429, orgd.CodeInviteRateLimit)
		if got := r.Header.Get("Retry-After"); got != "" {
			t.Errorf("Retry-After %q for a request over the size limit", got)
		}
	})
}

// wantBatchErrors checks the error elements of a refused batch, in order,
// each as its code followed by its fields.
func wantBatchErrors(t *testing.T, reply elastic.BasicFailedReply, want [][]string) {
	t.Helper()
	var got [][]string
	for _, e := range reply.Errors {
		got = append(got, append([]string{e.Code}, e.Fields...))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// A batch whose addresses fail for different kinds of reasons (one the
// caller may not refresh, 403 on its own, and one that is not an address,
// 400) is answered 400, one element per address in the order sent, the
// header naming the first; the answer must match the OpenAPI document,
// which the test server checks for every answer.
func TestMixedBatchIsABadRequest(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		invite(t, w.srv, w.org, orgRole(w.org, orgd.RoleOwner), "boss@acme.test")
		r := w.srv.Elastic("POST", "/api/v1/organizations/"+w.org.ID+"/invitations", w.admin.Key, map[string]any{
			"emails":           []string{"BOSS@acme.test", "not an address"},
			"role_assignments": map[string]any{"organization": []map[string]string{{"role_id": "organization-admin", "organization_id": w.org.ID}}},
		})
		wantBatchErrors(t, wantError(t, r, 400, orgd.CodeRolesForbidden), [][]string{
			{orgd.CodeRolesForbidden, "BOSS@acme.test"},
			{orgd.CodeInviteInvalidMail, "not an address"},
		})
	})
}

// TestWireCSVPathParams: token and user id lists split on a literal comma
// and on %2C (which the Go client sends); an empty list is no valid token.
func TestWireCSVPathParams(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		org := "/api/v1/organizations/" + w.org.ID
		for i, sep := range []string{",", "%2C", "%2c", " , ", "%2C%20"} {
			t.Run("separator "+sep, func(t *testing.T) {
				tokens := invite(t, w.srv, w.org, orgd.RoleAssignments{}, "a@example.com", "b@example.com")
				r := w.srv.Elastic("DELETE", org+"/invitations/"+tokens[0]+sep+tokens[1], w.owner.Key, nil)
				checkSuccessShape(t, routeByOperation(t, "delete-organization-invitations"), r)
				if n := len(listInvitations(t, w.srv, w.owner.Key, w.org.ID)); n != 0 {
					t.Errorf("%d invitations left", n)
				}
				a := w.srv.Member(w.org, "a"+strings.Repeat("x", i)+"@example.com", orgd.RoleReader)
				b := w.srv.Member(w.org, "b"+strings.Repeat("x", i)+"@example.com", orgd.RoleReader)
				r = w.srv.Elastic("DELETE", org+"/members/"+a.User.ID+sep+b.User.ID, w.owner.Key, nil)
				checkSuccessShape(t, routeByOperation(t, "delete-organization-memberships"), r)
				if n := len(listMembers(t, w.srv, w.owner.Key, w.org.ID)); n != 3 {
					t.Errorf("%d members left, want 3", n)
				}
			})
		}
		t.Run("a token and a user id named twice", func(t *testing.T) {
			tok := invite(t, w.srv, w.org, orgd.RoleAssignments{}, "twice@example.com")[0]
			r := w.srv.Elastic("DELETE", org+"/invitations/"+tok+","+tok, w.owner.Key, nil)
			checkSuccessShape(t, routeByOperation(t, "delete-organization-invitations"), r)
			if n := len(listInvitations(t, w.srv, w.owner.Key, w.org.ID)); n != 0 {
				t.Errorf("%d invitations left", n)
			}
			m := w.srv.Member(w.org, "twice@example.com", orgd.RoleReader)
			r = w.srv.Elastic("DELETE", org+"/members/"+m.User.ID+"%2C"+m.User.ID, w.owner.Key, nil)
			checkSuccessShape(t, routeByOperation(t, "delete-organization-memberships"), r)
		})
		for _, list := range []string{"/", "", "/,", "/%2C", "/%20", "/,,"} {
			r := w.srv.Elastic("DELETE", org+"/invitations"+list, w.owner.Key, nil)
			wantError(t, r, 400, orgd.CodeInvalidData)
			r = w.srv.Elastic("DELETE", org+"/members"+list, w.owner.Key, nil)
			wantError(t, r, 400, orgd.CodeInvalidData)
		}
	})
}

// TestWireClientBodies sends the bodies real clients send, byte for byte.
func TestWireClientBodies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		id := w.org.ID
		path := "/api/v1/organizations/" + id + "/invitations"
		orgAll := func(role string) elastic.RoleAssignments {
			return elastic.RoleAssignments{Organization: []elastic.OrganizationRoleAssignment{{RoleID: role, OrganizationID: id}}}
		}
		tests := []struct {
			name    string
			body    string
			expires time.Duration
			roles   elastic.RoleAssignments
		}{
			{"terraform", `{"emails":["tf@example.com"],"expires_in":"7d","role_assignments":{"deployment":[{"all":true,"application_roles":null,"deployment_ids":null,"organization_id":"` + id +
				`","role_id":"deployment-viewer"}],"organization":null,"platform":null,"project":{"elasticsearch":null,"observability":null,"security":null}}}`,
				7 * 24 * time.Hour,
				elastic.RoleAssignments{Deployment: []elastic.DeploymentRoleAssignment{{RoleID: "deployment-viewer", OrganizationID: id, All: new(true)}}}},
			{"cloud-sdk-go", `{"emails":["go@example.com"],"expires_in":"3d","role_assignments":{"deployment":null,"organization":[{"organization_id":"` + id +
				`","role_id":"billing-admin"}],"platform":null}}`, 3 * 24 * time.Hour, orgAll("billing-admin")},
			{"python without organization_id", `{"emails":["py@example.com"],"role_assignments":{"organization":[{"role_id":"billing-admin"}]}}`,
				72 * time.Hour, orgAll("billing-admin")},
			{"no role assignments", `{"emails":["none@example.com"],"expires_in":null,"role_assignments":null}`, 72 * time.Hour, elastic.RoleAssignments{}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := w.srv.Request("POST", path, map[string]string{"Authorization": "ApiKey " + w.owner.Key, "User-Agent": "elastic-agentic"}, tc.body)
				checkSuccessShape(t, routeByOperation(t, "create-organization-invitations"), r)
				var got elastic.OrganizationInvitations
				r.JSON(t, &got)
				if len(got.Invitations) != 1 {
					t.Fatalf("got %s", r.Body)
				}
				inv := got.Invitations[0]
				if diff := cmp.Diff(tc.roles, inv.RoleAssignments); diff != "" {
					t.Errorf("role assignments (-want +got):\n%s", diff)
				}
				created, _ := time.Parse(time.RFC3339Nano, inv.CreatedAt)
				expires, _ := time.Parse(time.RFC3339Nano, inv.ExpiresAt)
				if expires.Sub(created) != tc.expires || inv.Organization.ID != id || inv.Token == "" || inv.Expired {
					t.Errorf("invitation %s", r.Body)
				}
			})
		}

		// Python sends Content-Type on GET and no Accept.
		r := w.srv.Request("GET", "/api/v1/organizations/"+id+"/members", map[string]string{"Authorization": "ApiKey " + w.owner.Key, "Content-Type": "application/json"}, nil)
		checkSuccessShape(t, routeByOperation(t, "list-organization-members"), r)
	})
}

// TestWireUpdateOrganizationLists: null or absent lists leave contacts as
// they are (the Go client sends null for every list it is not given); []
// clears them.
func TestWireUpdateOrganizationLists(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		path := "/api/v1/organizations/" + w.org.ID
		put := func(body string) elastic.Organization {
			t.Helper()
			r := w.srv.Elastic("PUT", path, w.owner.Key, body)
			checkSuccessShape(t, routeByOperation(t, "update-organization"), r)
			var got elastic.Organization
			r.JSON(t, &got)
			if diff := cmp.Diff(got, getOrganization(t, w.srv, w.owner.Key, w.org.ID)); diff != "" {
				t.Errorf("the answer to PUT differs from GET (-put +get):\n%s", diff)
			}
			return got
		}
		full := elastic.Organization{ID: w.org.ID, Name: "Acme", DefaultDiskUsageAlertsEnabled: true,
			BillingContacts: []string{"bills@acme.test"}, OperationalContacts: []string{"ops@acme.test"}, NotificationsAllowedEmailDomains: []string{"acme.test"}}
		tests := []struct {
			name, body string
			want       elastic.Organization
		}{
			{"set", `{"billing_contacts":["bills@acme.test"],"operational_contacts":["ops@acme.test"],"notifications_allowed_email_domains":["acme.test"]}`, full},
			{"nulls", `{"billing_contacts":null,"name":"Renamed","notifications_allowed_email_domains":null,"operational_contacts":null}`,
				func() elastic.Organization { o := full; o.Name = "Renamed"; return o }()},
			{"absent", `{"name":"Acme"}`, full},
			{"empty object", `{}`, full},
			{"clear", `{"billing_contacts":[],"operational_contacts":[],"notifications_allowed_email_domains":[],"default_disk_usage_alerts_enabled":false}`,
				elastic.Organization{ID: w.org.ID, Name: "Acme", BillingContacts: []string{}, OperationalContacts: []string{}, NotificationsAllowedEmailDomains: []string{}}},
		}
		for _, tc := range tests {
			if diff := cmp.Diff(tc.want, put(tc.body)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, diff)
			}
		}
	})
}

// TestWireBodilessAndBodiedRequests: _accept takes no body (the Go client
// sends an empty one with a JSON Content-Type); DELETE role_assignments
// takes one.
func TestWireBodilessAndBodiedRequests(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		w := newWorld(t, databaseURL)
		acceptRoute := routeByOperation(t, "accept-organization-invitation")
		for i, tc := range []struct {
			name    string
			headers map[string]string
			body    any
		}{
			{"no body", nil, nil},
			{"empty JSON body", map[string]string{"Content-Type": "application/json"}, ""},
			{"empty object", nil, "{}"},
		} {
			t.Run("accept with "+tc.name, func(t *testing.T) {
				u := w.srv.User(strings.Repeat("x", i+1)+"@example.com", false)
				tok := invite(t, w.srv, w.org, orgd.RoleAssignments{}, u.User.Email)[0]
				h := map[string]string{"Authorization": "ApiKey " + u.Key}
				for k, v := range tc.headers {
					h[k] = v
				}
				r := w.srv.Request("POST", "/api/v1/organizations/invitations/"+tok+"/_accept", h, tc.body)
				checkSuccessShape(t, acceptRoute, r)
			})
		}

		path := "/api/v1/users/" + w.reader.User.ID + "/role_assignments"
		body := `{"deployment":[{"role_id":"deployment-viewer","organization_id":"` + w.org.ID + `","all":true}],"organization":null,"platform":null}`
		checkSuccessShape(t, routeByOperation(t, "add-role-assignments"), w.srv.Elastic("POST", path, w.owner.Key, body))
		checkSuccessShape(t, routeByOperation(t, "remove-role-assignments"), w.srv.Elastic("DELETE", path, w.owner.Key, body))
		for _, m := range listMembers(t, w.srv, w.owner.Key, w.org.ID) {
			if m.UserID == w.reader.User.ID && len(m.RoleAssignments.Deployment) != 0 {
				t.Errorf("DELETE with a body left %+v", m.RoleAssignments.Deployment)
			}
		}
	})
}
