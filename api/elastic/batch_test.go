package elastic_test

import (
	"testing"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/elastic"
	"github.com/orgd/orgd/internal/testdb"
)

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
		reply := wantError(t, r, 400, orgd.CodeRolesForbidden)
		want := []elastic.BasicFailedReplyElement{
			{Code: orgd.CodeRolesForbidden, Fields: []string{"BOSS@acme.test"}},
			{Code: orgd.CodeInviteInvalidMail, Fields: []string{"not an address"}},
		}
		if len(reply.Errors) != len(want) {
			t.Fatalf("errors %+v, want %+v", reply.Errors, want)
		}
		for i, e := range reply.Errors {
			if e.Code != want[i].Code || len(e.Fields) != 1 || e.Fields[0] != want[i].Fields[0] {
				t.Errorf("errors[%d] = %+v, want %+v", i, e, want[i])
			}
		}
	})
}
