package store_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/store"
)

// Role assignments are decoded once per stored text; every read must still
// get a value of its own, equal to what the text says.
func TestDecodeRolesGivesEachReadItsOwnCopy(t *testing.T) {
	text := `{"platform":[{"role_id":"platform-viewer"}],"organization":[{"role_id":"organization-admin","organization_id":"o1"}],` +
		`"deployment":[{"role_id":"deployment-editor","organization_id":"o1","ids":["d1","d2"],"application_roles":["a"]}],` +
		`"project":{"elasticsearch":[{"role_id":"elasticsearch-viewer","organization_id":"o1","all":true}]}}`
	var want orgd.RoleAssignments
	if err := json.Unmarshal([]byte(text), &want); err != nil {
		t.Fatal(err)
	}
	// Three reads, each changed after it: the first decodes, the others
	// come from what the first left behind.
	for i := range 3 {
		var got orgd.RoleAssignments
		if err := store.DecodeRoles(text, &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("read %d (-want +got):\n%s", i+1, diff)
		}
		got.Platform[0].RoleID = "changed"
		got.Organization[0].OrganizationID = "changed"
		got.Deployment[0].ResourceIDs[0] = "changed"
		got.Deployment[0].ApplicationRoles[0] = "changed"
		got.Project.Elasticsearch[0].RoleID = "changed"
	}
	for range 2 { // a text that does not decode is not remembered
		var ra orgd.RoleAssignments
		if err := store.DecodeRoles(`{"organization":[`, &ra); err == nil {
			t.Error("broken text decoded")
		}
	}
}

func TestDecodeRolesKeepsABoundedNumberOfTexts(t *testing.T) {
	for i := range store.MaxRoleTexts + 10 {
		var ra orgd.RoleAssignments
		text := fmt.Sprintf(`{"organization":[{"role_id":"organization-admin","organization_id":"org-%d"}]}`, i)
		if err := store.DecodeRoles(text, &ra); err != nil {
			t.Fatal(err)
		}
		if got := ra.Organization[0].OrganizationID; got != fmt.Sprintf("org-%d", i) {
			t.Fatalf("text %d decoded to organization %q", i, got)
		}
	}
	if n := store.RoleTextsKept(); n > store.MaxRoleTexts {
		t.Errorf("%d texts kept, bound %d", n, store.MaxRoleTexts)
	}
}
