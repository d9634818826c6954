package orgd_test

import (
	"testing"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
)

// TestInvitationPageUsersAreVerified: the invitation page makes the user
// of an accepted invitation with a verified address (the emailed token
// proved it), even when an unverified claim of the address exists.
func TestInvitationPageUsersAreVerified(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		squatter := must(f.svc.SignIn(f.ctx, &orgd.Identity{Issuer: "https://idp.example.com", Subject: "s1", Email: "kim@x.test"}))
		if squatter.User.EmailVerified {
			t.Fatal("an identity without email_verified made a verified user")
		}
		_, err := f.svc.ListMyInvitations(f.ctx, squatter)
		wantCode(t, err, orgd.CodeEmailUnverified)
		inv := must(f.invite(f.owner, "kim@x.test"))[0]
		m := must(f.svc.AcceptInvitationAsInvitee(f.ctx, inv.Token))
		kim := must(f.svc.FindUser(f.ctx, orgd.SystemPrincipal, "kim@x.test"))
		if m.UserID != kim.ID || kim.ID == squatter.User.ID || !kim.EmailVerified {
			t.Errorf("the page's invitee: membership of %s, user %+v; want a verified user other than %s", m.UserID, kim, squatter.User.ID)
		}
	})
}
