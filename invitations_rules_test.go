package orgd_test

import (
	"testing"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
)

// TestOnlyOwnersRefreshOwnersInvitations: refreshing an invitation replaces
// its roles and token, so an organization admin may no more refresh an
// invitation for an owner than resend or revoke it. (Found by the model
// test in server/: an admin could turn an owner's invitation into a
// reader's through the Elastic create-or-refresh.)
func TestOnlyOwnersRefreshOwnersInvitations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		admin := f.member("admin@acme.test", orgd.RoleOrgAdmin)
		ownerRole := orgd.RoleAssignments{Organization: []orgd.OrgRoleAssignment{{RoleID: string(orgd.RoleOwner)}}}
		_, issued, err := f.svc.CreateInvitations(f.ctx, f.owner, f.org.ID, orgd.InviteRequest{Emails: []string{"boss@x.test"}, Roles: ownerRole, RefreshExisting: true})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(2 * time.Minute)
		_, err = f.invite(admin, "reader@x.test", "boss@x.test")
		if e := wantCode(t, err, orgd.CodeRolesForbidden); e.Field != "emails[1]" || e.Value != "boss@x.test" {
			t.Errorf("error names %s = %q, want emails[1] = boss@x.test", e.Field, e.Value)
		}
		inv, _, err := f.svc.GetInvitationByToken(f.ctx, f.owner, issued[0].Token)
		if err != nil || inv.Roles.TopRole(f.org.ID) != orgd.RoleOwner {
			t.Fatalf("after the refused refresh: %v, roles %+v", err, inv.Roles)
		}
		if _, err := f.invite(f.owner, "boss@x.test"); err != nil {
			t.Errorf("an owner refreshes it: %v", err)
		}
	})
}
