package web_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/oidctest"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/web"
)

// The client of orgd at the test issuer. The secret needs form-encoding
// for client_secret_basic.
const (
	clientID     = "orgd-web"
	clientSecret = "s3cret/with+odd:chars"
)

// signInFixture is a fixture whose page requires signing in at a real
// issuer in the test process.
type signInFixture struct {
	*fixture
	iss *oidctest.Issuer
}

// newSignInFixture starts an issuer, and orgd with setup, trusting it and
// requiring sign-in on the page as client (with secret; "" for a public
// client). authMethods, if any, are all the issuer's token endpoint takes.
func newSignInFixture(t *testing.T, databaseURL string, setup apitest.Setup, secret string, authMethods ...string) *signInFixture {
	t.Helper()
	setup.Clock = apitest.NewClock()
	iss := oidctest.Start(t, setup.Clock.Now)
	if len(authMethods) > 0 {
		iss.AuthMethods(authMethods...)
	}
	provider := iss.Trust(t)
	setup.Tokens, setup.LinksToServer = provider, true
	setup.PageRequireSignIn, setup.PageSignIn = true, provider.NewClient(clientID, secret)
	f := newFixture(t, databaseURL, setup)
	iss.RegisterClient(oidctest.Client{ID: clientID, Secret: secret, RedirectURI: f.srv.PublicURL + web.CallbackPath})
	f.csp = "default-src 'none'; style-src 'self'; form-action 'self' " + iss.URL + "; frame-ancestors 'none'; base-uri 'none'"
	return &signInFixture{fixture: f, iss: iss}
}

// started is a sign-in that orgd started: where it sent the browser, and
// the cookie it set.
type started struct {
	authURL string
	cookie  *http.Cookie
}

// start presses a button of the page (accept or decline) and checks that
// orgd sends the browser to the issuer with a sealed cookie.
func (f *signInFixture) start(t *testing.T, token, action string) started {
	t.Helper()
	r := f.answer(t, token, action)
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), f.iss.URL+"/authorize?") {
		t.Fatalf("%s: %d to %q, want 303 to the issuer; page: %s", action, r.Status, r.Header.Get("Location"), text(r.Body))
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "orgd_signin" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatalf("%s: no sign-in cookie in %v", action, r.Header["Set-Cookie"])
	}
	return started{authURL: r.Header.Get("Location"), cookie: cookie}
}

// callback opens the URL the issuer sent the browser back to, with cookie
// (none if nil).
func (f *signInFixture) callback(t *testing.T, callbackURL string, cookie *http.Cookie) *apitest.Response {
	t.Helper()
	if !strings.HasPrefix(callbackURL, f.srv.URL+web.CallbackPath+"?") {
		t.Fatalf("the issuer sent the browser to %s, not to orgd's callback", callbackURL)
	}
	req, err := http.NewRequest("GET", callbackURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != nil {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	return f.srv.Send(t, req)
}

// signIn answers the invitation of token (accept or decline) as u, signing
// in at the issuer: the whole flow as a browser runs it.
func (f *signInFixture) signIn(t *testing.T, token, action string, u oidctest.User) *apitest.Response {
	t.Helper()
	f.iss.SignInAs(u)
	s := f.start(t, token, action)
	return f.callback(t, f.iss.Approve(t, s.authURL), s.cookie)
}

// wantCookieRemoved checks that an answer of the callback removes the
// sign-in cookie, or (want false) leaves it alone.
func wantCookieRemoved(t *testing.T, r *apitest.Response, want bool) {
	t.Helper()
	removed := false
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		removed = removed || c.Name == "orgd_signin" && c.MaxAge < 0 && c.Path == web.CallbackPath
	}
	if removed != want {
		t.Errorf("the sign-in cookie removed: %v, want %v (Set-Cookie %q)", removed, want, r.Header["Set-Cookie"])
	}
}

// wantOpen checks that the invitation is still open and email no member:
// nothing was answered. Signing in itself may have made a user.
func (f *signInFixture) wantOpen(t *testing.T, id, email string) {
	t.Helper()
	f.wantInvitationStatus(t, id, "pending")
	f.wantNotMember(t, email)
}

var (
	ada     = oidctest.User{Subject: "ada-sub", Email: "ada@x.test", EmailVerified: true, Name: "Ada Lovelace"}
	mallory = oidctest.User{Subject: "mallory-sub", Email: "mallory@x.test", EmailVerified: true, Name: "Mallory"}
)

func TestSignInPage(t *testing.T) {
	f := newSignInFixture(t, testdb.URL(t, "sqlite"), apitest.Setup{}, clientSecret)
	_, token := f.invite(t, "ada@x.test", "reader")
	f.wantPage(t, f.get(t, token), 200, "Join Acme", "you sign in with your organization's identity provider as ada@x.test",
		"Sign in and accept", "Sign in and decline")

	s := f.start(t, token, "accept")
	c := s.cookie
	if !c.HttpOnly || c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != web.CallbackPath || c.MaxAge != 600 {
		t.Errorf("cookie %+v: want HttpOnly, not Secure (http public URL), SameSite=Lax, Path=%s, Max-Age=600", c, web.CallbackPath)
	}
	u, err := url.Parse(s.authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{"response_type": "code", "client_id": clientID, "redirect_uri": f.srv.URL + web.CallbackPath,
		"scope": "openid email profile", "code_challenge_method": "S256", "login_hint": "ada@x.test"}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("authorization request %s=%q, want %q", k, q.Get(k), v)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 43 {
			t.Errorf("authorization request %s=%q: want 256 random bits", k, q.Get(k))
		}
	}
	for _, secret := range []string{token, q.Get("state"), q.Get("nonce")} {
		if strings.Contains(c.Value, secret) {
			t.Errorf("the cookie %q shows a secret in clear", c.Value)
		}
	}
	if next := f.start(t, token, "accept"); next.authURL == s.authURL {
		t.Error("two sign-ins share their state, nonce and challenge")
	}
}

func TestSignInAnswers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		f := newSignInFixture(t, databaseURL, apitest.Setup{}, clientSecret)

		t.Run("accept", func(t *testing.T) {
			inv, token := f.invite(t, "Ada@X.test", "contributor")
			r := f.signIn(t, token, "accept", ada)
			f.wantPage(t, r, 200, "You joined Acme · orgd", "ada@x.test is now a member of Acme with the role contributor")
			wantCookieRemoved(t, r, true)
			id := f.wantMember(t, "ada@x.test", "contributor")
			f.wantInvitationStatus(t, inv.ID, "accepted")
			// The member is the user of the issuer's subject: its bearer JWTs are that user.
			var me struct{ ID string }
			f.srv.Slug("GET", "/api/v1/user", f.iss.Token(ada.Subject, ada.Email, true), nil).Want(t, 200).JSON(t, &me)
			if me.ID != id {
				t.Errorf("the member is user %s, the subject's user is %s", id, me.ID)
			}
			f.wantPage(t, f.get(t, token), 410, "This invitation was already accepted")
		})

		t.Run("decline", func(t *testing.T) {
			dan := oidctest.User{Subject: "dan-sub", Email: "dan@x.test", EmailVerified: true}
			inv, token := f.invite(t, dan.Email, "reader")
			r := f.signIn(t, token, "decline", dan)
			f.wantPage(t, r, 200, "Invitation declined · orgd", "You declined the invitation to join Acme")
			f.wantInvitationStatus(t, inv.ID, "declined")
			f.wantNotMember(t, dan.Email)
		})

		t.Run("a user whom an administrator made", func(t *testing.T) {
			known := f.srv.User("known@x.test", false)
			_, token := f.invite(t, known.User.Email, "reader")
			f.wantPage(t, f.signIn(t, token, "accept", oidctest.User{Subject: "known-sub", Email: "known@x.test", EmailVerified: true}), 200,
				"You joined Acme")
			if id := f.wantMember(t, "known@x.test", "reader"); id != known.User.ID {
				t.Errorf("the membership went to user %s, want the existing %s", id, known.User.ID)
			}
		})

		t.Run("added while signing in", func(t *testing.T) {
			_, token := f.invite(t, "twice@x.test", "reader")
			twice := oidctest.User{Subject: "twice-sub", Email: "twice@x.test", EmailVerified: true}
			f.iss.SignInAs(twice)
			s := f.start(t, token, "accept")
			who, err := f.srv.Svc.SignIn(t.Context(), &orgd.Identity{Issuer: f.iss.URL, Subject: twice.Subject, Email: twice.Email, EmailVerified: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.srv.Svc.AddMember(t.Context(), orgd.SystemPrincipal, "acme", who.User.ID, orgd.RoleReader); err != nil {
				t.Fatal(err)
			}
			// Adding them revoked the invitation to their address, which
			// the page says is a member's.
			before := f.state(t)
			f.wantPage(t, f.callback(t, f.iss.Approve(t, s.authURL), s.cookie), 410, "You are already a member of Acme",
				"twice@x.test already belongs to Acme")
			f.wantUnchanged(t, before)
		})
	})
}

// TestSignInRefusals walks what can go wrong between the button and the
// answer: each gets a page that says what to do, and nothing changes.
func TestSignInRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		f := newSignInFixture(t, databaseURL, apitest.Setup{}, clientSecret)
		const again = "Open the invitation page again and choose Accept or Decline to sign in once more"
		nothing := "Nothing has changed: the invitation has not been answered"

		t.Run("another address", func(t *testing.T) {
			inv, token := f.invite(t, "ida@x.test", "reader")
			for _, action := range []string{"accept", "decline"} {
				r := f.signIn(t, token, action, mallory)
				f.wantPage(t, r, 403, "Signed in with another address · orgd", "You signed in as mallory@x.test",
					"the invitation to join Acme was sent to ida@x.test", "Nothing has changed", "sign in as ida@x.test", again)
				wantCookieRemoved(t, r, true)
			}
			f.wantOpen(t, inv.ID, "ida@x.test")
			f.wantNotMember(t, mallory.Email)
		})

		t.Run("address not verified", func(t *testing.T) {
			inv, token := f.invite(t, "vera@x.test", "reader")
			vera := oidctest.User{Subject: "vera-sub", Email: "vera@x.test"}
			f.wantPage(t, f.signIn(t, token, "accept", vera), 403, "Email address not verified · orgd",
				"You signed in as vera@x.test, but your identity provider has not verified that address", "Nothing has changed")
			f.wantOpen(t, inv.ID, "vera@x.test")

			// An address that an administrator's user holds, claimed unverified by another subject.
			known := f.srv.User("held@x.test", false)
			inv, token = f.invite(t, known.User.Email, "reader")
			f.wantPage(t, f.signIn(t, token, "accept", oidctest.User{Subject: "claimant-sub", Email: "held@x.test"}), 403,
				"You signed in as held@x.test, but your identity provider has not verified that address")
			f.wantOpen(t, inv.ID, "held@x.test")
		})

		t.Run("no address", func(t *testing.T) {
			inv, token := f.invite(t, "anon@x.test", "reader")
			f.wantPage(t, f.signIn(t, token, "accept", oidctest.User{Subject: "anon-sub"}), 403, "Signing in did not work · orgd",
				"carries no valid email address", nothing, again)
			f.wantOpen(t, inv.ID, "anon@x.test")
		})

		// The failures before the user is known change nothing at all, users included.
		inv, token := f.invite(t, ada.Email, "reader")
		f.iss.SignInAs(ada)
		before := f.state(t)
		tests := []struct {
			name      string
			run       func(t *testing.T) *apitest.Response
			status    int
			texts     []string
			removed   bool   // the cookie is removed
			issuerSay string // what the issuer refused, if it did
		}{
			{"cancelled at the issuer", func(t *testing.T) *apitest.Response {
				s := f.start(t, token, "accept")
				return f.callback(t, f.iss.Deny(t, s.authURL), s.cookie)
			}, 403, []string{"Signing in was cancelled · orgd", "the sign-in was cancelled or refused", nothing, again}, true, ""},
			{"another browser's state", func(t *testing.T) *apitest.Response {
				s := f.start(t, token, "accept")
				other := f.start(t, token, "accept")
				return f.callback(t, f.iss.Approve(t, other.authURL), s.cookie)
			}, 400, []string{"does not belong to the sign-in this browser started", nothing, again}, false, ""},
			{"no cookie", func(t *testing.T) *apitest.Response {
				s := f.start(t, token, "accept")
				return f.callback(t, f.iss.Approve(t, s.authURL), nil)
			}, 400, []string{"This sign-in has expired or was already used, or it was started in another browser", nothing,
				"open the link in your invitation email again"}, true, ""},
			{"forged cookie", func(t *testing.T) *apitest.Response {
				s := f.start(t, token, "accept")
				s.cookie.Value = s.cookie.Value[:len(s.cookie.Value)-4] + "AAAA"
				return f.callback(t, f.iss.Approve(t, s.authURL), s.cookie)
			}, 400, []string{"This sign-in has expired"}, true, ""},
			{"expired cookie", func(t *testing.T) *apitest.Response {
				s := f.start(t, token, "accept")
				back := f.iss.Approve(t, s.authURL)
				f.srv.Clock.Advance(10 * time.Minute)
				return f.callback(t, back, s.cookie)
			}, 400, []string{"This sign-in has expired"}, true, ""},
			{"another sign-in's code: the PKCE verifier does not match", func(t *testing.T) *apitest.Response {
				victim := f.start(t, token, "accept")
				attacker := f.start(t, token, "accept")
				code := query(t, f.iss.Approve(t, attacker.authURL)).Get("code")
				state := query(t, victim.authURL).Get("state")
				return f.callback(t, f.srv.URL+web.CallbackPath+"?"+url.Values{"code": {code}, "state": {state}}.Encode(), victim.cookie)
			}, 400, []string{"The identity provider did not accept this sign-in", nothing, again}, true,
				"token: code_verifier does not match the code_challenge"},
			{"a wrong nonce", func(t *testing.T) *apitest.Response {
				f.iss.EditIDTokens(func(c jwt.MapClaims) { c["nonce"] = "another sign-in's nonce" })
				defer f.iss.EditIDTokens(nil)
				s := f.start(t, token, "accept")
				return f.callback(t, f.iss.Approve(t, s.authURL), s.cookie)
			}, 502, []string{"orgd could not complete the sign-in with the identity provider", nothing, again}, true, ""},
			{"an ID token for another client", func(t *testing.T) *apitest.Response {
				f.iss.EditIDTokens(func(c jwt.MapClaims) { c["aud"], c["azp"] = "another-client", "another-client" })
				defer f.iss.EditIDTokens(nil)
				s := f.start(t, token, "accept")
				return f.callback(t, f.iss.Approve(t, s.authURL), s.cookie)
			}, 502, []string{"orgd could not complete the sign-in"}, true, ""},
			{"the token endpoint fails", func(t *testing.T) *apitest.Response {
				f.iss.FailTokenRequests(1)
				s := f.start(t, token, "accept")
				return f.callback(t, f.iss.Approve(t, s.authURL), s.cookie)
			}, 502, []string{"orgd could not complete the sign-in"}, true, ""},
			{"an error of the issuer", func(t *testing.T) *apitest.Response {
				s := f.start(t, token, "accept")
				return f.callback(t, f.srv.URL+web.CallbackPath+"?"+url.Values{"error": {"server_error"}, "state": {query(t, s.authURL).Get("state")}}.Encode(), s.cookie)
			}, 502, []string{"orgd could not complete the sign-in"}, true, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				refusals := len(f.iss.Refusals())
				r := tt.run(t)
				f.wantPage(t, r, tt.status, tt.texts...)
				wantCookieRemoved(t, r, tt.removed)
				var said []string
				if rs := f.iss.Refusals(); len(rs) > refusals {
					said = rs[refusals:]
				}
				if tt.issuerSay != "" && !slices.Contains(said, tt.issuerSay) || tt.issuerSay == "" && len(said) > 0 {
					t.Errorf("the issuer refused %q, want %q", said, tt.issuerSay)
				}
				f.wantUnchanged(t, before)
			})
		}

		t.Run("replayed callback", func(t *testing.T) {
			s := f.start(t, token, "accept")
			back := f.iss.Approve(t, s.authURL)
			// A callback that failed (the state) leaves the cookie; the good one then works once.
			forged := strings.Replace(back, "state=", "state=x", 1)
			f.wantPage(t, f.callback(t, forged, s.cookie), 400, "does not belong to the sign-in this browser started")
			f.wantPage(t, f.callback(t, back, s.cookie), 200, "You joined Acme")
			f.wantInvitationStatus(t, inv.ID, "accepted")
			after := f.state(t)
			// The browser has dropped the cookie; someone who kept it finds the invitation answered.
			f.wantPage(t, f.callback(t, back, nil), 400, "This sign-in has expired or was already used")
			f.wantPage(t, f.callback(t, back, s.cookie), 410, "This invitation was already accepted")
			f.wantUnchanged(t, after)

			// Replayed while the invitation is still open, the code is spent at the issuer.
			inv, token := f.invite(t, "replay@x.test", "reader")
			s = f.start(t, token, "accept")
			f.iss.SignInAs(oidctest.User{Subject: "eve-sub", Email: "eve@x.test", EmailVerified: true})
			back = f.iss.Approve(t, s.authURL)
			f.wantPage(t, f.callback(t, back, s.cookie), 403, "You signed in as eve@x.test")
			f.wantPage(t, f.callback(t, back, s.cookie), 400, "The identity provider did not accept this sign-in")
			if rs := f.iss.Refusals(); rs[len(rs)-1] != "token: the code was already used" {
				t.Errorf("the issuer's last refusal: %q", rs[len(rs)-1])
			}
			f.wantOpen(t, inv.ID, "replay@x.test")
		})

		t.Run("revoked meanwhile", func(t *testing.T) {
			inv, token := f.invite(t, "late@x.test", "reader")
			s := f.start(t, token, "accept")
			f.srv.Slug("DELETE", "/api/v1/org/acme/invitations/"+inv.ID, f.owner.Key, nil).Want(t, 200)
			f.wantPage(t, f.callback(t, f.iss.Approve(t, s.authURL), s.cookie), 404, "This link is not valid")
		})
	})
}

func query(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// TestSignInClientAuthentication signs in with each way of authenticating
// at the token endpoint, and with a wrong secret.
func TestSignInClientAuthentication(t *testing.T) {
	for _, tt := range []struct {
		name, secret string
		methods      []string
		wrongSecret  bool
	}{
		{"client_secret_basic", clientSecret, []string{"client_secret_basic"}, false},
		{"client_secret_post", clientSecret, []string{"client_secret_post"}, false},
		{"public client", "", []string{"none"}, false},
		{"wrong secret", clientSecret, nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newSignInFixture(t, testdb.URL(t, "sqlite"), apitest.Setup{}, tt.secret, tt.methods...)
			if tt.wrongSecret {
				f.iss.RegisterClient(oidctest.Client{ID: clientID, Secret: "another secret", RedirectURI: f.srv.PublicURL + web.CallbackPath})
			}
			inv, token := f.invite(t, ada.Email, "reader")
			r := f.signIn(t, token, "accept", ada)
			if tt.wrongSecret {
				f.wantPage(t, r, 502, "orgd could not complete the sign-in")
				f.wantOpen(t, inv.ID, ada.Email)
				return
			}
			f.wantPage(t, r, 200, "You joined Acme")
			if rs := f.iss.Refusals(); len(rs) > 0 {
				t.Errorf("the issuer refused: %q", rs)
			}
		})
	}
}

// TestSignInAcceptAnyEmail: with ORGD_ACCEPT_ANY_EMAIL the page follows the
// APIs: any verified signed-in user may accept, and becomes the member.
func TestSignInAcceptAnyEmail(t *testing.T) {
	anyEmail := apitest.Option(func(l *orgd.Limits) { l.AcceptAnyEmail = true })
	f := newSignInFixture(t, testdb.URL(t, "sqlite"), apitest.Setup{Limits: []apitest.Option{anyEmail}}, clientSecret)
	_, token := f.invite(t, "ada@x.test", "reader")
	f.wantPage(t, f.signIn(t, token, "accept", mallory), 200, "mallory@x.test is now a member of Acme")
	f.wantMember(t, "mallory@x.test", "reader")
	// A member who accepts another invitation is told they belong already.
	inv, token := f.invite(t, "ada.again@x.test", "reader")
	before := f.state(t)
	f.wantPage(t, f.signIn(t, token, "accept", mallory), 409, "You are already a member of Acme")
	f.wantUnchanged(t, before)
	f.wantInvitationStatus(t, inv.ID, "pending")
	_, token = f.invite(t, "bob@x.test", "reader")
	f.wantPage(t, f.signIn(t, token, "accept", oidctest.User{Subject: "unverified-sub", Email: "u@x.test"}), 403,
		"your identity provider has not verified that address")
}

// TestSignInUnavailable: with sign-in required and no issuer to sign in
// at, the buttons say so and change nothing.
func TestSignInUnavailable(t *testing.T) {
	f := newFixture(t, testdb.URL(t, "sqlite"), apitest.Setup{PageRequireSignIn: true})
	_, token := f.invite(t, "ada@x.test", "reader")
	before := f.state(t)
	f.wantPage(t, f.answer(t, token, "accept"), 503, "Signing in is not available · orgd", "Try again in a few minutes",
		"Nothing has changed")
	f.wantUnchanged(t, before)
}

// TestSignInLogsNoSecrets: the access log writes the callback's path
// without its query, and no token, code, state or nonce appears in the log.
func TestSignInLogsNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	f := newSignInFixture(t, testdb.URL(t, "sqlite"), apitest.Setup{Log: slog.New(slog.NewTextHandler(&logs, nil))}, clientSecret)
	_, token := f.invite(t, ada.Email, "reader")
	f.iss.SignInAs(mallory)
	s := f.start(t, token, "accept")
	refused := f.iss.Approve(t, s.authURL)
	f.wantPage(t, f.callback(t, refused, s.cookie), 403, "You signed in as mallory@x.test")
	f.wantPage(t, f.callback(t, refused, s.cookie), 400, "did not accept this sign-in")
	f.iss.SignInAs(ada)
	s2 := f.start(t, token, "accept")
	back := f.iss.Approve(t, s2.authURL)
	f.wantPage(t, f.callback(t, back, s2.cookie), 200, "You joined Acme")

	log := logs.String()
	for _, want := range []string{"path=" + web.CallbackPath + " ", "signin=mismatch", "signin=refused", "signin=done", "path=/invitations/{token}/accept "} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	secrets := []string{token, s.cookie.Value, s2.cookie.Value}
	for _, u := range []string{s.authURL, refused, s2.authURL, back} {
		q := query(t, u)
		secrets = append(secrets, q.Get("code"), q.Get("state"), q.Get("nonce"), q.Get("code_challenge"))
	}
	for _, secret := range secrets {
		if secret != "" && strings.Contains(log, secret) {
			t.Errorf("the log holds the secret %q:\n%s", secret, log)
		}
	}
	if diff := cmp.Diff([]string{"token: the code was already used"}, f.iss.Refusals()); diff != "" {
		t.Errorf("the issuer's refusals (-want +got):\n%s", diff)
	}
}
