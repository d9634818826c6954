package mail_test

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/smtptest"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/mail"
)

const wait = 20 * time.Second

// deliveryWorld is a server that delivers through a real SMTP server.
type deliveryWorld struct {
	srv   *apitest.Server
	smtp  *smtptest.Server
	org   *orgd.Organization
	owner *apitest.Caller
}

func newDeliveryWorld(t *testing.T, url string, opts smtptest.Options, m apitest.Setup) *deliveryWorld {
	t.Helper()
	smtpSrv := smtptest.Start(t, opts)
	query := ""
	if opts.TLS {
		query = "starttls=required"
	}
	sender := newSMTP(t, smtpSrv.URL(query), "Acme invitations <invites@acme.test>",
		mail.SMTPOptions{Timeout: cmpOr(m.SendTimeout, 2*time.Second), TLSConfig: &tls.Config{RootCAs: smtpSrv.CertPool()}})
	m.Sender = sender
	srv := apitest.StartWith(t, url, m)
	org := srv.Org("Acme", "acme")
	u, err := srv.Svc.CreateUser(t.Context(), orgd.SystemPrincipal, "owner@acme.test", "Alice <i>Smith</i>", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Svc.AddMember(t.Context(), orgd.SystemPrincipal, org.ID, u.ID, orgd.RoleOwner); err != nil {
		t.Fatal(err)
	}
	k, err := srv.Svc.CreateAPIKey(t.Context(), orgd.SystemPrincipal, u.ID, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	return &deliveryWorld{srv: srv, smtp: smtpSrv, org: org, owner: &apitest.Caller{User: u, Key: k.Secret}}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// invite creates invitations through the Elastic API and returns their tokens.
func (w *deliveryWorld) invite(t *testing.T, emails ...string) []string {
	t.Helper()
	var out struct {
		Invitations []struct {
			Token string `json:"token"`
		} `json:"invitations"`
	}
	w.srv.Elastic("POST", "/api/v1/organizations/"+w.org.ID+"/invitations", w.owner.Key, map[string]any{"emails": emails}).Want(t, 201).JSON(t, &out)
	var tokens []string
	for _, inv := range out.Invitations {
		tokens = append(tokens, inv.Token)
	}
	return tokens
}

// invitation returns the open invitation to an address.
func (w *deliveryWorld) invitation(t *testing.T, email string) *orgd.Invitation {
	t.Helper()
	_, invs, err := w.srv.Svc.ListInvitations(context.Background(), orgd.SystemPrincipal, w.org.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range invs {
		if inv.Email == email {
			return inv
		}
	}
	t.Fatalf("no invitation to %s", email)
	return nil
}

// waitEmail waits until the email of the invitation to address is in a state.
func (w *deliveryWorld) waitEmail(t *testing.T, email string, cond func(*orgd.Invitation) bool) *orgd.Invitation {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		inv := w.invitation(t, email)
		if cond(inv) {
			return inv
		}
		if time.Now().After(deadline) {
			t.Fatalf("the email to %s stayed %s (%q)", email, inv.EmailStatus, inv.EmailError)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// waitOutboxIdle waits until no job is waiting, running or retrying.
func (w *deliveryWorld) waitOutboxIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		var n int
		err := w.srv.Store.DB().QueryRow(`SELECT COUNT(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d outbox jobs are still unfinished", n)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func status(s orgd.EmailStatus) func(*orgd.Invitation) bool {
	return func(inv *orgd.Invitation) bool { return inv.EmailStatus == s }
}

var linkPattern = regexp.MustCompile(regexp.QuoteMeta(apitest.PublicURL) + `/invitations/([A-Za-z0-9_-]{43})`)

func TestInvitationEmails(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newDeliveryWorld(t, url, smtptest.Options{TLS: true, User: "orgd", Password: "s3cret"}, apitest.Setup{})
		tokens := w.invite(t, "ann@example.test", "Bob@Example.test")
		msgs := w.smtp.Wait(wait, "two emails", func(m []smtptest.Message) bool { return len(m) == 2 })
		w.waitOutboxIdle(t)
		if got := w.smtp.Messages(); len(got) != 2 {
			t.Fatalf("%d emails were sent for 2 invitations", len(got))
		}
		byTo := map[string]smtptest.Message{}
		for _, m := range msgs {
			if len(m.To) != 1 {
				t.Fatalf("an email went to %v", m.To)
			}
			byTo[m.To[0]] = m
		}
		for i, to := range []string{"ann@example.test", "Bob@Example.test"} {
			m, ok := byTo[to]
			if !ok {
				t.Fatalf("no email to %s; got %v", to, byTo)
			}
			if m.From != "invites@acme.test" {
				t.Errorf("envelope sender %q", m.From)
			}
			if want := "Alice <i>Smith</i> (owner@acme.test) invited you to join Acme"; m.Subject != want {
				t.Errorf("subject %q, want %q", m.Subject, want)
			}
			link := linkPattern.FindStringSubmatch(m.Text)
			if link == nil || link[1] != tokens[i] {
				t.Fatalf("the text of the email to %s carries no link with its token:\n%s", to, m.Text)
			}
			inv := w.invitation(t, to)
			for _, want := range []string{"Alice <i>Smith</i> (owner@acme.test) invited you (" + to + ")", `"Acme"`, "a reader",
				"expires in 3 days", inv.ExpiresAt.UTC().Format("Monday, 2 January 2006 at 15:04 UTC")} {
				if !strings.Contains(m.Text, want) {
					t.Errorf("the text lacks %q:\n%s", want, m.Text)
				}
			}
			if strings.Contains(m.HTML, "<i>Smith</i>") || !strings.Contains(m.HTML, "&lt;i&gt;Smith&lt;/i&gt;") || !strings.Contains(m.HTML, tokens[i]) {
				t.Errorf("the HTML part does not escape the inviter's name or lacks the link:\n%s", m.HTML)
			}
			if inv.EmailStatus != orgd.EmailSent || inv.EmailError != "" {
				t.Errorf("invitation to %s: email %s %q", to, inv.EmailStatus, inv.EmailError)
			}
		}
		// Both surfaces show the state; admins can list what failed.
		var slugList []struct {
			EmailStatus string `json:"email_status"`
		}
		w.srv.Slug("GET", "/api/v1/org/acme/invitations", w.owner.Key, nil).Want(t, 200).JSON(t, &slugList)
		var el struct {
			Invitations []struct {
				EmailStatus string `json:"email_status"`
			} `json:"invitations"`
		}
		w.srv.Elastic("GET", "/api/v1/organizations/"+w.org.ID+"/invitations", w.owner.Key, nil).Want(t, 200).JSON(t, &el)
		if len(slugList) != 2 || slugList[0].EmailStatus != "sent" || len(el.Invitations) != 2 || el.Invitations[1].EmailStatus != "sent" {
			t.Errorf("email status on the surfaces: slug %+v, Elastic %+v", slugList, el)
		}
		w.srv.Slug("GET", "/api/v1/org/acme/invitations?email_status=failed", w.owner.Key, nil).Want(t, 200).JSON(t, &slugList)
		w.srv.Elastic("GET", "/api/v1/organizations/"+w.org.ID+"/invitations?email_status=failed", w.owner.Key, nil).Want(t, 200).JSON(t, &el)
		if len(slugList) != 0 || len(el.Invitations) != 0 {
			t.Errorf("failed filter: slug %+v, Elastic %+v", slugList, el)
		}
		w.srv.Slug("GET", "/api/v1/org/acme/invitations?email_status=lost", w.owner.Key, nil).Want(t, 422)
		w.srv.Elastic("GET", "/api/v1/organizations/"+w.org.ID+"/invitations?email_status=lost", w.owner.Key, nil).Want(t, 400)

		// send_email false: nothing is sent.
		w.srv.Slug("POST", "/api/v1/org/acme/invitations", w.owner.Key, map[string]any{"email": "quiet@example.test", "send_email": false}).Want(t, 200)
		w.waitOutboxIdle(t)
		if n := len(w.smtp.Messages()); n != 2 || w.invitation(t, "quiet@example.test").EmailStatus != orgd.EmailNotRequested {
			t.Errorf("send_email false: %d emails sent", n)
		}
	})
}

func TestServerDownThenBack(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newDeliveryWorld(t, url, smtptest.Options{}, apitest.Setup{})
		w.smtp.Stop()
		w.invite(t, "a@x.test", "b@x.test", "c@x.test")
		for _, e := range []string{"a@x.test", "b@x.test", "c@x.test"} {
			inv := w.waitEmail(t, e, func(inv *orgd.Invitation) bool { return strings.HasPrefix(inv.EmailError, "retrying: ") })
			if inv.EmailStatus != orgd.EmailQueued {
				t.Errorf("while the server is down the email to %s is %s", e, inv.EmailStatus)
			}
			w.wantPublicReason(t, inv, "could not be reached")
		}
		w.smtp.Restart()
		for _, e := range []string{"a@x.test", "b@x.test", "c@x.test"} {
			w.waitEmail(t, e, status(orgd.EmailSent))
		}
		w.waitOutboxIdle(t)
		if msgs := w.smtp.Messages(); len(msgs) != 3 {
			t.Errorf("%d emails delivered for 3 invitations", len(msgs))
		}
	})
}

func TestTemporaryRefusalIsRetried(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newDeliveryWorld(t, url, smtptest.Options{}, apitest.Setup{})
		w.smtp.Refuse(451, 421)
		w.invite(t, "a@x.test")
		w.waitEmail(t, "a@x.test", status(orgd.EmailSent))
		w.waitOutboxIdle(t)
		if msgs, attempts := w.smtp.Messages(), w.smtp.Attempts(); len(msgs) != 1 || attempts != 3 {
			t.Errorf("%d emails delivered in %d attempts; want 1 in 3", len(msgs), attempts)
		}
	})
}

func TestPermanentRefusalStopsAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newDeliveryWorld(t, url, smtptest.Options{}, apitest.Setup{})
		w.smtp.Refuse(550)
		w.invite(t, "a@x.test")
		inv := w.waitEmail(t, "a@x.test", status(orgd.EmailFailed))
		if !strings.Contains(inv.EmailError, "550") {
			t.Errorf("failure reason %q does not name the answer", inv.EmailError)
		}
		w.wantPublicReason(t, inv, "the mail server answered 550")
		w.waitOutboxIdle(t)
		if attempts := w.smtp.Attempts(); attempts != 1 {
			t.Errorf("a permanent refusal was tried %d times", attempts)
		}
		var list []struct{ Email, EmailStatus, EmailError string }
		r := w.srv.Slug("GET", "/api/v1/org/acme/invitations?email_status=failed", w.owner.Key, nil).Want(t, 200)
		r.JSON(t, &list)
		if len(list) != 1 || !strings.Contains(string(r.Body), `"email_error":"`) {
			t.Errorf("failed list %s", r.Body)
		}
	})
}

func TestSlowServerIsRetried(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newDeliveryWorld(t, url, smtptest.Options{}, apitest.Setup{SendTimeout: 300 * time.Millisecond})
		w.smtp.Stall(time.Second)
		w.invite(t, "a@x.test")
		inv := w.waitEmail(t, "a@x.test", func(inv *orgd.Invitation) bool { return strings.HasPrefix(inv.EmailError, "retrying: ") })
		w.wantPublicReason(t, inv, "did not answer in time")
		w.smtp.Stall(0)
		w.waitEmail(t, "a@x.test", status(orgd.EmailSent))
		w.waitOutboxIdle(t)
		if msgs := w.smtp.Messages(); len(msgs) != 1 {
			t.Errorf("%d emails delivered", len(msgs))
		}
	})
}

func TestRetriesEndAfterTheRetryPeriod(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newDeliveryWorld(t, url, smtptest.Options{}, apitest.Setup{RetryPeriod: 400 * time.Millisecond})
		w.smtp.Stop()
		w.invite(t, "a@x.test")
		inv := w.waitEmail(t, "a@x.test", status(orgd.EmailFailed))
		if !strings.HasPrefix(inv.EmailError, "gave up after") {
			t.Errorf("reason %q", inv.EmailError)
		}
		w.wantPublicReason(t, inv, "could not be reached")
		w.waitOutboxIdle(t)
	})
}

// TestRefreshNeverDeliversTheOldToken refreshes an invitation while its
// first email is still queued: only the new token is delivered.
func TestRefreshNeverDeliversTheOldToken(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newDeliveryWorld(t, url, smtptest.Options{}, apitest.Setup{})
		w.smtp.Stop()
		old := w.invite(t, "a@x.test")[0]
		w.waitEmail(t, "a@x.test", func(inv *orgd.Invitation) bool { return inv.EmailError != "" })
		w.srv.Clock.Advance(61 * time.Second)
		fresh := w.invite(t, "a@x.test")[0]
		if fresh == old {
			t.Fatal("the refresh kept the token")
		}
		w.smtp.Restart()
		w.waitEmail(t, "a@x.test", status(orgd.EmailSent))
		w.waitOutboxIdle(t)
		msgs := w.smtp.Messages()
		if len(msgs) != 1 {
			t.Fatalf("%d emails delivered, want only the refreshed one", len(msgs))
		}
		if strings.Contains(msgs[0].Text, old) || !strings.Contains(msgs[0].Text, fresh) {
			t.Errorf("the delivered email carries the wrong token:\n%s", msgs[0].Text)
		}
	})
}

func TestTemplatesFromADirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "invitation_subject.txt"), []byte("Join {{.OrgName}} on Acme Cloud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tmpl, err := mail.LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := delivery("Acme", "Eve", orgd.RoleContributor)
	m, err := tmpl.Invitation(d, "https://orgd.example/invitations/tok", d.Invitation.CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Join Acme on Acme Cloud" || !strings.Contains(m.Text, "a contributor") {
		t.Errorf("subject %q, text %q", m.Subject, m.Text)
	}
	if err := os.WriteFile(filepath.Join(dir, "invitation.html"), []byte("{{.NoSuchField}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mail.LoadTemplates(dir); err == nil || !strings.Contains(err.Error(), "invitation.html") {
		t.Errorf("a template naming an unknown field loaded: %v", err)
	}
}

func delivery(org, inviter string, role orgd.Role) *orgd.Delivery {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	return &orgd.Delivery{
		Invitation: &orgd.Invitation{Email: "bob@x.test", CreatedAt: now, ExpiresAt: now.Add(72 * time.Hour)},
		OrgName:    org, InviterName: inviter, InviterEmail: "eve@x.test", Role: role, Token: "tok",
	}
}

// TestUserValuesCannotInjectHeaders renders names with line breaks and
// markup: the subject stays one line and the HTML escapes them.
func TestUserValuesCannotInjectHeaders(t *testing.T) {
	tmpl, err := mail.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	d := delivery("Acme\r\nBcc: victim@x.test", "Eve\nX-Evil: yes <script>alert(1)</script>", orgd.RoleOwner)
	m, err := tmpl.Invitation(d, "https://orgd.example/invitations/tok", d.Invitation.CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("subject spans lines: %q", m.Subject)
	}
	if strings.Contains(m.HTML, "<script>") {
		t.Errorf("the HTML part carries markup from a name:\n%s", m.HTML)
	}
	if strings.Contains(m.Text, "\nBcc:") || strings.Contains(m.Text, "\nX-Evil") {
		t.Errorf("a name broke a line of the text:\n%s", m.Text)
	}
	// Through a real SMTP conversation, the header stays one header.
	smtpSrv := smtptest.Start(t, smtptest.Options{})
	sender := newSMTP(t, smtpSrv.URL(""), "invites@acme.test", mail.SMTPOptions{Timeout: 2 * time.Second})
	m.Subject = "Hello\r\nBcc: victim@x.test" // even if a template let one through
	if err := sender.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := smtpSrv.Messages()[0]
	if got.Header.Get("Bcc") != "" || len(got.To) != 1 || got.To[0] != "bob@x.test" {
		t.Errorf("headers %v, recipients %v", got.Header, got.To)
	}
}

func TestSMTPURLs(t *testing.T) {
	for _, tc := range []struct {
		url, want string // want: the server it names, or the error text
	}{
		{"smtp://mail.example:2525", "smtp://mail.example:2525"},
		{"smtp://u:p@mail.example", "smtp://mail.example:587"},
		{"smtp://mail.example?starttls=off", "smtp://mail.example:25"},
		{"smtp://mail.example:587?starttls=required", "smtp://mail.example:587"},
		{"smtps://u:p@mail.example", "smtps://mail.example:465"},
		{"smtp://mail.example?starttls=sometimes", "starttls must be"},
		{"http://mail.example", "must start with smtp:// or smtps://"},
		{"smtp://:25", "has no host"},
		{"smtp://mail.example:99999", "bad port"},
		// A secret in the query would reach the log; any parameter but
		// starttls is refused, named without its value.
		{"smtp://mail.example:587?password=hunter2", `has an unknown query parameter "password": the only one is starttls`},
		{"smtps://mail.example?token=hunter2&starttls=off&StartTLS=required", `has unknown query parameters "StartTLS", "token"`},
		{"smtp://mail.example?password=hunter2%zz", "has a query that is not name=value pairs"},
		{"smtp://mail.example?starttls=off;password=hunter2", "has a query that is not name=value pairs"},
	} {
		server, err := mail.ParseSMTPURL(tc.url)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = server.String()
			if s, err := mail.NewSMTP(server, "orgd@x.test", mail.SMTPOptions{}); err != nil || s.String() != got {
				t.Errorf("%s: the sender %v (%v), want one for %s", tc.url, s, err, got)
			}
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.url, got, tc.want)
		}
		if strings.Contains(got, ":p@") || strings.Contains(got, "hunter2") {
			t.Errorf("%s: %q shows the password", tc.url, got)
		}
	}
	server, err := mail.ParseSMTPURL("smtp://mail.example")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mail.NewSMTP(server, "not an address", mail.SMTPOptions{}); err == nil {
		t.Error("a bad sender address was accepted")
	}
}

// TestSMTPServerRedacted: the URL in the log keeps what says which server
// and how, and shows no part that may hold a secret: the password, a path
// or a fragment, which nothing reads.
func TestSMTPServerRedacted(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"smtp://orgd:hunter2@mail.example:2525?starttls=required", "smtp://orgd:xxxxx@mail.example:2525?starttls=required"},
		{"smtps://orgd:hunter2@mail.example", "smtps://orgd:xxxxx@mail.example"},
		{"smtp://mail.example/hunter2?starttls=off#hunter2", "smtp://mail.example?starttls=off"},
	} {
		server, err := mail.ParseSMTPURL(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := server.Redacted(); got != tc.want {
			t.Errorf("%s: Redacted() = %q, want %q", tc.url, got, tc.want)
		}
	}
}

// newSMTP returns a sender through the server of rawURL.
func newSMTP(t *testing.T, rawURL, from string, opts mail.SMTPOptions) *mail.SMTP {
	t.Helper()
	server, err := mail.ParseSMTPURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mail.NewSMTP(server, from, opts)
	if err != nil {
		t.Fatal(err)
	}
	return sender
}

// TestStartTLSRequired refuses a server that does not offer STARTTLS.
func TestStartTLSRequired(t *testing.T) {
	plain := smtptest.Start(t, smtptest.Options{})
	sender := newSMTP(t, plain.URL("starttls=required"), "orgd@x.test", mail.SMTPOptions{Timeout: 2 * time.Second})
	err := sender.Send(context.Background(), mail.Message{To: "a@x.test", Subject: "s", Text: "t"})
	if err == nil || mail.IsPermanent(err) {
		t.Errorf("sending without STARTTLS: %v (permanent %v), want a temporary failure", err, mail.IsPermanent(err))
	}
	if len(plain.Messages()) != 0 {
		t.Error("a message went out in clear")
	}
}

// TestCredentialsGoToLocalhostWithoutTLS: a relay on this machine that
// asks for AUTH PLAIN without offering TLS gets the credentials (as
// docs/design.md says), and a message goes through.
func TestCredentialsGoToLocalhostWithoutTLS(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{User: "orgd", Password: "right"})
	for _, host := range []string{"127.0.0.1", "localhost"} {
		_, port, _ := strings.Cut(srv.Addr(), ":")
		sender := newSMTP(t, "smtp://orgd:right@"+host+":"+port, "orgd@x.test", mail.SMTPOptions{Timeout: 2 * time.Second})
		if err := sender.Send(context.Background(), mail.Message{To: "a@x.test", Subject: "s", Text: "t"}); err != nil {
			t.Errorf("sending through %s with the right credentials: %v", host, err)
		}
	}
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("the relay accepted %d messages, want 2", n)
	}
}

// TestWrongCredentialsAreRefused checks that AUTH runs and fails loudly.
func TestWrongCredentialsAreRefused(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{User: "orgd", Password: "right"})
	sender := newSMTP(t, "smtp://orgd:wrong@"+srv.Addr(), "orgd@x.test", mail.SMTPOptions{Timeout: 2 * time.Second})
	if err := sender.Send(context.Background(), mail.Message{To: "a@x.test", Subject: "s", Text: "t"}); err == nil || !strings.Contains(err.Error(), "535") {
		t.Errorf("wrong credentials: %v, want the server's 535", err)
	}
	if len(srv.Messages()) != 0 {
		t.Error("a message went through without authentication")
	}
}

// wantPublicReason checks that the reason organization administrators read
// says what it should and names neither the mail server nor the
// connection: those are the operator's (PublicReason).
func (w *deliveryWorld) wantPublicReason(t *testing.T, inv *orgd.Invitation, says string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(w.smtp.Addr())
	for _, secret := range []string{w.smtp.Addr(), host, ":" + port, "dial", "tcp"} {
		if strings.Contains(inv.EmailError, secret) {
			t.Errorf("email_error %q shows %q", inv.EmailError, secret)
		}
	}
	if !strings.Contains(inv.EmailError, says) {
		t.Errorf("email_error %q does not say %q", inv.EmailError, says)
	}
}
