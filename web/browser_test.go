package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/web"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts a headless Chromium with a fresh profile for the test
// and returns the context of its first tab; it stops when the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Chromium at %s: .ci/run should have installed it: %v", chromiumPath, err)
		}
		t.Skipf("no Chromium at %s, skipping the browser test (apt-get install -y chromium; .ci/run installs it): %v", chromiumPath, err)
	}
	profile := t.TempDir()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	t.Cleanup(cancelAlloc) // runs before the profile is removed
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // start it now, so that its start-up counts for no tab
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// tab is a browser tab with JavaScript off: the pages must work without it.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func newTab(t *testing.T, browser context.Context) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute) // a deadline for a hung browser, not an assertion
	t.Cleanup(cancelTimeout)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	return &tab{t: t, ctx: ctx}
}

// open loads url and returns the status of the page.
func (b *tab) open(url string) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Navigate(url))
	if err != nil {
		b.t.Fatalf("open %s: %v", url, err)
	}
	return resp.Status
}

// click clicks the button of a form and returns the status of the page it
// leads to.
func (b *tab) click(formAction string) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(`form[action$="/`+formAction+`"] button`)))
	if err != nil {
		b.t.Fatalf("click %s: %v", formAction, err)
	}
	return resp.Status
}

// read returns the page's title and the text of its main element.
func (b *tab) read() (title, main string) {
	b.t.Helper()
	title, err := chromedp.Run(b.ctx, chromedp.Title())
	if err != nil {
		b.t.Fatal(err)
	}
	main, err = chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		b.t.Fatal(err)
	}
	return title, strings.Join(strings.Fields(main), " ")
}

func (b *tab) wantPage(status, wantStatus int64, wantTitle string, texts ...string) {
	b.t.Helper()
	title, main := b.read()
	if status != wantStatus || title != wantTitle {
		b.t.Errorf("page %d %q, want %d %q; it says: %s", status, title, wantStatus, wantTitle, main)
	}
	for _, s := range texts {
		if !strings.Contains(main, s) {
			b.t.Errorf("the page does not say %q; it says: %s", s, main)
		}
	}
}

// wantStyled checks that the stylesheet applies under the page's
// Content-Security-Policy: the Accept button is blue.
func (b *tab) wantStyled() {
	b.t.Helper()
	styles, err := chromedp.Run(b.ctx, chromedp.ComputedStyle(chromedp.CSS("button.primary")))
	if err != nil {
		b.t.Fatal(err)
	}
	background := ""
	for _, s := range styles {
		if s.Name == "background-color" {
			background = s.Value
		}
	}
	if background != "rgb(11, 87, 208)" {
		b.t.Errorf("the Accept button's background is %q: the stylesheet did not load", background)
	}
}

// emailedLink invites email to Acme through the slug API with email on,
// and returns the accept link of the email the outbox sent.
func emailedLink(t *testing.T, f *fixture, mailbox *apitest.Mailbox, email string) string {
	t.Helper()
	f.srv.Slug("POST", "/api/v1/org/acme/invitations", f.owner.Key, map[string]any{"email": email, "role": "contributor"}).Want(t, 200)
	link := apitest.AcceptLink(t, mailbox.Wait(t, email))
	if !strings.HasPrefix(link, f.srv.URL+"/invitations/") {
		t.Fatalf("the emailed link %s does not lead to the server at %s", link, f.srv.URL)
	}
	return link
}

// TestBrowser follows emailed links in Chromium: accept, decline, and an
// expired link.
func TestBrowser(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		browser := newBrowser(t)
		mailbox := &apitest.Mailbox{}
		f := newFixture(t, databaseURL, apitest.Setup{Sender: mailbox, LinksToServer: true})

		t.Run("accept", func(t *testing.T) {
			link := emailedLink(t, f, mailbox, "ada@x.test")
			b := newTab(t, browser)
			b.wantPage(b.open(link), 200, "Invitation to join Acme · orgd", "Olive Owner (olive@acme.test) invited ada@x.test",
				"Role contributor: creates and manages the organization's work", "Expires in 3 days")
			b.wantStyled()
			b.wantPage(b.click("accept"), 200, "You joined Acme · orgd", "ada@x.test is now a member of Acme")
			f.wantMember(t, "ada@x.test", "contributor")
			b.wantPage(b.open(link), 410, "Invitation already accepted · orgd")
		})

		t.Run("decline", func(t *testing.T) {
			link := emailedLink(t, f, mailbox, "dan@x.test")
			b := newTab(t, browser)
			b.wantPage(b.open(link), 200, "Invitation to join Acme · orgd")
			b.wantPage(b.click("decline"), 200, "Invitation declined · orgd", "You declined the invitation to join Acme")
			f.wantNotMember(t, "dan@x.test")
			var list []struct{ Email, Status string }
			f.srv.Slug("GET", "/api/v1/org/acme/invitations?status=declined", f.owner.Key, nil).Want(t, 200).JSON(t, &list)
			if len(list) != 1 || list[0].Email != "dan@x.test" {
				t.Errorf("declined invitations %+v", list)
			}
		})

		t.Run("expired", func(t *testing.T) {
			link := emailedLink(t, f, mailbox, "eve@x.test")
			f.srv.Clock.Advance(72*time.Hour + time.Second)
			b := newTab(t, browser)
			b.wantPage(b.open(link), 410, "Invitation expired · orgd", "This invitation has expired",
				"ask an administrator of Acme, such as Olive Owner (olive@acme.test) who invited you, to resend the invitation")
			f.wantNotMember(t, "eve@x.test")
		})
	})
}

// TestBrowserAcceptRedirect checks that Chromium follows the redirect to
// another origin after Accept: the page's form-action allows it.
func TestBrowserAcceptRedirect(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		browser := newBrowser(t)
		app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(`<!DOCTYPE html><title>Welcome</title><main>Welcome to the app</main>`))
		}))
		t.Cleanup(app.Close)
		mailbox := &apitest.Mailbox{}
		f := newFixture(t, databaseURL, apitest.Setup{Sender: mailbox, LinksToServer: true, AcceptRedirect: app.URL + "/welcome"})
		link := emailedLink(t, f, mailbox, "rita@x.test")
		b := newTab(t, browser)
		b.wantPage(b.open(link), 200, "Invitation to join Acme · orgd")
		b.wantPage(b.click("accept"), 200, "Welcome", "Welcome to the app")
		if loc, err := chromedp.Run(b.ctx, chromedp.Location()); err != nil || loc != app.URL+"/welcome" {
			t.Errorf("the browser is at %q (%v), want %s", loc, err, app.URL+"/welcome")
		}
		f.wantMember(t, "rita@x.test", "contributor")
	})
}

// TestBrowserSignIn follows an emailed link in Chromium with signing in
// required: Accept sends the browser to the test issuer, whose form signs
// in, and the issuer sends it back to orgd, which shows the success page.
func TestBrowserSignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		browser := newBrowser(t)
		mailbox := &apitest.Mailbox{}
		f := newSignInFixture(t, databaseURL, apitest.Setup{Sender: mailbox}, clientSecret)
		f.iss.SignInAs(ada)
		link := emailedLink(t, f.fixture, mailbox, ada.Email)
		b := newTab(t, browser)
		b.wantPage(b.open(link), 200, "Invitation to join Acme · orgd", "you sign in with your organization's identity provider as ada@x.test")
		b.wantStyled()
		b.wantPage(b.click("accept"), 200, "Test issuer: sign in", "Sign in to orgd-web as Ada Lovelace (ada@x.test)")
		resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS("#allow")))
		if err != nil {
			t.Fatalf("sign in at the issuer: %v", err)
		}
		b.wantPage(resp.Status, 200, "You joined Acme · orgd", "ada@x.test is now a member of Acme with the role contributor")
		if loc, err := chromedp.Run(b.ctx, chromedp.Location()); err != nil || !strings.HasPrefix(loc, f.srv.URL+web.CallbackPath+"?") {
			t.Errorf("the browser is at %q (%v), want orgd's callback", loc, err)
		}
		f.wantMember(t, ada.Email, "contributor")
		b.wantPage(b.open(link), 410, "Invitation already accepted · orgd")
	})
}
