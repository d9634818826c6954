package web_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/api/elastic"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/server"
	"github.com/orgd/orgd/web"
)

// fixture is a running server with an organization "Acme" whose owner
// invites people.
type fixture struct {
	srv   *apitest.Server
	org   *orgd.Organization
	owner *apitest.Caller
	csp   string
}

const defaultCSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func newFixture(t *testing.T, databaseURL string, setup apitest.Setup) *fixture {
	t.Helper()
	srv := apitest.StartWith(t, databaseURL, setup)
	org := srv.Org("Acme", "acme")
	return &fixture{srv: srv, org: org, csp: defaultCSP, owner: namedMember(t, srv, org, "Olive Owner", "olive@acme.test")}
}

// namedMember creates a user with a name and an API key and makes it an
// owner of org.
func namedMember(t *testing.T, srv *apitest.Server, org *orgd.Organization, name, email string) *apitest.Caller {
	t.Helper()
	ctx := context.Background()
	u, err := srv.Svc.CreateUser(ctx, orgd.SystemPrincipal, email, name, false)
	if err != nil {
		t.Fatal(err)
	}
	k, err := srv.Svc.CreateAPIKey(ctx, orgd.SystemPrincipal, u.ID, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Svc.AddMember(ctx, orgd.SystemPrincipal, org.ID, u.ID, orgd.RoleOwner); err != nil {
		t.Fatal(err)
	}
	return &apitest.Caller{User: u, Key: k.Secret}
}

// invite invites email to Acme through the slug API, without email, and
// returns the invitation and its token.
func (f *fixture) invite(t *testing.T, email, role string) (dreadnode.Invitation, string) {
	t.Helper()
	var inv dreadnode.Invitation
	f.srv.Slug("POST", "/api/v1/org/acme/invitations", f.owner.Key, map[string]any{"email": email, "role": role, "send_email": false}).
		Want(t, 200).JSON(t, &inv)
	token, ok := strings.CutPrefix(inv.AcceptURL, f.srv.PublicURL+"/invitations/")
	if !ok {
		t.Fatalf("accept URL %q", inv.AcceptURL)
	}
	return inv, token
}

// send sends a request to the pages; form, if not nil, is the body.
func (f *fixture) send(t *testing.T, method, path string, form url.Values, headers map[string]string) *apitest.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return f.srv.Send(t, req)
}

func (f *fixture) get(t *testing.T, token string) *apitest.Response {
	t.Helper()
	return f.send(t, "GET", "/invitations/"+token, nil, nil)
}

// browser is what a browser sends with a form of the page.
var browser = map[string]string{"Sec-Fetch-Site": "same-origin"}

// answer posts a form of the page ("accept" or "decline") as a browser
// would, with the form token the page shows.
func (f *fixture) answer(t *testing.T, token, action string) *apitest.Response {
	t.Helper()
	form := url.Values{"form_token": {formTokenOf(t, f.get(t, token))}}
	return f.send(t, "POST", "/invitations/"+token+"/"+action, form, browser)
}

var formTokenField = regexp.MustCompile(`<input type="hidden" name="form_token" value="([^"]+)">`)

func formTokenOf(t *testing.T, r *apitest.Response) string {
	t.Helper()
	m := formTokenField.FindAllSubmatch(r.Body, -1)
	if len(m) != 2 || string(m[0][1]) != string(m[1][1]) {
		t.Fatalf("want one form token in both forms; page:\n%s", r.Body)
	}
	return string(m[0][1])
}

var (
	inlineTags = regexp.MustCompile(`</?(?:strong|b|em|a|time)\b[^>]*>`)
	tags       = regexp.MustCompile(`<[^>]*>`)
	spaces     = regexp.MustCompile(`\s+`)
)

// text is what a person reads of an HTML page.
func text(body []byte) string {
	s := tags.ReplaceAllString(inlineTags.ReplaceAllString(string(body), ""), " ")
	return strings.TrimSpace(spaces.ReplaceAllString(html.UnescapeString(s), " "))
}

// wantPage checks the status, the headers every page sends, and that the
// page's text holds each of texts. It returns the text.
func (f *fixture) wantPage(t *testing.T, r *apitest.Response, status int, texts ...string) string {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d; page: %s", r.Status, status, text(r.Body))
	}
	want := map[string]string{
		"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": f.csp, "Referrer-Policy": "no-referrer",
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store",
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	page := text(r.Body)
	for _, s := range texts {
		if !strings.Contains(page, s) {
			t.Errorf("the page does not say %q; it says: %s", s, page)
		}
	}
	return page
}

// state is everything the pages could change.
type state struct {
	Invitations []*orgd.Invitation
	Members     []*orgd.Membership
	Users       int
}

func (f *fixture) state(t *testing.T) state {
	t.Helper()
	ctx := context.Background()
	_, invs, err := f.srv.Svc.ListInvitations(ctx, orgd.SystemPrincipal, "acme", nil)
	if err != nil {
		t.Fatal(err)
	}
	members, err := f.srv.Svc.ListMembers(ctx, orgd.SystemPrincipal, "acme")
	if err != nil {
		t.Fatal(err)
	}
	users, err := f.srv.Svc.CountUsers(ctx, orgd.SystemPrincipal)
	if err != nil {
		t.Fatal(err)
	}
	return state{Invitations: invs, Members: members, Users: users}
}

func (f *fixture) wantUnchanged(t *testing.T, before state) {
	t.Helper()
	if diff := cmp.Diff(before, f.state(t)); diff != "" {
		t.Errorf("state changed (-before +after):\n%s", diff)
	}
}

// wantMember checks that email is a member of Acme with role through both
// APIs, and returns its user id.
func (f *fixture) wantMember(t *testing.T, email, role string) string {
	t.Helper()
	var es elastic.OrganizationMemberships
	f.srv.Elastic("GET", "/api/v1/organizations/"+f.org.ID+"/members", f.owner.Key, nil).Want(t, 200).JSON(t, &es)
	var userID string
	for _, m := range es.Members {
		if m.Email == email {
			userID = m.UserID
			if len(m.RoleAssignments.Organization) != 1 || m.RoleAssignments.Organization[0].RoleID != role {
				t.Errorf("Elastic API: %s has roles %+v, want %s", email, m.RoleAssignments, role)
			}
		}
	}
	if userID == "" {
		t.Errorf("Elastic API: %s is not a member: %+v", email, es.Members)
	}
	var ds []dreadnode.Member
	f.srv.Slug("GET", "/api/v1/org/acme/members", f.owner.Key, nil).Want(t, 200).JSON(t, &ds)
	found := false
	for _, m := range ds {
		if m.EmailAddress == email {
			found = true
			if m.Role != role || m.UserID != userID {
				t.Errorf("slug API: member %+v, want role %s and user %s", m, role, userID)
			}
		}
	}
	if !found {
		t.Errorf("slug API: %s is not a member: %+v", email, ds)
	}
	return userID
}

// wantNotMember checks through both APIs that email is not a member of Acme.
func (f *fixture) wantNotMember(t *testing.T, email string) {
	t.Helper()
	var es elastic.OrganizationMemberships
	f.srv.Elastic("GET", "/api/v1/organizations/"+f.org.ID+"/members", f.owner.Key, nil).Want(t, 200).JSON(t, &es)
	for _, m := range es.Members {
		if m.Email == email {
			t.Errorf("Elastic API: %s is a member", email)
		}
	}
	var ds []dreadnode.Member
	f.srv.Slug("GET", "/api/v1/org/acme/members", f.owner.Key, nil).Want(t, 200).JSON(t, &ds)
	for _, m := range ds {
		if m.EmailAddress == email {
			t.Errorf("slug API: %s is a member", email)
		}
	}
}

// wantInvitationStatus checks an invitation's status through the slug API.
func (f *fixture) wantInvitationStatus(t *testing.T, id, status string) {
	t.Helper()
	var list []dreadnode.Invitation
	f.srv.Slug("GET", "/api/v1/org/acme/invitations?status=all", f.owner.Key, nil).Want(t, 200).JSON(t, &list)
	for _, inv := range list {
		if inv.ID == id {
			if inv.Status != status {
				t.Errorf("invitation %s is %s, want %s", id, inv.Status, status)
			}
			return
		}
	}
	t.Errorf("invitation %s is not listed", id)
}

func TestPendingPageChangesNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		f := newFixture(t, databaseURL, apitest.Setup{})
		_, token := f.invite(t, "Bob@Example.test", "contributor")
		before := f.state(t)
		expires := before.Invitations[0].ExpiresAt
		for range 3 { // a mail scanner, then the person, then a reload
			f.wantPage(t, f.get(t, token), 200,
				"Invitation to join Acme · orgd", "Join Acme",
				"Olive Owner (olive@acme.test) invited Bob@Example.test to join the organization Acme with the role contributor",
				"Invited by Olive Owner (olive@acme.test)", "Invited address Bob@Example.test",
				"Role contributor: creates and manages the organization's work",
				"Expires in 3 days, on "+orgd.TimeInWords(expires),
				"Accept the invitation", "Decline")
		}
		if r := f.send(t, "HEAD", "/invitations/"+token, nil, nil); r.Status != 200 || len(r.Body) != 0 {
			t.Errorf("HEAD: %d with %d bytes", r.Status, len(r.Body))
		}
		f.wantUnchanged(t, before)
		if !strings.Contains(string(f.get(t, token).Body), `<time datetime="`+expires.UTC().Format(time.RFC3339)+`">`) {
			t.Error("the expiry has no machine-readable time")
		}
	})
}

func TestStatePages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		f := newFixture(t, databaseURL, apitest.Setup{})
		_, pending := f.invite(t, "pending@x.test", "reader")
		_, accepted := f.invite(t, "accepted@x.test", "reader")
		f.wantPage(t, f.answer(t, accepted, "accept"), 200)
		_, declined := f.invite(t, "declined@x.test", "reader")
		f.wantPage(t, f.answer(t, declined, "decline"), 200)
		revokedInv, revoked := f.invite(t, "revoked@x.test", "reader")
		f.srv.Slug("DELETE", "/api/v1/org/acme/invitations/"+revokedInv.ID, f.owner.Key, nil).Want(t, 200)
		replacedInv, replaced := f.invite(t, "replaced@x.test", "reader")
		f.srv.Clock.Advance(2 * time.Minute)
		f.srv.Slug("POST", "/api/v1/org/acme/invitations/"+replacedInv.ID+"/resend", f.owner.Key, map[string]any{"send_email": false}).Want(t, 200)
		_, expired := f.invite(t, "expired@x.test", "reader")
		f.srv.Clock.Advance(72 * time.Hour)
		_, fresh := f.invite(t, "fresh@x.test", "reader")

		invalid := []string{"Invitation link not valid · orgd", "This link is not valid: it may have been revoked or replaced by a newer one",
			"ask an administrator of the organization to resend the invitation"}
		tests := []struct {
			name, token string
			status      int
			texts       []string
		}{
			{"pending", fresh, 200, []string{"Join Acme", "Accept the invitation"}},
			{"expired", expired, 410, []string{"Invitation expired · orgd", "This invitation has expired",
				"ask an administrator of Acme, such as Olive Owner (olive@acme.test) who invited you, to resend the invitation"}},
			{"expired while pending was shown", pending, 410, []string{"This invitation has expired"}},
			{"accepted", accepted, 410, []string{"Invitation already accepted · orgd", "This invitation was already accepted",
				"If you accepted it, you are a member of Acme"}},
			{"declined", declined, 410, []string{"This invitation was declined",
				"To join Acme after all, ask an administrator of Acme, such as Olive Owner (olive@acme.test) who invited you, to send you a new invitation"}},
			{"revoked", revoked, 404, invalid},
			{"replaced by a resend", replaced, 404, invalid},
			{"unknown", "nope" + strings.Repeat("x", 39), 404, invalid},
			{"too long", strings.Repeat("x", 300), 404, invalid},
		}
		unknownBody := f.get(t, "unknown-token").Body
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := f.get(t, tt.token)
				page := f.wantPage(t, r, tt.status, tt.texts...)
				if tt.status == 404 && string(r.Body) != string(unknownBody) {
					t.Errorf("the page of a %s token differs from an unknown one's", tt.name)
				}
				if tt.status != 200 && strings.Contains(page, "Accept the invitation") {
					t.Error("a closed invitation offers to accept")
				}
			})
		}
	})
}

func TestAccept(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		f := newFixture(t, databaseURL, apitest.Setup{})
		inv, token := f.invite(t, "New.Person@x.test", "contributor")
		before := f.state(t)
		f.wantPage(t, f.answer(t, token, "accept"), 200, "You joined Acme · orgd", "You joined Acme",
			"New.Person@x.test is now a member of Acme with the role contributor (creates and manages the organization's work)")
		if got := f.state(t).Users; got != before.Users+1 {
			t.Errorf("%d users after accepting, want %d: the invitee's user was not created", got, before.Users+1)
		}
		f.wantMember(t, "New.Person@x.test", "contributor")
		f.wantInvitationStatus(t, inv.ID, "accepted")

		// The link is used up; the forms of a page still open answer with the state.
		after := f.state(t)
		form := url.Values{"form_token": {web.FormToken(f.srv.Svc, token)}}
		f.wantPage(t, f.send(t, "POST", "/invitations/"+token+"/accept", form, browser), 410, "This invitation was already accepted")
		f.wantPage(t, f.send(t, "POST", "/invitations/"+token+"/decline", form, browser), 410, "This invitation was already accepted")
		f.wantPage(t, f.get(t, token), 410, "This invitation was already accepted")
		f.wantUnchanged(t, after)
	})
}

func TestAcceptExistingUserAndMember(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		f := newFixture(t, databaseURL, apitest.Setup{})
		existing := f.srv.User("known@x.test", false)
		_, token := f.invite(t, "KNOWN@x.test", "reader")
		before := f.state(t)
		f.wantPage(t, f.answer(t, token, "accept"), 200, "You joined Acme")
		if got := f.state(t).Users; got != before.Users {
			t.Errorf("%d users after accepting, want %d", got, before.Users)
		}
		if id := f.wantMember(t, "known@x.test", "reader"); id != existing.User.ID {
			t.Errorf("the membership went to user %s, want the existing %s", id, existing.User.ID)
		}

		// Someone added directly while the page was open: adding them
		// revoked the invitation to their address, and the page says
		// they are a member.
		_, token = f.invite(t, "direct@x.test", "reader")
		form := url.Values{"form_token": {formTokenOf(t, f.get(t, token))}}
		direct := f.srv.User("direct@x.test", false)
		if _, err := f.srv.Svc.AddMember(context.Background(), orgd.SystemPrincipal, "acme", direct.User.ID, orgd.RoleContributor); err != nil {
			t.Fatal(err)
		}
		before = f.state(t)
		f.wantPage(t, f.send(t, "POST", "/invitations/"+token+"/accept", form, browser), 410, "You are already a member of Acme",
			"direct@x.test already belongs to Acme")
		f.wantUnchanged(t, before)

		// A member with an open invitation to their address, as a database
		// may hold from before such invitations were revoked, is told so.
		_, token = f.invite(t, "legacy@x.test", "reader")
		legacy := f.srv.User("legacy@x.test", false)
		ctx := context.Background()
		if err := f.srv.Store.WriteTx(ctx, func(tx orgd.Tx) error {
			return tx.InsertMembership(ctx, &orgd.Membership{OrgID: f.org.ID, UserID: legacy.User.ID, Role: orgd.RoleReader,
				Roles: orgd.RoleAssignments{}.WithOrgRole(f.org.ID, orgd.RoleReader), MemberSince: f.srv.Clock.Now()})
		}); err != nil {
			t.Fatal(err)
		}
		before = f.state(t)
		f.wantPage(t, f.answer(t, token, "accept"), 409, "You are already a member of Acme", "Nothing has changed")
		f.wantUnchanged(t, before)
	})
}

// TestMemberPage: the link of an invitation revoked because its address
// became a member's (orgd admin member add, accepting another address's
// invitation with ORGD_ACCEPT_ANY_EMAIL, an address the issuer verifies)
// tells its holder that the address is a member of the organization, with
// the way onward that accepting takes; its forms answer the same and change
// nothing. An invitation revoked by an administrator, and one whose address
// has stopped being a member's since, keep the page of an unknown link.
func TestMemberPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		const onward = "https://app.example.test/welcome?from=orgd"
		f := newFixture(t, databaseURL, apitest.Setup{AcceptRedirect: onward,
			Limits: []apitest.Option{func(l *orgd.Limits) { l.AcceptAnyEmail = true }}})
		f.csp = "default-src 'none'; style-src 'self'; form-action 'self' https://app.example.test; frame-ancestors 'none'; base-uri 'none'"
		ctx := context.Background()
		add := func(u *orgd.User) {
			t.Helper()
			if _, err := f.srv.Svc.AddMember(ctx, orgd.SystemPrincipal, "acme", u.ID, orgd.RoleReader); err != nil {
				t.Fatal(err)
			}
		}

		_, added := f.invite(t, "added@x.test", "contributor")
		add(f.srv.User("Added@x.test", false).User)

		_, own := f.invite(t, "eve@x.test", "reader")
		_, team := f.invite(t, "team@x.test", "reader")
		eve := f.srv.User("eve@x.test", false)
		f.srv.Elastic("POST", "/api/v1/organizations/invitations/"+team+"/_accept", eve.Key, nil).Want(t, 200)

		_, verified := f.invite(t, "ivy@x.test", "reader")
		signIn := func(verified bool) *orgd.Principal {
			t.Helper()
			p, err := f.srv.Svc.SignIn(ctx, &orgd.Identity{Issuer: "https://idp.example.com", Subject: "ivy", Email: "ivy@x.test", EmailVerified: verified})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		add(signIn(false).User)
		signIn(true)

		revokedInv, revoked := f.invite(t, "rex@x.test", "reader")
		f.srv.Slug("DELETE", "/api/v1/org/acme/invitations/"+revokedInv.ID, f.owner.Key, nil).Want(t, 200)
		add(f.srv.User("rex@x.test", false).User)

		_, left := f.invite(t, "lee@x.test", "reader")
		lee := f.srv.User("lee@x.test", false)
		add(lee.User)
		if _, err := f.srv.Svc.RemoveMembers(ctx, orgd.SystemPrincipal, "acme", []string{lee.User.ID}, false); err != nil {
			t.Fatal(err)
		}

		before := f.state(t)
		link := `<a href="` + html.EscapeString(onward) + `">`
		for _, tt := range []struct{ name, token, email string }{
			{"added by orgd admin", added, "added@x.test"},
			{"accepted another address's invitation", own, "eve@x.test"},
			{"address verified by the issuer", verified, "ivy@x.test"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				form := url.Values{"form_token": {web.FormToken(f.srv.Svc, tt.token)}}
				for _, r := range []*apitest.Response{f.get(t, tt.token),
					f.send(t, "POST", "/invitations/"+tt.token+"/accept", form, browser),
					f.send(t, "POST", "/invitations/"+tt.token+"/decline", form, browser)} {
					f.wantPage(t, r, 410, "Already a member of Acme · orgd", "You are already a member of Acme",
						tt.email+" already belongs to Acme", "Continue to Acme")
					if !strings.Contains(string(r.Body), link) {
						t.Errorf("the page has no link onward (%s):\n%s", link, r.Body)
					}
				}
			})
		}
		unknown := f.get(t, "unknown-token").Body
		wantUnknown := func(t *testing.T, token string) {
			t.Helper()
			if r := f.get(t, token); r.Status != 404 || string(r.Body) != string(unknown) {
				t.Errorf("%d, want 404 and the page of an unknown token:\n%s", r.Status, r.Body)
			}
		}
		for _, tt := range []struct{ name, token string }{{"revoked by an administrator", revoked}, {"no longer a member", left}} {
			t.Run(tt.name, func(t *testing.T) { wantUnknown(t, tt.token) })
		}
		// The page says so for as long as the link would have been good:
		// once the invitation would have expired, the link is any old one.
		f.srv.Clock.Advance(orgd.DefaultLimits().DefaultExpiry - time.Minute)
		if r := f.get(t, added); r.Status != 410 {
			t.Errorf("a minute before the invitation's expiry: %d, want 410", r.Status)
		}
		f.srv.Clock.Advance(time.Minute)
		t.Run("past the invitation's expiry", func(t *testing.T) { wantUnknown(t, added) })
		f.wantUnchanged(t, before)
	})
}

func TestDecline(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		f := newFixture(t, databaseURL, apitest.Setup{})
		inv, token := f.invite(t, "nope@x.test", "reader")
		users := f.state(t).Users
		f.wantPage(t, f.answer(t, token, "decline"), 200, "Invitation declined · orgd", "You declined the invitation to join Acme",
			"ask an administrator of Acme, such as Olive Owner (olive@acme.test) who invited you, to send you a new invitation")
		f.wantInvitationStatus(t, inv.ID, "declined")
		f.wantNotMember(t, "nope@x.test")
		if got := f.state(t).Users; got != users {
			t.Errorf("declining created a user: %d users, want %d", got, users)
		}
		f.wantPage(t, f.get(t, token), 410, "This invitation was declined")
	})
}

func TestFormsRefuseForgedRequests(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		f := newFixture(t, databaseURL, apitest.Setup{})
		_, token := f.invite(t, "target@x.test", "reader")
		_, other := f.invite(t, "other@x.test", "reader")
		valid := web.FormToken(f.srv.Svc, token)
		tests := []struct {
			name    string
			form    url.Values
			headers map[string]string
		}{
			{"no form token", url.Values{}, browser},
			{"empty body", nil, browser},
			{"wrong form token", url.Values{"form_token": {"AAAA"}}, browser},
			{"form token of another invitation", url.Values{"form_token": {web.FormToken(f.srv.Svc, other)}}, browser},
			{"form token in the query only", url.Values{}, browser},
			{"cross-site fetch", url.Values{"form_token": {valid}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
			{"same-site fetch", url.Values{"form_token": {valid}}, map[string]string{"Sec-Fetch-Site": "same-site"}},
			{"other origin", url.Values{"form_token": {valid}}, map[string]string{"Origin": "http://evil.test"}},
			{"other origin, cross-site", url.Values{"form_token": {valid}},
				map[string]string{"Origin": "http://evil.test", "Sec-Fetch-Site": "cross-site"}},
		}
		before := f.state(t)
		for _, action := range []string{"accept", "decline"} {
			for _, tt := range tests {
				t.Run(action+"/"+tt.name, func(t *testing.T) {
					path := "/invitations/" + token + "/" + action
					if tt.name == "form token in the query only" {
						path += "?form_token=" + valid
					}
					page := f.wantPage(t, f.send(t, "POST", path, tt.form, tt.headers), 403,
						"This request was refused", "nothing has changed", "Open the invitation page again")
					if strings.Contains(page, "Join Acme") {
						t.Error("a refused request shows the invitation")
					}
				})
			}
		}
		f.wantUnchanged(t, before)

		// The same form from the page's own origin, as older browsers send it, is accepted.
		r := f.send(t, "POST", "/invitations/"+token+"/accept", url.Values{"form_token": {valid}}, map[string]string{"Origin": f.srv.URL})
		f.wantPage(t, r, 200, "You joined Acme")
	})
}

func TestAcceptRedirect(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		const target = "https://app.example.test/welcome?from=orgd"
		f := newFixture(t, databaseURL, apitest.Setup{AcceptRedirect: target})
		f.csp = "default-src 'none'; style-src 'self'; form-action 'self' https://app.example.test; frame-ancestors 'none'; base-uri 'none'"
		_, token := f.invite(t, "redirected@x.test", "reader")
		r := f.answer(t, token, "accept")
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != target {
			t.Fatalf("accept: %d to %q, want 303 to %q", r.Status, r.Header.Get("Location"), target)
		}
		if r.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("the redirect has Referrer-Policy %q", r.Header.Get("Referrer-Policy"))
		}
		f.wantMember(t, "redirected@x.test", "reader")

		// Declining shows its page as without the option.
		_, token = f.invite(t, "not-redirected@x.test", "reader")
		f.wantPage(t, f.answer(t, token, "decline"), 200, "You declined the invitation")
	})
}

func TestUserValuesAreEscaped(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		srv := apitest.StartWith(t, databaseURL, apitest.Setup{})
		org := srv.Org(`<script>alert(1)</script>`, "evil")
		f := &fixture{srv: srv, org: org, csp: defaultCSP,
			owner: namedMember(t, srv, org, `<b onmouseover="alert(2)">Mallory</b> & "co"`, "mallory@x.test")}
		var inv dreadnode.Invitation
		srv.Slug("POST", "/api/v1/org/evil/invitations", f.owner.Key, map[string]any{"email": "victim@x.test", "send_email": false}).
			Want(t, 200).JSON(t, &inv)
		token := strings.TrimPrefix(inv.AcceptURL, srv.PublicURL+"/invitations/")
		escapedOrg := "&lt;script&gt;alert(1)&lt;/script&gt;"
		inviter := "&lt;b onmouseover=&#34;alert(2)&#34;&gt;Mallory&lt;/b&gt; &amp; &#34;co&#34;"
		pages := []struct {
			name    string
			r       *apitest.Response
			escaped []string
		}{
			{"invitation", f.get(t, token), []string{escapedOrg, inviter}},
			{"accepted", f.answer(t, token, "accept"), []string{escapedOrg}},
		}
		for _, p := range pages {
			body := string(p.r.Body)
			for _, raw := range []string{"<script>", "<b "} {
				if strings.Contains(body, raw) {
					t.Errorf("the %s page contains %q unescaped:\n%s", p.name, raw, body)
				}
			}
			for _, escaped := range p.escaped {
				if !strings.Contains(body, escaped) {
					t.Errorf("the %s page lacks %q:\n%s", p.name, escaped, body)
				}
			}
			if !strings.Contains(text(p.r.Body), "<script>alert(1)</script>") {
				t.Errorf("the %s page does not show the organization's name as text", p.name)
			}
		}
	})
}

func TestUnmatchedPathsAnswerHTML(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		f := newFixture(t, databaseURL, apitest.Setup{})
		_, token := f.invite(t, "someone@x.test", "reader")
		tests := []struct {
			method, path string
			status       int
			allow        string
			text         string
		}{
			{"GET", "/invitations", 404, "", "Page not found"},
			{"GET", "/invitations/", 404, "", "Page not found"},
			{"GET", "/invitations/" + token + "/more/parts", 404, "", "Page not found"},
			{"GET", "/assets/nope.css", 404, "", "Page not found"},
			{"POST", "/invitations/" + token, 405, "GET", "Method not allowed"},
			{"DELETE", "/invitations/" + token, 405, "GET", "Method not allowed"},
			{"GET", "/invitations/" + token + "/accept", 405, "POST", "Method not allowed"},
			{"PUT", "/invitations/" + token + "/decline", 405, "POST", "Method not allowed"},
		}
		for _, tt := range tests {
			t.Run(tt.method+" "+tt.path, func(t *testing.T) {
				r := f.send(t, tt.method, tt.path, nil, nil)
				f.wantPage(t, r, tt.status, tt.text)
				if got := r.Header.Get("Allow"); got != tt.allow {
					t.Errorf("Allow %q, want %q", got, tt.allow)
				}
			})
		}
		// The APIs keep their JSON envelopes.
		for _, path := range []string{"/api/v1/nope", "/api/v1/organizations/nope/nope", "/api/v1/invitations/x/y"} {
			if ct := f.send(t, "GET", path, nil, nil).Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("GET %s: Content-Type %q", path, ct)
			}
		}
	})
}

func TestStylesheet(t *testing.T) {
	f := newFixture(t, testdb.URL(t, "sqlite"), apitest.Setup{})
	r := f.send(t, "GET", "/assets/orgd.css", nil, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(string(r.Body), ":focus-visible") {
		t.Errorf("stylesheet: %d %q, %d bytes", r.Status, r.Header.Get("Content-Type"), len(r.Body))
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Content-Security-Policy") != defaultCSP {
		t.Errorf("stylesheet headers %v", r.Header)
	}
}

func TestAccessLogHidesTheToken(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		f := newFixture(t, databaseURL, apitest.Setup{})
		_, token := f.invite(t, "private@x.test", "reader")
		var logs bytes.Buffer
		h := server.New(f.srv.Svc, slog.New(slog.NewTextHandler(&logs, nil)), server.Options{Now: f.srv.Clock.Now})
		requests := []struct{ method, path, logged string }{
			{"GET", "/invitations/" + token, "/invitations/{token}"},
			{"POST", "/invitations/" + token + "/accept", "/invitations/{token}/accept"},   // refused: no form token
			{"POST", "/invitations/" + token + "/decline", "/invitations/{token}/decline"}, // refused: cross-site
			{"GET", "/invitations/" + token + "/", "/invitations/{token}/"},                // no such page
			{"PUT", "/invitations/" + token, "/invitations/{token}"},                       // no such method
		}
		for _, rq := range requests {
			req := httptest.NewRequest(rq.method, rq.path, nil)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			h.ServeHTTP(httptest.NewRecorder(), req)
			if !strings.Contains(logs.String(), "path="+rq.logged+" ") {
				t.Errorf("%s %s: no access log line with path=%s in:\n%s", rq.method, rq.path, rq.logged, logs.String())
			}
		}
		if strings.Contains(logs.String(), token) {
			t.Errorf("the access log holds the token:\n%s", logs.String())
		}
	})
}
