package elastic_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/elastic"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/store"
)

// FuzzCreateInvitationsBody sends fuzzed bodies to the real
// create-invitations handler, each for an organization of its own with an
// owner as the caller, and judges every answer by the documented rules:
// never a 5xx, JSON always, the Elastic envelope on errors with the status
// and code of the first rule the body breaks, and 201 exactly when it
// breaks none, with one invitation per distinct valid address.
func FuzzCreateInvitationsBody(f *testing.F) {
	for _, s := range []string{
		`{"emails":["bob@example.com"]}`,
		`{"emails":["Bob@Example.com","bob@example.com "," BOB@EXAMPLE.COM"],"expires_in":"3d"}`,
		`{"emails":["a@example.com","b@example.com"],"expires_in":"1h","role_assignments":{"organization":[{"role_id":"organization-admin"}]}}`,
		`{"emails":["a@bücher.example"],"role_assignments":{"deployment":[{"role_id":"viewer","all":true}],"project":{"security":[{"role_id":"editor","project_ids":["p"]}]}}}`,
		`{"emails":["owner@fuzz.test"]}`, `{"emails":["not an address","owner@fuzz.test","c@example.com"]}`,
		`{"emails":[]}`, `{"emails":null}`, `{}`, `null`, `[]`, `""`, ``, `{"emails":"a@example.com"}`, `{"emails":[1]}`,
		`{"emails":["a@example.com"],"expires_in":"0s"}`, `{"emails":["a@example.com"],"expires_in":"31d"}`,
		`{"emails":["a@example.com"],"expires_in":""}`, `{"emails":["a@example.com"],"expires_in":72}`,
		`{"emails":["a@example.com"],"role_assignments":{"platform":[{"role_id":"platform-admin"}]}}`,
		`{"emails":["a@example.com"],"role_assignments":{"organization":[{"role_id":"root"}]}}`,
		`{"emails":["a@example.com"],"role_assignments":{"organization":[{"role_id":"reader","organization_id":"elsewhere"}]}}`,
		`{"emails":["a@example.com"],"role_assignments":{"deployment":[{"role_id":"v","all":true,"deployment_ids":["d"]}]}}`,
		`{"emails":["a@example.com"],"role_assignments":{"deployment":[{"role_id":"","all":true}]}}`,
		`{"emails":["a@example.com"]}]`, `{"emails":["a@example.com"]} {}`, `{"emails":["a@example.com"]`,
		`{"emails":["a@example.com"],"emails":["b@example.com"]}`, `{"EMAILS":["a@example.com"]}`,
		`{"emails":["` + strings.Repeat("x", 300) + `@example.com"]}`,
		`{"emails":[` + strings.Repeat(`"a@example.com",`, 100) + `"b@example.com"]}`,
	} {
		f.Add([]byte(s))
	}
	srv := apitest.Start(f, testdb.URL(f, store.SQLite), apitest.Unlimited)
	owner := srv.User("owner@fuzz.test", false)
	limits := srv.Svc.Limits()
	f.Fuzz(func(t *testing.T, body []byte) {
		org, err := srv.OwnedOrg(owner.User.ID)
		if err != nil {
			t.Fatal(err)
		}
		r, err := srv.Do("POST", "/api/v1/organizations/"+org.ID+"/invitations", map[string]string{"Authorization": "ApiKey " + owner.Key}, body)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.CheckJSON(); err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		want, req := judgeCreate(body, org.ID, owner.User.EmailNorm, limits)
		if r.Status != want.status {
			t.Fatalf("body %q: status %d, want %d (%s); answer %s", body, r.Status, want.status, want.codes, r.Body)
		}
		if r.Status != http.StatusCreated {
			checkElasticError(t, r, want.codes)
			return
		}
		checkCreated(t, r, req, org.ID, limits)
	})
}

// verdict is the answer the rules call for: a status and, for an error,
// the codes its first element may have.
type verdict struct {
	status int
	codes  []string
}

// judgeCreate applies the documented rules of create-invitations to a body,
// stage by stage as the request is checked: the body, the number of
// addresses, the expiry, the role assignments, then each address.
func judgeCreate(body []byte, orgID, ownerNorm string, limits orgd.Limits) (verdict, elastic.OrganizationInvitationRequest) {
	var req elastic.OrganizationInvitationRequest
	if len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, &req) != nil {
		return verdict{400, []string{orgd.CodeInvalidData}}, req
	}
	if len(req.Emails) == 0 {
		return verdict{400, []string{orgd.CodeInviteInvalidMail}}, req
	}
	if len(req.Emails) > limits.MaxEmailsPerRequest {
		return verdict{429, []string{orgd.CodeInviteRateLimit}}, req
	}
	if _, ok := expiry(req, limits); !ok {
		return verdict{400, []string{orgd.CodeInviteExpiry}}, req
	}
	if ra := req.RoleAssignments; ra != nil {
		if len(ra.Platform) > 0 {
			return verdict{403, []string{orgd.CodeRolesForbidden}}, req
		}
		if codes := roleProblems(ra, orgID); len(codes) > 0 {
			return verdict{400, codes}, req
		}
	}
	var codes []string
	for _, s := range req.Emails {
		e, err := orgd.ParseEmail(s)
		switch {
		case err != nil:
			codes = append(codes, orgd.CodeInviteInvalidMail)
		case e.Norm == ownerNorm:
			codes = append(codes, orgd.CodeAlreadyMember)
		}
	}
	if len(codes) > 0 {
		return verdict{400, codes}, req
	}
	return verdict{201, nil}, req
}

// expiry is the lifetime a request asks for: the default when it names
// none (or ""), else a duration within the limits.
func expiry(req elastic.OrganizationInvitationRequest, limits orgd.Limits) (time.Duration, bool) {
	if req.ExpiresIn == nil || *req.ExpiresIn == "" {
		return limits.DefaultExpiry, true
	}
	d, err := orgd.ParseDuration(*req.ExpiresIn)
	return d, err == nil && limits.MinExpiry <= d && d <= limits.MaxExpiry
}

// roleProblems lists the code of every rule an invitation's role
// assignments break: organization roles from the catalog, every assignment
// in orgID (or in none, which means orgID), scoped roles named, and `all`
// exactly when no ids are given.
func roleProblems(ra *elastic.RoleAssignments, orgID string) []string {
	var codes []string
	foreign := func(id string) {
		if id != "" && id != orgID {
			codes = append(codes, orgd.CodeInvalidData)
		}
	}
	for _, a := range ra.Organization {
		foreign(a.OrganizationID)
		if _, ok := orgd.ParseRole(a.RoleID); !ok {
			codes = append(codes, orgd.CodeInvalidRole)
		}
	}
	scoped := func(org, role string, all *bool, ids []string) {
		foreign(org)
		if strings.TrimSpace(role) == "" || len(role) > 128 {
			codes = append(codes, orgd.CodeInvalidRole)
		}
		if (all != nil && *all) == (len(ids) > 0) {
			codes = append(codes, orgd.CodeInvalidData)
		}
	}
	for _, a := range ra.Deployment {
		scoped(a.OrganizationID, a.RoleID, a.All, a.DeploymentIDs)
	}
	if p := ra.Project; p != nil {
		for _, a := range slices.Concat(p.Elasticsearch, p.Observability, p.Security) {
			scoped(a.OrganizationID, a.RoleID, a.All, a.ProjectIDs)
		}
	}
	return codes
}

// checkElasticError checks the Elastic envelope and that its first code is
// one of codes.
func checkElasticError(t *testing.T, r *apitest.Response, codes []string) {
	t.Helper()
	got, err := apitest.ElasticCodes(r)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(codes, got[0]) {
		t.Errorf("first code %q, want one of %q; body %s", got[0], codes, r.Body)
	}
}

// checkCreated checks a 201: one invitation per distinct address, each
// address as valid as it was sent, in the organization, with the expiry
// asked for and role assignments scoped to the organization.
func checkCreated(t *testing.T, r *apitest.Response, req elastic.OrganizationInvitationRequest, orgID string, limits orgd.Limits) {
	t.Helper()
	var out elastic.OrganizationInvitations
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("201 with body %s: %v", r.Body, err)
	}
	want := map[string]bool{}
	for _, s := range req.Emails {
		e, _ := orgd.ParseEmail(s)
		want[e.Norm] = true
	}
	ttl, _ := expiry(req, limits)
	got := map[string]bool{}
	for _, inv := range out.Invitations {
		e, err := orgd.ParseEmail(inv.Email)
		if err != nil {
			t.Errorf("invited %q, which does not parse: %v", inv.Email, err)
			continue
		}
		if got[e.Norm] {
			t.Errorf("%s is invited twice", e.Norm)
		}
		got[e.Norm] = true
		created, err1 := time.Parse(time.RFC3339Nano, inv.CreatedAt)
		expires, err2 := time.Parse(time.RFC3339Nano, inv.ExpiresAt)
		if err1 != nil || err2 != nil || expires.Sub(created) != ttl {
			t.Errorf("created %s, expires %s; want a lifetime of %s", inv.CreatedAt, inv.ExpiresAt, ttl)
		}
		if inv.Token == "" || inv.Expired || inv.Organization.ID != orgID || inv.EmailStatus != string(orgd.EmailQueued) {
			t.Errorf("invitation %+v", inv)
		}
		for _, a := range inv.RoleAssignments.Organization {
			if a.OrganizationID != orgID {
				t.Errorf("role assignment %+v outside organization %s", a, orgID)
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("invited %v, want %v", got, want)
	}
}
