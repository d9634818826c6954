package auth_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/oidctest"
	"github.com/orgd/orgd/internal/testdb"
)

// world is orgd trusting a real issuer, with an organization and its owner.
type world struct {
	t     *testing.T
	srv   *apitest.Server
	iss   *oidctest.Issuer
	org   *orgd.Organization
	owner *orgd.Principal
}

func newWorld(t *testing.T, url string) *world {
	return newWorldLogging(t, url, nil)
}

// newWorldLogging is newWorld with the server's log.
func newWorldLogging(t *testing.T, url string, log *slog.Logger) *world {
	clock := apitest.NewClock()
	iss := oidctest.Start(t, clock.Now)
	srv := apitest.StartWith(t, url, apitest.Setup{Clock: clock, Tokens: iss.Trust(t), Log: log})
	org := srv.Org("Acme", "acme")
	owner := srv.Member(org, "owner@acme.test", orgd.RoleOwner)
	return &world{t: t, srv: srv, iss: iss, org: org, owner: &orgd.Principal{User: owner.User}}
}

// bearer sends a request with `Authorization: Bearer <token>`.
func (w *world) bearer(method, path, token string, body any) *apitest.Response {
	w.t.Helper()
	return w.srv.Request(method, path, map[string]string{"Authorization": "Bearer " + token}, body)
}

// me is the caller's user as the slug API shows it.
type me struct {
	ID    string `json:"id"`
	Email string `json:"email_address"`
}

func (w *world) me(token string) me {
	w.t.Helper()
	var u me
	w.bearer("GET", "/api/v1/user", token, nil).Want(w.t, http.StatusOK).JSON(w.t, &u)
	return u
}

// users counts every user.
func (w *world) users() int {
	w.t.Helper()
	n, err := w.srv.Svc.CountUsers(w.t.Context(), orgd.SystemPrincipal)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// invite invites email to the organization as a reader, by the owner.
func (w *world) invite(email string) *orgd.IssuedInvitation {
	w.t.Helper()
	_, issued, err := w.srv.Svc.CreateInvitations(w.t.Context(), w.owner, w.org.ID, orgd.InviteRequest{Emails: []string{email}})
	if err != nil {
		w.t.Fatal(err)
	}
	return issued[0]
}

// isMember reports whether the user is a member of the organization.
func (w *world) isMember(userID string) bool {
	w.t.Helper()
	members, err := w.srv.Svc.ListMembers(w.t.Context(), orgd.SystemPrincipal, w.org.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, m := range members {
		if m.UserID == userID {
			return true
		}
	}
	return false
}

// wantCode checks the status and the error code on either surface: the
// Elastic x-cloud-error-codes header, or the slug envelope's first type.
func wantCode(t *testing.T, what string, r *apitest.Response, status int, code string) {
	t.Helper()
	got := r.Header.Get("x-cloud-error-codes")
	if got == "" {
		var env struct {
			Errors []struct {
				Type string `json:"type"`
			} `json:"errors"`
		}
		if json.Unmarshal(r.Body, &env) == nil && len(env.Errors) > 0 {
			got = env.Errors[0].Type
		}
	}
	if r.Status != status || got != code {
		t.Errorf("%s: %d %s, want %d with %s", what, r.Status, r.Body, status, code)
	}
}

// TestJWTOnBothSurfaces signs in with a token of the issuer on both
// surfaces: the first request creates the user, later ones find it by its
// subject, and address changes at the issuer follow.
func TestJWTOnBothSurfaces(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		before := w.users()
		token := w.iss.Token("alice-sub", "Alice@Example.com", true)

		w.bearer("GET", "/api/v1/organizations", token, nil).Want(t, http.StatusOK)
		alice := w.me(token)
		if alice.Email != "Alice@Example.com" || w.users() != before+1 {
			t.Fatalf("after the first requests: %+v, %d users, want Alice@Example.com and %d users", alice, w.users(), before+1)
		}
		for range 3 {
			w.bearer("GET", "/api/v1/organizations", w.iss.Token("alice-sub", "Alice@Example.com", true), nil).Want(t, http.StatusOK)
			if got := w.me(token); got != alice {
				t.Errorf("the same subject again: %+v, want %+v", got, alice)
			}
		}
		if w.users() != before+1 {
			t.Errorf("%d users after more requests of the same subject, want %d", w.users(), before+1)
		}

		// JWTs are bearer credentials: not API keys under the other schemes.
		wantCode(t, "Elastic, JWT as ApiKey", w.srv.Elastic("GET", "/api/v1/organizations/"+w.org.ID+"/members", token, nil), 401, orgd.CodeUnauthorized)
		wantCode(t, "slug, JWT in X-API-Key", w.srv.Request("GET", "/api/v1/user", map[string]string{"X-API-Key": token}, nil), 401, orgd.CodeUnauthorized)

		// The issuer changes her address: the user follows, under the same id.
		token = w.iss.Token("alice-sub", "alice@new.example", true)
		moved := w.me(token)
		if moved.ID != alice.ID || moved.Email != "alice@new.example" {
			t.Errorf("after an address change at the issuer: %+v, want id %s and alice@new.example", moved, alice.ID)
		}
		inv := w.invite("alice@new.example")
		var mine []struct {
			ID string `json:"id"`
		}
		w.bearer("GET", "/api/v1/invitations/me", token, nil).Want(t, http.StatusOK).JSON(t, &mine)
		if len(mine) != 1 || mine[0].ID != inv.ID {
			t.Errorf("/invitations/me after the change: %+v, want the invitation to the new address", mine)
		}
		// An unverified new address is taken, unverified.
		unverified := w.iss.Token("alice-sub", "alice@unverified.example", false)
		if got := w.me(unverified); got.ID != alice.ID || got.Email != "alice@unverified.example" {
			t.Errorf("after an unverified change: %+v", got)
		}
		wantCode(t, "/invitations/me with an unverified address", w.bearer("GET", "/api/v1/invitations/me", unverified, nil), 403, orgd.CodeEmailUnverified)
		// A token without an address changes nothing.
		c := w.iss.Claims("alice-sub", "", true)
		delete(c, "email")
		if got := w.me(w.iss.Sign(c)); got.Email != "alice@unverified.example" {
			t.Errorf("a token without an address changed it to %q", got.Email)
		}
		if w.users() != before+1 {
			t.Errorf("%d users after address changes, want %d", w.users(), before+1)
		}
	})
}

// TestBadTokensOnBothSurfaces sends tokens that must be refused to both
// surfaces: each looks like any bad credential and creates no user, and the
// access log says why without the token.
func TestBadTokensOnBothSurfaces(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		// A file, so that the test reads what the server writes without a race.
		logFile, err := os.Create(filepath.Join(t.TempDir(), "orgd.log"))
		if err != nil {
			t.Fatal(err)
		}
		defer logFile.Close()
		w := newWorldLogging(t, url, slog.New(slog.NewTextHandler(logFile, nil)))
		before := w.users()
		tokens := refusedTokens(t, w.iss, oidctest.Start(t, w.srv.Clock.Now), w.srv.Clock.Now())
		for _, tc := range tokens {
			name, token := tc.name, tc.token
			wantCode(t, "Elastic, "+name, w.bearer("GET", "/api/v1/organizations/"+w.org.ID+"/members", token, nil), 401, orgd.CodeUnauthorized)
			wantCode(t, "Elastic list organizations, "+name, w.bearer("GET", "/api/v1/organizations", token, nil), 401, orgd.CodeUserNotFound)
			wantCode(t, "Elastic accept, "+name, w.bearer("POST", "/api/v1/organizations/invitations/x/_accept", token, nil), 403, orgd.CodeInvalidAuth)
			wantCode(t, "slug, "+name, w.bearer("GET", "/api/v1/user", token, nil), 401, orgd.CodeUnauthorized)
		}
		if w.users() != before {
			t.Errorf("refused tokens made %d users", w.users()-before)
		}
		logged, err := os.ReadFile(logFile.Name())
		if err != nil {
			t.Fatal(err)
		}
		log := string(logged)
		for _, tc := range tokens {
			if !regexp.MustCompile(`cause="?` + regexp.QuoteMeta(tc.want.Error()) + `\b`).MatchString(log) {
				t.Errorf("the access log does not give the reason %q of a token %s", tc.want, tc.name)
			}
			if claims := strings.Split(tc.token, ".")[1]; len(claims) > 20 && strings.Contains(log, claims) {
				t.Errorf("the log contains the token %s", tc.name)
			}
		}
	})
}

// TestVerifiedEmails: an unverified address can neither list, accept nor
// respond to invitations, on either surface; once the issuer verifies it,
// it can, and verified callers accept through both surfaces.
func TestVerifiedEmails(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		unverified := w.iss.Token("bob-sub", "bob@example.com", false)
		bob := w.me(unverified)
		inv := w.invite("bob@example.com")
		wantCode(t, "/invitations/me", w.bearer("GET", "/api/v1/invitations/me", unverified, nil), 403, orgd.CodeEmailUnverified)
		for _, accept := range []bool{true, false} {
			wantCode(t, "respond", w.bearer("POST", "/api/v1/invitations/"+inv.ID+"/respond", unverified, map[string]bool{"accept": accept}), 403, orgd.CodeEmailUnverified)
		}
		wantCode(t, "Elastic accept", w.bearer("POST", "/api/v1/organizations/invitations/"+inv.Token+"/_accept", unverified, nil), 403, orgd.CodeEmailUnverified)
		if w.isMember(bob.ID) {
			t.Fatal("an unverified caller became a member")
		}

		// The issuer verifies the address: the slug surface accepts.
		verified := w.iss.Token("bob-sub", "bob@example.com", true)
		var mine []struct {
			ID string `json:"id"`
		}
		w.bearer("GET", "/api/v1/invitations/me", verified, nil).Want(t, http.StatusOK).JSON(t, &mine)
		if len(mine) != 1 || mine[0].ID != inv.ID {
			t.Fatalf("/invitations/me once verified: %+v", mine)
		}
		w.bearer("POST", "/api/v1/invitations/"+inv.ID+"/respond", verified, map[string]bool{"accept": true}).Want(t, http.StatusOK)
		if !w.isMember(bob.ID) {
			t.Error("bob accepted on the slug surface but is no member")
		}

		// A verified caller accepts by token on the Elastic surface.
		carol := w.iss.Token("carol-sub", "carol@example.com", true)
		inv = w.invite("carol@example.com")
		w.bearer("POST", "/api/v1/organizations/invitations/"+inv.Token+"/_accept", carol, nil).Want(t, http.StatusOK)
		if !w.isMember(w.me(carol).ID) {
			t.Error("carol accepted on the Elastic surface but is no member")
		}
		// and lists the organization's members with her JWT.
		w.bearer("GET", "/api/v1/organizations/"+w.org.ID+"/members", carol, nil).Want(t, http.StatusOK)
	})
}

// TestLinking: a token's verified address links the subject to the user
// who holds it (made by orgd admin); an unverified one does not; a second
// subject for the same user, or a token without an address, is refused.
func TestLinking(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		dave := w.srv.User("dave@example.com", false)
		erin := w.srv.User("erin@example.com", false)

		wantCode(t, "an unverified address of an existing user", w.bearer("GET", "/api/v1/user", w.iss.Token("erin-sub", "erin@example.com", false), nil), 403, orgd.CodeEmailUnverified)
		wantCode(t, "the same on the Elastic surface", w.bearer("GET", "/api/v1/organizations", w.iss.Token("erin-sub", "erin@example.com", false), nil), 403, orgd.CodeEmailUnverified)
		if got := w.me(w.iss.Token("erin-sub", "Erin@Example.com", true)); got.ID != erin.User.ID {
			t.Errorf("erin's verified token: user %s, want %s", got.ID, erin.User.ID)
		}

		token := w.iss.Token("dave-sub", "DAVE@example.com", true)
		if got := w.me(token); got.ID != dave.User.ID {
			t.Errorf("dave's verified token: user %s, want the user orgd admin made, %s", got.ID, dave.User.ID)
		}
		w.srv.Slug("GET", "/api/v1/user", dave.Key, nil).Want(t, http.StatusOK) // his API key still works
		wantCode(t, "another subject with dave's address", w.bearer("GET", "/api/v1/user", w.iss.Token("dave-2-sub", "dave@example.com", true), nil), 403, orgd.CodeIdentityConflict)

		c := w.iss.Claims("nomail-sub", "", true)
		delete(c, "email")
		wantCode(t, "no address", w.bearer("GET", "/api/v1/user", w.iss.Sign(c), nil), 403, orgd.CodeEmailMissing)
		wantCode(t, "an invalid address", w.bearer("GET", "/api/v1/user", w.iss.Token("nomail-sub", "not an address", true), nil), 403, orgd.CodeEmailMissing)
	})
}

// TestUnverifiedAddressesDoNotBlock: an unverified claim of an address
// keeps nobody from it: the person who controls it gets their own
// verified user and its invitations; an administrator can still create a
// user with it. A linked user whose issuer gives it another user's
// verified address gets that address unverified.
func TestUnverifiedAddressesDoNotBlock(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		squatter := w.me(w.iss.Token("squatter-sub", "frank@example.com", false))
		inv := w.invite("frank@example.com")
		frankToken := w.iss.Token("frank-sub", "frank@example.com", true)
		frank := w.me(frankToken)
		if frank.ID == squatter.ID {
			t.Fatal("the verified owner of the address got the squatter's user")
		}
		w.bearer("POST", "/api/v1/invitations/"+inv.ID+"/respond", frankToken, map[string]bool{"accept": true}).Want(t, http.StatusOK)
		if !w.isMember(frank.ID) || w.isMember(squatter.ID) {
			t.Error("the invitation went to the wrong user")
		}
		w.srv.User("gina@example.com", false) // made by an administrator
		w.me(w.iss.Token("squatter-sub", "gina@other.example", false))
		w.srv.User("gina@other.example", false)

		// frank's issuer now says he has gina@example.com, verified; that
		// address belongs to the user orgd admin made.
		moved := w.me(w.iss.Token("frank-sub", "gina@example.com", true))
		if moved.ID != frank.ID || moved.Email != "gina@example.com" {
			t.Errorf("frank after the change: %+v", moved)
		}
		wantCode(t, "frank with gina's address", w.bearer("GET", "/api/v1/invitations/me", w.iss.Token("frank-sub", "gina@example.com", true), nil), 403, orgd.CodeEmailUnverified)
		if u, err := w.srv.Svc.FindUser(t.Context(), orgd.SystemPrincipal, "gina@example.com"); err != nil || u.ID == frank.ID {
			t.Errorf("gina@example.com is %+v, %v; want the user orgd admin made", u, err)
		}
	})
}

// TestFirstRequestsAtOnce sends the first requests of a new subject at
// once: one user is made, and every request gets it.
func TestFirstRequestsAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		before := w.users()
		token := w.iss.Token("henry-sub", "henry@example.com", true)
		var wg sync.WaitGroup
		ids := make(chan string, 10)
		for range 10 {
			wg.Go(func() {
				r := w.bearer("GET", "/api/v1/user", token, nil)
				var u me
				if r.Status == http.StatusOK && json.Unmarshal(r.Body, &u) == nil {
					ids <- u.ID
				} else {
					ids <- "status " + string(r.Body)
				}
			})
		}
		wg.Wait()
		close(ids)
		seen := map[string]bool{}
		for id := range ids {
			seen[id] = true
		}
		if len(seen) != 1 || w.users() != before+1 {
			t.Errorf("concurrent first requests saw users %v and made %d, want one", seen, w.users()-before)
		}
	})
}

// TestJWKSNotFetchedPerRequest sends many requests with tokens to both
// surfaces: the issuer sees one discovery and one JWKS fetch, and one more
// JWKS fetch after it rotates its key.
func TestJWKSNotFetchedPerRequest(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		both := func(token string) {
			t.Helper()
			w.bearer("GET", "/api/v1/organizations", token, nil).Want(t, http.StatusOK)
			w.bearer("GET", "/api/v1/user", token, nil).Want(t, http.StatusOK)
		}
		old := w.iss.Token("ivy-sub", "ivy@example.com", true)
		for range 15 {
			both(w.iss.Token("ivy-sub", "ivy@example.com", true))
		}
		if d, k := w.iss.DiscoveryHits(), w.iss.JWKSHits(); d != 1 || k != 1 {
			t.Errorf("30 requests fetched the discovery document %d times and the JWKS %d times, want 1 and 1", d, k)
		}
		w.iss.Rotate(jwt.SigningMethodES256)
		for range 15 {
			both(w.iss.Token("ivy-sub", "ivy@example.com", true))
			both(old)
		}
		if d, k := w.iss.DiscoveryHits(), w.iss.JWKSHits(); d != 1 || k != 2 {
			t.Errorf("after a key rotation, the discovery document was fetched %d times and the JWKS %d times, want 1 and 2", d, k)
		}
	})
}
