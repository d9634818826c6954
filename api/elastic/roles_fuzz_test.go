package elastic

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/rapidflags"
)

const fuzzOrgID = "0193a5b0-0000-7000-8000-000000000001"

// FuzzRoleAssignments decodes two wire RoleAssignments as a client sends
// them and checks the domain's reading of them for an organization: no
// panic; refusals are invalid-input errors that name a role_assignments
// field; the canonical form is idempotent, holds exactly the assignments
// sent (none lost, none invented), survives JSON both in the store's shape
// and on the wire, and Merge and Remove are set union and difference.
func FuzzRoleAssignments(f *testing.F) {
	for _, s := range [][2]string{
		{`{}`, `{}`},
		{`{"organization":[{"role_id":"owner","organization_id":"` + fuzzOrgID + `"}]}`, `{"organization":[{"role_id":"reader"}]}`},
		{`{"organization":[{"role_id":"reader"},{"role_id":"reader"},{"role_id":"billing-admin"}]}`, `{"organization":[{"role_id":"reader"}]}`},
		{`{"organization":[{"role_id":"root"}]}`, `{"organization":[{"role_id":"reader","organization_id":"other"}]}`},
		{`{"platform":[{"role_id":"platform-admin"}],"deployment":null,"project":{"elasticsearch":null}}`, `{"platform":[{"role_id":"x"}]}`},
		{`{"deployment":[{"role_id":"deployment-viewer","all":true}]}`, `{"deployment":[{"role_id":"deployment-viewer","deployment_ids":["d2","d1","d1"]}]}`},
		{`{"deployment":[{"role_id":"v","all":true,"deployment_ids":["d"]}]}`, `{"deployment":[{"role_id":"v","all":false}]}`},
		{`{"deployment":[{"role_id":" ","all":true}]}`, `{"deployment":[{"role_id":"` + strings.Repeat("r", 129) + `","all":true}]}`},
		{`{"project":{"elasticsearch":[{"role_id":"admin","all":true,"application_roles":["b","a","a"]}],"observability":[{"role_id":"viewer","project_ids":["p1"]}],"security":[{"role_id":"editor","all":true}]}}`,
			`{"project":{"security":[{"role_id":"editor","all":true,"organization_id":"` + fuzzOrgID + `"}]}}`},
		{`{"organization":[{"role_id":"reader","organization_id":""}],"deployment":[{"role_id":"v","all":true,"organization_id":"elsewhere"}]}`, `null`},
	} {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) { checkRolePair(t, a, b) })
}

// TestRoleAssignmentsAlgebra checks the properties of FuzzRoleAssignments
// on assignments built from few, awkward values (ids with ',' and NUL,
// missing and foreign organizations), which byte-level mutation of JSON
// rarely combines: it did not find in minutes the two ids that made one
// assignment, which this finds in about a thousand cases.
func TestRoleAssignmentsAlgebra(t *testing.T) {
	rapidflags.DefaultChecks(3000)
	rapid.Check(t, func(t *rapid.T) {
		checkRolePair(t, mustJSON(wireRoles.Draw(t, "a")), mustJSON(wireRoles.Draw(t, "b")))
	})
}

var (
	// Values are repeated to be drawn more often: most drawn assignments
	// should be valid, or Merge and Remove are rarely reached.
	awkward = rapid.SampledFrom([]string{"a", "b", "a,b", "a\x00b", "b\x00"})
	someIDs = rapid.SliceOfN(awkward, 1, 2)
	orgRef  = rapid.SampledFrom([]string{"", "", fuzzOrgID, fuzzOrgID, fuzzOrgID, "other"})
	roleID  = rapid.SampledFrom([]string{"v", "v", "v", "v\x00a", " "})
	scoped  = rapid.Custom(func(t *rapid.T) ProjectRoleAssignment {
		a := ProjectRoleAssignment{RoleID: roleID.Draw(t, "role"), OrganizationID: orgRef.Draw(t, "org")}
		if rapid.IntRange(0, 3).Draw(t, "with app") == 0 {
			a.ApplicationRoles = someIDs.Draw(t, "app")
		}
		if rapid.IntRange(0, 5).Draw(t, "shape") == 0 {
			a.All = rapid.Ptr(rapid.Bool(), true).Draw(t, "all")
		}
		if a.All == nil || !*a.All {
			a.ProjectIDs = someIDs.Draw(t, "ids")
		}
		return a
	})
	scopedList = rapid.SliceOfN(scoped, 0, 2)
	wireRoles  = rapid.Custom(func(t *rapid.T) RoleAssignments {
		var ra RoleAssignments
		for _, r := range rapid.SliceOfN(rapid.SampledFrom([]string{"platform-admin", "platform-admin", "platform-admin", "viewer"}), 0, 1).Draw(t, "platform") {
			ra.Platform = append(ra.Platform, PlatformRoleAssignment{RoleID: r})
		}
		for range rapid.IntRange(0, 2).Draw(t, "organization") {
			ra.Organization = append(ra.Organization, OrganizationRoleAssignment{
				RoleID: rapid.SampledFrom(append(roleNames(), "root")).Draw(t, "role"), OrganizationID: orgRef.Draw(t, "org")})
		}
		for _, a := range scopedList.Draw(t, "deployment") {
			ra.Deployment = append(ra.Deployment, DeploymentRoleAssignment{RoleID: a.RoleID, OrganizationID: a.OrganizationID,
				All: a.All, DeploymentIDs: a.ProjectIDs, ApplicationRoles: a.ApplicationRoles})
		}
		if rapid.IntRange(0, 3).Draw(t, "project") == 0 {
			ra.Project = &ProjectRoleAssignments{Elasticsearch: scopedList.Draw(t, "elasticsearch"),
				Observability: scopedList.Draw(t, "observability"), Security: scopedList.Draw(t, "security")}
		}
		return ra
	})
)

func roleNames() []string {
	var out []string
	for _, r := range orgd.Roles {
		out = append(out, string(r))
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// tb is what the checks need of *testing.T and *rapid.T.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// checkRolePair checks two wire bodies one by one, and Merge and Remove
// on the pair when the domain accepts both.
func checkRolePair(t tb, a, b []byte) {
	t.Helper()
	x, ok := readRoles(t, a)
	if !ok {
		return
	}
	y, ok := readRoles(t, b)
	if !ok {
		return
	}
	union, diff := items(x), items(x)
	for k := range items(y) {
		union[k] = true
		delete(diff, k)
	}
	merged := x.Merge(y)
	checkCanonical(t, "Merge", merged)
	if got := items(merged); !maps.Equal(got, union) {
		t.Errorf("Merge(%s, %s) holds %v, want the union %v", a, b, keys(got), keys(union))
	}
	removed := merged.Remove(y)
	checkCanonical(t, "Remove", removed)
	if got := items(removed); !maps.Equal(got, diff) {
		t.Errorf("Remove(Merge(%s, %s), second) holds %v, want the first without the second %v", a, b, keys(got), keys(diff))
	}
}

// readRoles decodes a wire body and reads it for fuzzOrgID, checking every
// property of one set of assignments. ok is false when the body is not
// JSON of the wire type or the domain refused it.
func readRoles(t tb, body []byte) (ra orgd.RoleAssignments, ok bool) {
	t.Helper()
	var wire RoleAssignments
	if json.Unmarshal(body, &wire) != nil {
		return orgd.RoleAssignments{}, false
	}
	in := rolesIn(&wire)
	ra, err := in.ForOrganization(fuzzOrgID)
	if err != nil {
		if e, isOrgd := err.(*orgd.Error); !isOrgd || e.Kind != orgd.KindInvalid ||
			(e.Code != orgd.CodeInvalidData && e.Code != orgd.CodeInvalidRole) || !strings.HasPrefix(e.Field, "role_assignments.") {
			t.Fatalf("ForOrganization(%s): %#v, want an invalid-input error naming a role_assignments field", body, err)
		}
		return orgd.RoleAssignments{}, false
	}
	checkCanonical(t, "ForOrganization", ra)
	if want := items(scopedTo(in, fuzzOrgID)); !maps.Equal(items(ra), want) {
		t.Errorf("ForOrganization(%s) holds %v, want what was sent %v", body, keys(items(ra)), keys(want))
	}
	if diff := cmp.Diff(ra, ra.Merge(ra)); diff != "" {
		t.Errorf("Merge(x, x) != x for %s (-x +merged):\n%s", body, diff)
	}
	if ids := ra.OrganizationIDs(); len(ids) > 1 || len(ids) == 1 && ids[0] != fuzzOrgID {
		t.Errorf("ForOrganization(%s) is scoped to %q", body, ids)
	}
	// The store keeps the domain's JSON.
	stored := mustJSON(ra)
	var back orgd.RoleAssignments
	if err := json.Unmarshal(stored, &back); err != nil {
		t.Fatalf("read back %s: %v", stored, err)
	}
	if diff := cmp.Diff(ra, back); diff != "" {
		t.Errorf("stored as %s, read back different (-want +got):\n%s", stored, diff)
	}
	// The wire writes it back to clients, which may send it again.
	sent := mustJSON(rolesOut(ra))
	var again RoleAssignments
	if err := json.Unmarshal(sent, &again); err != nil {
		t.Fatalf("read back %s: %v", sent, err)
	}
	resent, err := rolesIn(&again).ForOrganization(fuzzOrgID)
	if err != nil {
		t.Fatalf("written as %s, which is refused when sent back: %v", sent, err)
	}
	if diff := cmp.Diff(ra, resent); diff != "" {
		t.Errorf("written as %s, read back different (-want +got):\n%s", sent, diff)
	}
	return ra, true
}

func checkCanonical(t tb, op string, ra orgd.RoleAssignments) {
	t.Helper()
	if diff := cmp.Diff(ra, ra.Canonical()); diff != "" {
		t.Errorf("%s is not canonical (-got +canonical):\n%s", op, diff)
	}
}

// scopedTo fills the organization of assignments that name none, as the
// documented rule says.
func scopedTo(ra orgd.RoleAssignments, orgID string) orgd.RoleAssignments {
	fill := func(id *string) {
		if *id == "" {
			*id = orgID
		}
	}
	out := orgd.RoleAssignments{Platform: ra.Platform}
	for _, a := range ra.Organization {
		fill(&a.OrganizationID)
		out.Organization = append(out.Organization, a)
	}
	for _, l := range []struct{ dst, src *[]orgd.ScopedRoleAssignment }{
		{&out.Deployment, &ra.Deployment}, {&out.Project.Elasticsearch, &ra.Project.Elasticsearch},
		{&out.Project.Observability, &ra.Project.Observability}, {&out.Project.Security, &ra.Project.Security},
	} {
		for _, a := range *l.src {
			fill(&a.OrganizationID)
			*l.dst = append(*l.dst, a)
		}
	}
	return out
}

// items is the set of assignments of ra, each written as its list and its
// JSON with the id lists as sets: what an assignment means, independent of
// how the domain compares them.
func items(ra orgd.RoleAssignments) map[string]bool {
	out := map[string]bool{}
	add := func(list string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		out[list+" "+string(b)] = true
	}
	for _, a := range ra.Platform {
		add("platform", a)
	}
	for _, a := range ra.Organization {
		add("organization", a)
	}
	for name, list := range map[string][]orgd.ScopedRoleAssignment{"deployment": ra.Deployment,
		"elasticsearch": ra.Project.Elasticsearch, "observability": ra.Project.Observability, "security": ra.Project.Security} {
		for _, a := range list {
			a.ResourceIDs, a.ApplicationRoles = set(a.ResourceIDs), set(a.ApplicationRoles)
			add(name, a)
		}
	}
	return out
}

func set(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func keys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }
