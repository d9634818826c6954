package web

import (
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGoldenPages renders every page with fixed data and compares it with
// testdata/<case>.html. Run "go test ./web -run Golden -update" after a
// deliberate change, and read the diff.
func TestGoldenPages(t *testing.T) {
	now := time.Date(2026, 11, 24, 14, 5, 0, 0, time.UTC)
	p := &Pages{base: "/orgd", now: func() time.Time { return now }}
	inv := p.describe(&orgd.InvitationView{
		Invitation: &orgd.Invitation{ID: "0193", Email: "bob@example.test", InviterEmail: "olive@acme.test", InviterName: "Olive Owner",
			ExpiresAt: now.Add(72 * time.Hour)},
		Organization: &orgd.Organization{Name: "Acme"},
		Role:         orgd.RoleContributor,
		State:        orgd.StatePending,
	})
	pending := page{Invitation: inv, Token: "TOKEN", FormToken: "FORM-TOKEN"}
	signIn := pending
	signIn.SignIn = true
	cases := []struct {
		name, template string
		status         int
		data           page
	}{
		{"invitation", "invitation", 200, pending},
		{"invitation_signin", "invitation", 200, signIn},
		{"accept_done", "accept_done", 200, page{Invitation: inv}},
		{"decline_done", "decline_done", 200, page{Invitation: inv}},
		{"expired", "expired", 410, page{Invitation: inv}},
		{"accepted", "accepted", 410, page{Invitation: inv}},
		{"declined", "declined", 410, page{Invitation: inv}},
		{"invalid", "invalid", 404, page{}},
		{"member", "member", 409, page{Invitation: inv}},
		{"member_onward", "member", 410, page{Invitation: inv, Token: "TOKEN", Onward: "https://app.example.test/welcome?from=orgd&lang=en"}},
		{"signin_failed_expired", "signin_failed", 400, page{Reason: "expired"}},
		{"signin_failed_cancelled", "signin_failed", 403, page{Reason: "cancelled", Token: "TOKEN"}},
		{"signin_failed_account", "signin_failed", 403, page{Reason: "account", Token: "TOKEN",
			Message: "The user with the address bob@example.test signs in with another account of your identity provider."}},
		{"signin_mismatch", "signin_mismatch", 403, page{Invitation: inv, Token: "TOKEN", SignedInAs: "robert@elsewhere.test"}},
		{"signin_unverified", "signin_unverified", 403, page{Invitation: inv, Token: "TOKEN", SignedInAs: "bob@example.test"}},
		{"accept_done_signed_in", "accept_done", 200, page{Invitation: inv, SignedInAs: "Bob@Example.test"}},
		{"refused", "refused", 403, page{Token: "TOKEN"}},
		{"error_404", "error", 404, page{Message: "The requested resource was not found."}},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.template] = true
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := p.render(rec, c.status, c.template, c.data); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", c.name+".html")
			if *update {
				if err := os.WriteFile(path, rec.Body.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), rec.Body.String()); diff != "" {
				t.Errorf("%s (-golden +rendered):\n%s", path, diff)
			}
		})
	}
	for name := range templates {
		if !covered[name] {
			t.Errorf("the page %q has no golden case", name)
		}
	}
}
