package orgd_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/outbox"
	"github.com/orgd/orgd/store"
	"github.com/orgd/orgd/webhook"
)

// clock is a settable time source.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

type fixture struct {
	t     *testing.T
	ctx   context.Context
	svc   *orgd.Service
	store *store.Store
	clock *clock
	org   *orgd.Organization
	owner *orgd.Principal
}

func newFixture(t *testing.T, databaseURL string, limits ...func(*orgd.Limits)) *fixture {
	t.Helper()
	st := testdb.OpenURL(t, databaseURL)
	box, err := orgd.NewBox(make([]byte, orgd.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	c := newClock()
	l := orgd.DefaultLimits()
	for _, f := range limits {
		f(&l)
	}
	f := &fixture{t: t, ctx: context.Background(), store: st, clock: c,
		svc: orgd.NewService(st, box, orgd.Options{Limits: l, Now: c.Now})}
	f.org = must(f.svc.CreateOrganization(f.ctx, orgd.SystemPrincipal, "Acme", "acme"))
	f.owner = f.member("owner@acme.test", orgd.RoleOwner)
	return f
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// user creates a user and returns it as a principal.
func (f *fixture) user(email string) *orgd.Principal {
	f.t.Helper()
	u, err := f.svc.CreateUser(f.ctx, orgd.SystemPrincipal, email, "", false)
	if err != nil {
		f.t.Fatal(err)
	}
	return &orgd.Principal{User: u}
}

func (f *fixture) member(email string, role orgd.Role) *orgd.Principal {
	f.t.Helper()
	p := f.user(email)
	if _, err := f.svc.AddMember(f.ctx, orgd.SystemPrincipal, f.org.ID, p.User.ID, role); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) invite(p *orgd.Principal, emails ...string) ([]*orgd.IssuedInvitation, error) {
	_, out, err := f.svc.CreateInvitations(f.ctx, p, f.org.ID, orgd.InviteRequest{Emails: emails, RefreshExisting: true})
	return out, err
}

func (f *fixture) list(states []orgd.InvitationState) ([]*orgd.Invitation, error) {
	_, out, err := f.svc.ListInvitations(f.ctx, f.owner, f.org.ID, states)
	return out, err
}

func wantCode(t *testing.T, err error, code string) *orgd.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var e *orgd.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("got error %v, want code %s", err, code)
	}
	return e
}

func TestCreateInvitationsIsAtomicAndReportsEveryBadAddress(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		_, err := f.invite(f.owner, "good@x.test", "Bob <bob@x.test>", "owner@acme.test", "no-at-sign", "ip@[127.0.0.1]")
		e := wantCode(t, err, orgd.CodeInviteInvalidMail)
		var got []string
		for _, d := range e.Details {
			got = append(got, d.Code+" "+d.Field+" "+d.Value)
		}
		want := []string{
			orgd.CodeInviteInvalidMail + " emails[1] Bob <bob@x.test>",
			orgd.CodeAlreadyMember + " emails[2] owner@acme.test",
			orgd.CodeInviteInvalidMail + " emails[3] no-at-sign",
			orgd.CodeInviteInvalidMail + " emails[4] ip@[127.0.0.1]",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("details (-want +got):\n%s", diff)
		}
		list := must(f.list(nil))
		if len(list) != 0 {
			t.Errorf("a refused batch wrote %d invitations", len(list))
		}
	})
}

func TestCreateOrRefresh(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		first := must(f.invite(f.owner, " Ann@X.test ", "ann@x.TEST", "bo@x.test"))
		if len(first) != 2 || first[0].Email != "Ann@X.test" || first[0].EmailNorm != "ann@x.test" {
			t.Fatalf("de-duplication: got %d invitations, first %q", len(first), first[0].Email)
		}
		_, err := f.invite(f.owner, "ann@x.test")
		e := wantCode(t, err, orgd.CodeInviteExists)
		if e.RetryAfter <= 0 || e.RetryAfter > time.Minute {
			t.Errorf("cooldown Retry-After = %v", e.RetryAfter)
		}
		f.clock.Advance(61 * time.Second)
		again := must(f.invite(f.owner, "ANN@x.test"))
		if !again[0].Refreshed || again[0].ID != first[0].ID || again[0].Token == first[0].Token {
			t.Fatalf("refresh: refreshed=%v same id=%v new token=%v", again[0].Refreshed, again[0].ID == first[0].ID, again[0].Token != first[0].Token)
		}
		if !again[0].ExpiresAt.Equal(f.clock.Now().Add(72 * time.Hour)) {
			t.Errorf("refreshed expiry %v", again[0].ExpiresAt)
		}
		if _, _, err := f.svc.GetInvitationByToken(f.ctx, f.owner, first[0].Token); orgd.ErrorCode(err) != orgd.CodeInviteNotFound {
			t.Errorf("superseded token: got %v, want invitation_not_found", err)
		}
		// Without refresh (the slug API), an open invitation is a conflict.
		f.clock.Advance(61 * time.Second)
		_, _, err = f.svc.CreateInvitations(f.ctx, f.owner, f.org.ID, orgd.InviteRequest{Emails: []string{"bo@x.test"}})
		wantCode(t, err, orgd.CodeInviteExists)
	})
}

func TestRateLimitIsExactAndSaysWhenToRetry(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url, func(l *orgd.Limits) { l.InvitesPerHour = 5 })
		must(f.invite(f.owner, "a1@x.test", "a2@x.test"))
		f.clock.Advance(10 * time.Minute)
		must(f.invite(f.owner, "a3@x.test", "a4@x.test", "a5@x.test"))
		_, err := f.invite(f.owner, "a6@x.test")
		e := wantCode(t, err, orgd.CodeInviteRateLimit)
		if e.RetryAfter != 50*time.Minute {
			t.Errorf("Retry-After = %v, want 50m (when the first two leave the window)", e.RetryAfter)
		}
		f.clock.Advance(50 * time.Minute)
		must(f.invite(f.owner, "a6@x.test", "a7@x.test"))
		_, err = f.invite(f.owner, "a8@x.test")
		wantCode(t, err, orgd.CodeInviteRateLimit)
	})
}

func TestMemberLimitCountsPendingInvitations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		three := 3
		must(f.svc.UpdateOrganization(f.ctx, orgd.SystemPrincipal, f.org.ID, orgd.OrganizationUpdate{MaxMembers: &three}))
		must(f.invite(f.owner, "a@x.test", "b@x.test"))
		_, err := f.invite(f.owner, "c@x.test")
		wantCode(t, err, orgd.CodeMemberLimit)
		// An expired invitation no longer holds a seat.
		f.clock.Advance(73 * time.Hour)
		must(f.invite(f.owner, "c@x.test"))
	})
}

func TestAcceptRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		inv := must(f.invite(f.owner, "ann@x.test"))[0]
		ann := f.user("ANN@x.test")
		bob := f.user("bob@x.test")
		_, err := f.svc.AcceptInvitationByToken(f.ctx, bob, inv.Token)
		wantCode(t, err, orgd.CodeInviteMismatch)
		_, err = f.svc.AcceptInvitationByToken(f.ctx, ann, "nope")
		wantCode(t, err, orgd.CodeInviteNotFound)
		m := must(f.svc.AcceptInvitationByToken(f.ctx, ann, inv.Token))
		if m.UserID != ann.User.ID || m.OrgID != f.org.ID {
			t.Fatalf("membership %+v", m)
		}
		_, err = f.svc.AcceptInvitationByToken(f.ctx, ann, inv.Token)
		wantCode(t, err, orgd.CodeAlreadyMember)
		open := must(f.list(orgd.OpenStates))
		if len(open) != 0 {
			t.Errorf("an accepted invitation is still listed")
		}

		late := must(f.invite(f.owner, "bob@x.test"))[0]
		f.clock.Advance(72 * time.Hour)
		_, err = f.svc.AcceptInvitationByToken(f.ctx, bob, late.Token)
		wantCode(t, err, orgd.CodeInviteExpired)

		must(f.invite(f.owner, "carl@x.test"))
		carl := f.user("carl@x.test")
		mine := must(f.svc.ListMyInvitations(f.ctx, carl))
		if len(mine) != 1 {
			t.Fatalf("carl sees %d invitations", len(mine))
		}
		_, _, err = f.svc.RespondToInvitation(f.ctx, bob, mine[0].ID, true)
		wantCode(t, err, orgd.CodeInviteNotFound) // only the invitee may respond
		_, declined := must2(f.svc.RespondToInvitation(f.ctx, carl, mine[0].ID, false))
		if declined.Status != orgd.InvitationDeclined {
			t.Errorf("declined invitation has status %s", declined.Status)
		}
		_, _, err = f.svc.RespondToInvitation(f.ctx, carl, mine[0].ID, true)
		wantCode(t, err, orgd.CodeInviteUsed)
	})
}

// TestAcceptByAMember: a member who accepts an invitation is told they
// belong already, and nothing changes: an open invitation stays open and
// the membership keeps its role. The invitations are the ones a member can
// still hold: one they declined before being added, and another address's
// (ORGD_ACCEPT_ANY_EMAIL); one to their own verified address was revoked
// when they became a member.
func TestAcceptByAMember(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url, func(l *orgd.Limits) { l.AcceptAnyEmail = true })
		declined := must(f.invite(f.owner, "dana@x.test"))[0]
		dana := f.user("dana@x.test")
		must(f.svc.DeclineInvitationByToken(f.ctx, dana, declined.Token))
		must(f.svc.AddMember(f.ctx, orgd.SystemPrincipal, f.org.ID, dana.User.ID, orgd.RoleReader))
		_, err := f.svc.AcceptInvitationByToken(f.ctx, dana, declined.Token)
		wantCode(t, err, orgd.CodeAlreadyMember)

		inv := must(f.invite(f.owner, "dana.other@x.test"))[0]
		_, err = f.svc.AcceptInvitationByToken(f.ctx, dana, inv.Token)
		wantCode(t, err, orgd.CodeAlreadyMember)
		open := must(f.list(orgd.OpenStates))
		if len(open) != 1 || open[0].ID != inv.ID || open[0].Status != orgd.InvitationOpen {
			t.Errorf("after the refused accept, the open invitations are %+v", open)
		}
		m := must(f.svc.GetMember(f.ctx, f.owner, f.org.ID, dana.User.ID))
		if m.EffectiveRole() != orgd.RoleReader {
			t.Errorf("the member's role became %s", m.EffectiveRole())
		}
	})
}

// TestAcceptRevokedToAMember: accepting an invitation that was revoked
// because its address became a member's tells that member that they
// belong already (as the invitation page does), by token and by id, until
// the link would have expired or the address is no longer a member's.
// Every other caller, and every caller of a token an administrator
// revoked, hears that the invitation does not exist, as for any revoked
// token; a decline is not an accept and changes nothing either.
func TestAcceptRevokedToAMember(t *testing.T) {
	for _, anyEmail := range []bool{false, true} {
		t.Run(fmt.Sprintf("accept any email %v", anyEmail), func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, url string) {
				f := newFixture(t, url, func(l *orgd.Limits) { l.AcceptAnyEmail = anyEmail })
				invs := map[string]*orgd.IssuedInvitation{}
				for _, inv := range must(f.invite(f.owner, "dana@x.test", "fay@x.test", "gus@x.test")) {
					invs[inv.Email] = inv
				}
				must(f.svc.RevokeInvitation(f.ctx, f.owner, f.org.ID, invs["fay@x.test"].ID))
				dana, fay, gus := f.member("dana@x.test", orgd.RoleReader), f.member("fay@x.test", orgd.RoleReader), f.member("gus@x.test", orgd.RoleReader)
				reader := f.member("reader@x.test", orgd.RoleReader)
				outsider := f.user("outsider@x.test")
				must(f.svc.RemoveMembers(f.ctx, f.owner, f.org.ID, []string{gus.User.ID}, false))

				byToken := func(p *orgd.Principal, email string) error {
					_, err := f.svc.AcceptInvitationByToken(f.ctx, p, invs[email].Token)
					return err
				}
				byID := func(accept bool) func(*orgd.Principal, string) error {
					return func(p *orgd.Principal, email string) error {
						_, _, err := f.svc.RespondToInvitation(f.ctx, p, invs[email].ID, accept)
						return err
					}
				}
				// Another member is a holder of the token who could accept
				// it only with ORGD_ACCEPT_ANY_EMAIL.
				otherMember := orgd.CodeInviteNotFound
				if anyEmail {
					otherMember = orgd.CodeAlreadyMember
				}
				cases := []struct {
					name   string
					answer func(*orgd.Principal, string) error
					caller *orgd.Principal
					email  string
					want   string
				}{
					{"the member by token", byToken, dana, "dana@x.test", orgd.CodeAlreadyMember},
					{"the member by id", byID(true), dana, "dana@x.test", orgd.CodeAlreadyMember},
					{"the member declining", byID(false), dana, "dana@x.test", orgd.CodeInviteNotFound},
					{"another member by token", byToken, reader, "dana@x.test", otherMember},
					{"another member by id", byID(true), reader, "dana@x.test", orgd.CodeInviteNotFound},
					{"an outsider by token", byToken, outsider, "dana@x.test", orgd.CodeInviteNotFound},
					{"an outsider by id", byID(true), outsider, "dana@x.test", orgd.CodeInviteNotFound},
					{"a member whose invitation an administrator revoked", byToken, fay, "fay@x.test", orgd.CodeInviteNotFound},
					{"a former member", byToken, gus, "gus@x.test", orgd.CodeInviteNotFound},
				}
				check := func(when string) {
					t.Helper()
					for _, c := range cases {
						if got := orgd.ErrorCode(c.answer(c.caller, c.email)); got != c.want {
							t.Errorf("%s: %s: got %s, want %s", when, c.name, got, c.want)
						}
					}
				}
				check("before the expiry")
				if open := must(f.list(orgd.OpenStates)); len(open) != 0 {
					t.Errorf("the refused answers reopened invitations: %+v", open)
				}
				if members := must(f.svc.ListMembers(f.ctx, f.owner, f.org.ID)); len(members) != 4 {
					t.Errorf("the refused answers changed the members: %d, want 4", len(members))
				}

				// Once the link would have expired, it tells no one anything.
				f.clock.Advance(72 * time.Hour)
				for i := range cases {
					cases[i].want = orgd.CodeInviteNotFound
				}
				check("after the expiry")
			})
		})
	}
}

// acceptHooks is a store whose transactions run before, once, just before
// the first accept closes its invitation, and after, once, just after the
// first accept closed one: whatever before commits happens between that
// accept's read of the invitation and its write; after runs while the
// accept holds the invitation's row.
type acceptHooks struct {
	orgd.Store
	before, after func()
}

func (s *acceptHooks) WriteTx(ctx context.Context, fn func(orgd.Tx) error) error {
	return s.Store.WriteTx(ctx, func(tx orgd.Tx) error { return fn(&acceptHooksTx{tx, s}) })
}

type acceptHooksTx struct {
	orgd.Tx
	s *acceptHooks
}

func (tx *acceptHooksTx) CloseInvitation(ctx context.Context, id string, status orgd.InvitationStatus, at time.Time, userID string, reason orgd.RevokeReason) (bool, error) {
	if status != orgd.InvitationAccepted {
		return tx.Tx.CloseInvitation(ctx, id, status, at, userID, reason)
	}
	if hook := tx.s.before; hook != nil {
		tx.s.before = nil
		hook()
	}
	won, err := tx.Tx.CloseInvitation(ctx, id, status, at, userID, reason)
	if hook := tx.s.after; hook != nil && won {
		tx.s.after = nil
		hook()
	}
	return won, err
}

// TestAcceptLosingToTheAddOfItsInvitee: an invitee who accepts while being
// added to the organization another way, and loses the race to close the
// invitation to that add's revoke, hears that they belong already, the
// answer of a moment later (see TestAcceptRevokedToAMember), by token and
// by id. Only PostgreSQL runs writers side by side; on SQLite the add
// would wait for the accept.
func TestAcceptLosingToTheAddOfItsInvitee(t *testing.T) {
	f := newFixture(t, testdb.URL(t, store.Postgres))
	racing := &acceptHooks{Store: f.store}
	svc := orgd.NewService(racing, must(orgd.NewBox(make([]byte, orgd.KeySize))), orgd.Options{Limits: orgd.DefaultLimits(), Now: f.clock.Now})
	for _, byID := range []bool{false, true} {
		invitee := f.user(fmt.Sprintf("by-id-%v@x.test", byID))
		inv := must(f.invite(f.owner, invitee.User.Email))[0]
		added := false
		racing.before = func() {
			must(f.svc.AddMember(f.ctx, orgd.SystemPrincipal, f.org.ID, invitee.User.ID, orgd.RoleReader))
			added = true
		}
		var err error
		if byID {
			_, _, err = svc.RespondToInvitation(f.ctx, invitee, inv.ID, true)
		} else {
			_, err = svc.AcceptInvitationByToken(f.ctx, invitee, inv.Token)
		}
		if !added {
			t.Fatalf("by id %v: the add did not run between the read and the close", byID)
		}
		if got := orgd.ErrorCode(err); got != orgd.CodeAlreadyMember {
			t.Errorf("by id %v: the accept that lost to the add answered %v, want %s", byID, err, orgd.CodeAlreadyMember)
		}
	}
}

// TestMembershipWritersRacingAnAcceptWait: a writer of the membership of a
// user who is accepting the invitation to their own address, reaching that
// invitation after the accept closed it and before the accept wrote the
// membership: adding the user (orgd admin member add), or the user
// accepting another address's invitation (ORGD_ACCEPT_ANY_EMAIL), which
// revokes the invitation to their own. Every writer takes an invitation's
// row before a membership's key (see revokeInvitationToMember), so the
// racer waits for the accept and hears that the user belongs already: no
// transaction is run again. In the other order the two deadlocked,
// PostgreSQL broke the deadlock after a second, and the store ran the
// racer again. Only PostgreSQL runs writers side by side.
func TestMembershipWritersRacingAnAcceptWait(t *testing.T) {
	url := testdb.URL(t, store.Postgres)
	f := newFixture(t, url, func(l *orgd.Limits) { l.AcceptAnyEmail = true })
	var retries atomic.Int64
	st, err := store.Open(f.ctx, url, store.Options{Retried: func(string) { retries.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	racing := &acceptHooks{Store: st}
	box := must(orgd.NewBox(make([]byte, orgd.KeySize)))
	limits := orgd.DefaultLimits()
	limits.AcceptAnyEmail = true
	svc := orgd.NewService(racing, box, orgd.Options{Limits: limits, Now: f.clock.Now})
	other := orgd.NewService(st, box, orgd.Options{Limits: limits, Now: f.clock.Now})

	for _, tc := range []struct {
		name  string
		racer func(invitee *orgd.Principal) error
	}{
		{"add", func(invitee *orgd.Principal) error {
			_, err := other.AddMember(f.ctx, orgd.SystemPrincipal, f.org.ID, invitee.User.ID, orgd.RoleReader)
			return err
		}},
		{"accept of another address's invitation", func(invitee *orgd.Principal) error {
			inv := must(f.invite(f.owner, "someone-else-"+invitee.User.Email))[0]
			_, err := other.AcceptInvitationByToken(f.ctx, invitee, inv.Token)
			return err
		}},
	} {
		retries.Store(0)
		invitee := f.user(strings.ReplaceAll(tc.name, " ", "-") + "@x.test")
		inv := must(f.invite(f.owner, invitee.User.Email))[0]
		raced := make(chan error, 1)
		racing.after = func() {
			go func() { raced <- tc.racer(invitee) }()
			// Until the racer waits for a lock (or is done: then nothing
			// races).
			for {
				var waiting int
				if err := f.store.DB().QueryRowContext(f.ctx, `SELECT count(*) FROM pg_stat_activity
					WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
					t.Error(err)
					return
				}
				if waiting > 0 || len(raced) > 0 {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		if _, err := svc.AcceptInvitationByToken(f.ctx, invitee, inv.Token); err != nil {
			t.Fatalf("%s: accept: %v", tc.name, err)
		}
		if racing.after != nil {
			t.Fatalf("%s: the hook did not run", tc.name)
		}
		if err := <-raced; orgd.ErrorCode(err) != orgd.CodeAlreadyMember {
			t.Errorf("%s answered %v, want %s", tc.name, err, orgd.CodeAlreadyMember)
		}
		if n := retries.Load(); n != 0 {
			t.Errorf("%s: %d transactions were run again (a deadlock), want none", tc.name, n)
		}
	}
}

// TestNoOpenInvitationToAMember: an organization never lists an open
// invitation to the verified address of one of its members. A user who
// becomes a member otherwise than by accepting it (orgd admin member add,
// accepting another address's invitation with ORGD_ACCEPT_ANY_EMAIL), or a
// member whose address becomes verified or changes to a verified one,
// has that invitation revoked in the same transaction, with an
// invitation.revoked event by whoever made the change that says why. An
// unverified address keeps its invitation.
func TestNoOpenInvitationToAMember(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url, func(l *orgd.Limits) { l.AcceptAnyEmail = true })
		invs := map[string]string{} // invitation id by address
		for _, inv := range must(f.invite(f.owner, "dana@x.test", "eve@x.test", "fay@x.test", "hal@x.test", "ivy.new@x.test")) {
			invs[inv.Email] = inv.ID
		}
		openAddresses := func() []string {
			var out []string
			for _, inv := range must(f.list(orgd.OpenStates)) {
				out = append(out, inv.Email)
			}
			slices.Sort(out)
			return out
		}

		// Added by orgd admin, the address written otherwise.
		f.member("DANA@x.test", orgd.RoleReader)
		// Accepting another address's invitation.
		eve := f.user("eve@x.test")
		gil := must(f.invite(f.owner, "gil@x.test"))[0]
		must(f.svc.AcceptInvitationByToken(f.ctx, eve, gil.Token))
		// Added with an unverified address.
		idp := func(subject, email string, verified bool) *orgd.Principal {
			return must(f.svc.SignIn(f.ctx, &orgd.Identity{Issuer: "https://idp.example.com", Subject: subject, Email: email, EmailVerified: verified}))
		}
		hal := idp("hal", "hal@x.test", false)
		must(f.svc.AddMember(f.ctx, orgd.SystemPrincipal, f.org.ID, hal.User.ID, orgd.RoleReader))
		ivy := idp("ivy", "ivy@x.test", true)
		must(f.svc.AddMember(f.ctx, orgd.SystemPrincipal, f.org.ID, ivy.User.ID, orgd.RoleReader))
		if got, want := openAddresses(), []string{"fay@x.test", "hal@x.test", "ivy.new@x.test"}; !slices.Equal(got, want) {
			t.Errorf("open invitations %v, want %v", got, want)
		}

		// The issuer verifies hal's address, and gives ivy another one.
		idp("hal", "hal@x.test", true)
		idp("ivy", "ivy.new@x.test", true)
		if got, want := openAddresses(), []string{"fay@x.test"}; !slices.Equal(got, want) {
			t.Errorf("after the addresses changed, open invitations %v, want %v", got, want)
		}

		// Each revoke is in the log, by whoever made the change, with why.
		type revoke struct{ Address, Actor, Reason string }
		var got []revoke
		for _, ev := range must(f.svc.ListAuditEvents(f.ctx, f.owner, f.org.ID, orgd.AuditQuery{})) {
			if ev.Action != orgd.AuditInvitationRevoked {
				continue
			}
			email := fmt.Sprint(ev.Details["email"])
			got = append(got, revoke{email, ev.Actor, fmt.Sprint(ev.Details["reason"])})
			if ev.TargetID != invs[email] {
				t.Errorf("the revoke of %s names invitation %s, want %s", email, ev.TargetID, invs[email])
			}
		}
		slices.SortFunc(got, func(a, b revoke) int { return strings.Compare(a.Address, b.Address) })
		why := "the address is a member's"
		want := []revoke{{"dana@x.test", "orgd admin", why}, {"eve@x.test", "eve@x.test", why},
			{"hal@x.test", "hal@x.test", why}, {"ivy.new@x.test", "ivy.new@x.test", why}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("invitation.revoked events (-want +got):\n%s", diff)
		}

		// Each invitation keeps why it was revoked (its link's page says
		// so); one revoked by an administrator has no reason.
		must(f.svc.RevokeInvitation(f.ctx, f.owner, f.org.ID, invs["fay@x.test"]))
		reasons := map[string]orgd.RevokeReason{}
		for _, inv := range must(f.list([]orgd.InvitationState{orgd.StateRevoked})) {
			reasons[inv.Email] = inv.RevokeReason
		}
		wantReasons := map[string]orgd.RevokeReason{"dana@x.test": orgd.RevokedToMember, "eve@x.test": orgd.RevokedToMember,
			"hal@x.test": orgd.RevokedToMember, "ivy.new@x.test": orgd.RevokedToMember, "fay@x.test": ""}
		if diff := cmp.Diff(wantReasons, reasons); diff != "" {
			t.Errorf("revoke reasons (-want +got):\n%s", diff)
		}
	})
}

// TestAddMemberTakesItsInvitationsSeat: the invitation that adding a user
// revokes does not hold a seat besides the new membership, and an add that
// is refused leaves it open. A member hears that first, whatever the seats.
func TestAddMemberTakesItsInvitationsSeat(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		three, two := 3, 2
		must(f.svc.UpdateOrganization(f.ctx, orgd.SystemPrincipal, f.org.ID, orgd.OrganizationUpdate{MaxMembers: &three}))
		must(f.invite(f.owner, "jo@x.test", "kay@x.test")) // the owner and two invitations: full
		jo, kay := f.user("jo@x.test"), f.user("kay@x.test")
		must(f.svc.AddMember(f.ctx, orgd.SystemPrincipal, f.org.ID, jo.User.ID, orgd.RoleReader))

		must(f.svc.UpdateOrganization(f.ctx, orgd.SystemPrincipal, f.org.ID, orgd.OrganizationUpdate{MaxMembers: &two}))
		_, err := f.svc.AddMember(f.ctx, orgd.SystemPrincipal, f.org.ID, kay.User.ID, orgd.RoleReader)
		wantCode(t, err, orgd.CodeMemberLimit) // the owner, jo, and kay: three
		if open := must(f.list(orgd.OpenStates)); len(open) != 1 || open[0].Email != "kay@x.test" {
			t.Errorf("after a refused add, the open invitations are %+v, want kay's", open)
		}
		_, err = f.svc.AddMember(f.ctx, orgd.SystemPrincipal, f.org.ID, jo.User.ID, orgd.RoleReader)
		wantCode(t, err, orgd.CodeAlreadyMember)
	})
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

func TestConcurrentAcceptsMakeOneMembership(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url, func(l *orgd.Limits) { l.AcceptAnyEmail = true })
		inv := must(f.invite(f.owner, "team@x.test"))[0]
		var people []*orgd.Principal
		for i := range 8 {
			people = append(people, f.user(fmt.Sprintf("p%d@x.test", i)))
		}
		var wg sync.WaitGroup
		var wins atomic.Int32
		errs := make(chan error, len(people))
		for _, p := range people {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.svc.AcceptInvitationByToken(f.ctx, p, inv.Token); err == nil {
					wins.Add(1)
				} else if orgd.ErrorCode(err) != orgd.CodeInviteUsed {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("unexpected error: %v", err)
		}
		members := must(f.svc.ListMembers(f.ctx, f.owner, f.org.ID))
		if wins.Load() != 1 || len(members) != 2 {
			t.Errorf("%d accepts succeeded and the organization has %d members; want 1 and 2", wins.Load(), len(members))
		}
	})
}

// TestCloseRacesAnswerAsInTurn: an accept, a decline and a revoke of one
// invitation racing each other close it once, and each loser gets the
// answer it would have had a moment later (docs/slug-api.md): a revoke
// after an accept or decline is 409 invitation_already_used, an accept or
// decline after a revoke 404 invitation_not_found, an answer after an
// answer 409 invitation_already_used; a revoke by token (Elastic's, which
// names open invitations only) that loses is 404 invitation_not_found.
func TestCloseRacesAnswerAsInTurn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		for i := range 40 {
			invitee := f.user(fmt.Sprintf("r%d@x.test", i))
			inv := must(f.invite(f.owner, invitee.User.Email))[0]
			ops := map[string]func() error{
				"accept": func() error {
					_, _, err := f.svc.RespondToInvitation(f.ctx, invitee, inv.ID, true)
					return err
				},
				"decline": func() error {
					_, _, err := f.svc.RespondToInvitation(f.ctx, invitee, inv.ID, false)
					return err
				},
				"revoke": func() error {
					_, err := f.svc.RevokeInvitation(f.ctx, f.owner, f.org.ID, inv.ID)
					return err
				},
				"revoke by token": func() error {
					return f.svc.RevokeInvitationsByToken(f.ctx, f.owner, f.org.ID, []string{inv.Token})
				},
			}
			names := []string{[]string{"revoke", "revoke by token"}[i/2%2], []string{"accept", "decline"}[i%2]}
			errs := make([]error, len(names))
			start := make(chan struct{})
			var wg sync.WaitGroup
			for j, name := range names {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[j] = ops[name]()
				}()
			}
			close(start)
			wg.Wait()
			var winner string
			for j, err := range errs {
				if err == nil {
					winner = names[j]
				}
			}
			for j, err := range errs {
				if err == nil {
					continue
				}
				// Revoking by token names open invitations only (Elastic's
				// delete-invitations): whatever closed it, it is not found.
				want := orgd.CodeInviteUsed
				if strings.HasPrefix(winner, "revoke") || names[j] == "revoke by token" {
					want = orgd.CodeInviteNotFound
				}
				if orgd.ErrorCode(err) != want {
					t.Errorf("round %d: %s lost to %s with %v, want %s", i, names[j], winner, err, want)
				}
			}
			if winner == "" {
				t.Errorf("round %d: nobody closed the invitation: %v", i, errs)
			}
		}
	})
}

// TestConcurrentCreatesForOneAddressMakeOneInvitation runs with the default
// limits (the organization is locked) and with none (it is not: the unique
// index on open invitations decides).
func TestConcurrentCreatesForOneAddressMakeOneInvitation(t *testing.T) {
	for name, limits := range map[string]func(*orgd.Limits){
		"limited":   func(*orgd.Limits) {},
		"unlimited": func(l *orgd.Limits) { l.InvitesPerHour, l.DefaultMaxMembers = 0, 0 },
	} {
		t.Run(name, func(t *testing.T) { concurrentCreates(t, limits) })
	}
}

func concurrentCreates(t *testing.T, limits func(*orgd.Limits)) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url, limits)
		var wg sync.WaitGroup
		var ok atomic.Int32
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.invite(f.owner, "same@x.test"); err == nil {
					ok.Add(1)
				} else if orgd.ErrorCode(err) != orgd.CodeInviteExists {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("unexpected error: %v", err)
		}
		list := must(f.list(nil))
		if ok.Load() != 1 || len(list) != 1 {
			t.Errorf("%d creates succeeded, %d invitations exist; want 1 and 1", ok.Load(), len(list))
		}
	})
}

func TestLastOwnerAndAdminStay(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		admin := f.member("admin@acme.test", orgd.RoleOrgAdmin)
		reader := f.member("reader@acme.test", orgd.RoleReader)

		_, err := f.svc.SetMemberRole(f.ctx, f.owner, f.org.ID, f.owner.User.ID, orgd.RoleOrgAdmin)
		wantCode(t, err, orgd.CodeLastOwner)
		_, err = f.svc.RemoveMembers(f.ctx, f.owner, f.org.ID, []string{f.owner.User.ID}, false)
		wantCode(t, err, orgd.CodeLastOwner)
		// Admins do not manage owners.
		_, err = f.svc.RemoveMembers(f.ctx, admin, f.org.ID, []string{f.owner.User.ID}, false)
		wantCode(t, err, orgd.CodeRolesForbidden)
		_, err = f.svc.SetMemberRole(f.ctx, admin, f.org.ID, reader.User.ID, orgd.RoleOwner)
		wantCode(t, err, orgd.CodeRolesForbidden)
		// Readers manage nothing, but may leave.
		_, err = f.svc.RemoveMembers(f.ctx, reader, f.org.ID, []string{admin.User.ID}, false)
		wantCode(t, err, orgd.CodeOrgInvalidAccess)
		must(f.svc.RemoveMembers(f.ctx, reader, f.org.ID, []string{reader.User.ID}, false))
		// A platform administrator may force it.
		must(f.svc.RemoveMembers(f.ctx, orgd.SystemPrincipal, f.org.ID, []string{f.owner.User.ID}, true))
		// Now admin is the last member able to manage the organization.
		_, err = f.svc.SetMemberRole(f.ctx, admin, f.org.ID, admin.User.ID, orgd.RoleReader)
		wantCode(t, err, orgd.CodeLastAdmin)
	})
}

func TestOutsidersLearnNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		stranger := f.user("stranger@else.test")
		for _, ref := range []string{f.org.ID, f.org.Slug, "01936f6e-0000-7000-8000-000000000000", "no-such-org"} {
			_, err := f.svc.GetOrganization(f.ctx, stranger, ref)
			wantCode(t, err, orgd.CodeOrgNotFound)
			_, err = f.svc.ListMembers(f.ctx, stranger, ref)
			wantCode(t, err, orgd.CodeOrgNotFound)
			_, _, err = f.svc.ListInvitations(f.ctx, stranger, ref, nil)
			wantCode(t, err, orgd.CodeOrgNotFound)
			_, _, err = f.svc.CreateInvitations(f.ctx, stranger, ref, orgd.InviteRequest{Emails: []string{"a@x.test"}})
			wantCode(t, err, orgd.CodeSenderNotMember)
		}
	})
}

func TestRoleAssignmentsRoundTrip(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		dev := f.member("dev@acme.test", orgd.RoleReader)
		add := orgd.RoleAssignments{
			Deployment: []orgd.ScopedRoleAssignment{{RoleID: "deployment-viewer", ResourceIDs: []string{"d2", "d1", "d2"}}},
			Project:    orgd.ProjectRoleAssignments{Security: []orgd.ScopedRoleAssignment{{RoleID: "security-admin", All: true}}},
		}
		if err := f.svc.ChangeRoleAssignments(f.ctx, f.owner, dev.User.ID, add, false, false); err != nil {
			t.Fatal(err)
		}
		m := must(f.svc.GetMember(f.ctx, f.owner, f.org.ID, dev.User.ID))
		want := orgd.RoleAssignments{
			Organization: []orgd.OrgRoleAssignment{{RoleID: "reader", OrganizationID: f.org.ID}},
			Deployment:   []orgd.ScopedRoleAssignment{{RoleID: "deployment-viewer", OrganizationID: f.org.ID, ResourceIDs: []string{"d1", "d2"}}},
			Project:      orgd.ProjectRoleAssignments{Security: []orgd.ScopedRoleAssignment{{RoleID: "security-admin", OrganizationID: f.org.ID, All: true}}},
		}
		if diff := cmp.Diff(want, m.Roles); diff != "" {
			t.Errorf("stored roles (-want +got):\n%s", diff)
		}
		if err := f.svc.ChangeRoleAssignments(f.ctx, f.owner, dev.User.ID, add, true, false); err != nil {
			t.Fatal(err)
		}
		m = must(f.svc.GetMember(f.ctx, f.owner, f.org.ID, dev.User.ID))
		if diff := cmp.Diff(orgd.RoleAssignments{Organization: want.Organization}, m.Roles); diff != "" {
			t.Errorf("after removal (-want +got):\n%s", diff)
		}
		err := f.svc.ChangeRoleAssignments(f.ctx, dev, dev.User.ID, add, false, false)
		wantCode(t, err, orgd.CodeRolesForbidden)
		err = f.svc.ChangeRoleAssignments(f.ctx, f.owner, f.user("out@x.test").User.ID, add, false, false)
		wantCode(t, err, orgd.CodeInvalidTarget)
	})
}

// TestDatabaseHoldsNoUsableSecret scans every text column of every table
// for tokens, API keys and webhook secrets in clear.
func TestDatabaseHoldsNoUsableSecret(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		issued := must(f.invite(f.owner, "a@x.test", "b@x.test"))
		key := must(f.svc.CreateAPIKey(f.ctx, orgd.SystemPrincipal, f.owner.User.ID, "ci", ""))
		hook := must(f.svc.CreateWebhookEndpoint(f.ctx, f.owner, f.org.ID, orgd.WebhookEndpointRequest{URL: "https://hooks.example.com/orgd"}))
		// A stored answer holds a key too.
		answer, _, err := f.svc.Idempotent(f.ctx, f.owner, "k", "fp", func(ctx context.Context) ([]byte, bool) {
			k := must(f.svc.CreateAPIKey(ctx, f.owner, f.owner.User.ID, "retried", ""))
			return []byte(k.Secret), true
		})
		if err != nil {
			t.Fatal(err)
		}
		secrets := []string{key.Secret, key.Secret[len(orgd.APIKeyPrefix):], hook.Secret, hook.Secret[len(orgd.WebhookSecretPrefix):], string(answer)}
		for _, inv := range issued {
			secrets = append(secrets, inv.Token)
		}
		db := f.store.DB()
		tables := []string{"organizations", "users", "api_keys", "memberships", "invitations", "webhook_endpoints", "audit_events", "idempotency_keys"}
		for _, table := range tables {
			cols, rows := testdb.Rows(t, db, "SELECT * FROM "+table)
			for _, row := range rows {
				for i, v := range row {
					for _, s := range secrets {
						if strings.Contains(v, s) {
							t.Errorf("%s.%s holds a secret in clear", table, cols[i])
						}
					}
				}
			}
		}
		// The sealed copy does not open without the server key.
		other, _ := orgd.NewBox([]byte(strings.Repeat("k", orgd.KeySize)))
		if _, err := other.Open(issued[0].TokenSealed, issued[0].TokenHash); err == nil {
			t.Error("a sealed token opened with another key")
		}
		if _, err := other.Open(hook.SecretSealed, "webhook_endpoint:"+hook.ID); err == nil {
			t.Error("a sealed webhook secret opened with another key")
		}
		// With the server key, the sealed secret opens to the one shown.
		target := must(f.svc.PrepareWebhook(f.ctx, orgd.WebhookJob{EndpointID: hook.ID}))
		if target.Secret != hook.Secret {
			t.Error("the sealed secret does not open to the secret shown")
		}
	})
}

// TestAPIKeyNeedsAName: a name that is empty or only spaces is refused
// before anything is written (ErrKeyNameRequired), for the key's user as
// for an administrator, and so is one too long or with a control character
// (ErrKeyNameInvalid, which each surface can tell in its own words); a
// name is kept trimmed.
func TestAPIKeyNeedsAName(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		for _, p := range []*orgd.Principal{f.owner, orgd.SystemPrincipal} {
			for _, name := range []string{"", "   ", "\t\u00a0\u3000"} {
				_, err := f.svc.CreateAPIKey(f.ctx, p, f.owner.User.ID, name, "")
				if e := wantCode(t, err, orgd.CodeInvalidData); e.Field != "name" || !errors.Is(err, orgd.ErrKeyNameRequired) {
					t.Errorf("name %q: %v, want ErrKeyNameRequired", name, err)
				}
			}
			for _, name := range []string{strings.Repeat("n", 201), "ci\nkey", "ci\x7f"} {
				_, err := f.svc.CreateAPIKey(f.ctx, p, f.owner.User.ID, name, "")
				if e := wantCode(t, err, orgd.CodeInvalidData); e.Field != "name" || !errors.Is(err, orgd.ErrKeyNameInvalid) {
					t.Errorf("name %q: %v, want ErrKeyNameInvalid", name, err)
				}
			}
		}
		if keys := must(f.svc.ListAPIKeys(f.ctx, f.owner, f.owner.User.ID)); len(keys) != 0 {
			t.Fatalf("refused names made keys: %+v", keys)
		}
		k := must(f.svc.CreateAPIKey(f.ctx, f.owner, f.owner.User.ID, "  ci  ", ""))
		if k.Name != "ci" {
			t.Errorf("name %q, want it trimmed to %q", k.Name, "ci")
		}
	})
}

// TestRoleAssignmentsTellStrangersNothing: a caller outside the target's
// organizations gets the same answer whether the user exists or not,
// whatever it asks: a role in a named organization or in none, a platform
// role, or nothing at all. A member of the target's organization who may
// not manage members sees the target, and is refused.
func TestRoleAssignmentsTellStrangersNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		dev := f.member("dev@acme.test", orgd.RoleReader)
		reader := f.member("reader@acme.test", orgd.RoleReader)
		other := must(f.svc.CreateOrganization(f.ctx, orgd.SystemPrincipal, "Other", "other"))
		stranger := f.user("boss@other.test")
		must(f.svc.AddMember(f.ctx, orgd.SystemPrincipal, other.ID, stranger.User.ID, orgd.RoleOwner))
		requests := map[string]orgd.RoleAssignments{
			"a role in the organization": {Organization: []orgd.OrgRoleAssignment{{RoleID: "billing-admin", OrganizationID: f.org.ID}}},
			"a role in no organization":  {Organization: []orgd.OrgRoleAssignment{{RoleID: "billing-admin"}}},
			"a platform role":            {Platform: []orgd.PlatformRoleAssignment{{RoleID: orgd.PlatformAdminRole}}},
			"nothing":                    {},
		}
		for name, ra := range requests {
			for _, remove := range []bool{false, true} {
				for _, target := range []string{dev.User.ID, "01936f6e-0000-7000-8000-000000000000"} {
					err := f.svc.ChangeRoleAssignments(f.ctx, stranger, target, ra, remove, false)
					if orgd.ErrorCode(err) != orgd.CodeInvalidTarget {
						t.Errorf("a stranger asks %s (remove %t) for %s: %v, want %s", name, remove, target, err, orgd.CodeInvalidTarget)
					}
				}
				err := f.svc.ChangeRoleAssignments(f.ctx, reader, dev.User.ID, ra, remove, false)
				if orgd.ErrorCode(err) != orgd.CodeRolesForbidden {
					t.Errorf("a reader asks %s (remove %t): %v, want %s", name, remove, err, orgd.CodeRolesForbidden)
				}
			}
		}
		// An owner may ask for nothing: nothing changes.
		if err := f.svc.ChangeRoleAssignments(f.ctx, f.owner, dev.User.ID, orgd.RoleAssignments{}, false, false); err != nil {
			t.Errorf("an owner asks nothing: %v", err)
		}
	})
}

// TestLargeBatchWritesEverything: a request of more addresses than one
// statement of the store carries (it writes in pieces) creates and refreshes
// every invitation, with an email job, an audit event and a webhook delivery
// for each, and reports a bad address at its own position.
func TestLargeBatchWritesEverything(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url, func(l *orgd.Limits) { l.MaxEmailsPerRequest, l.DefaultMaxMembers, l.InvitesPerHour = 2000, 0, 0 })
		if _, err := outbox.New(f.store, outbox.Options{Queues: []outbox.Queue{webhook.OutboxQueue(1)}, Log: slog.New(slog.DiscardHandler)}); err != nil {
			t.Fatal(err)
		}
		must(f.svc.CreateWebhookEndpoint(f.ctx, f.owner, f.org.ID, orgd.WebhookEndpointRequest{URL: "https://hooks.example.com/orgd"}))
		first := must(f.invite(f.owner, "a0@x.test"))
		f.clock.Advance(time.Hour)
		emails := make([]string, 1201)
		for i := range emails {
			emails[i] = fmt.Sprintf("a%d@x.test", i)
		}
		// One member among them refuses the whole batch, named by position.
		f.member("a1100@x.test", orgd.RoleReader)
		_, err := f.invite(f.owner, emails...)
		e := wantCode(t, err, orgd.CodeAlreadyMember)
		if e.Field != "emails[1100]" || e.Value != "a1100@x.test" {
			t.Errorf("refusal names %s %q, want emails[1100]", e.Field, e.Value)
		}
		emails = slices.Delete(emails, 1100, 1101)
		_, out, err := f.svc.CreateInvitations(f.ctx, f.owner, f.org.ID, orgd.InviteRequest{Emails: emails, RefreshExisting: true, SendEmail: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != len(emails) || out[0].ID != first[0].ID || !out[0].Refreshed || out[1].Refreshed {
			t.Fatalf("got %d invitations (first refreshed %v, second %v), want %d with the first refreshed", len(out), out[0].Refreshed, out[1].Refreshed, len(emails))
		}
		pending := must(f.list(nil))
		if len(pending) != len(emails) {
			t.Errorf("%d invitations pending, want %d", len(pending), len(emails))
		}
		events := map[string]int{}
		for before := ""; ; {
			page := must(f.svc.ListAuditEvents(f.ctx, f.owner, f.org.ID, orgd.AuditQuery{Before: before, Limit: 500}))
			if len(page) == 0 {
				break
			}
			for _, ev := range page {
				events[ev.Action]++
			}
			before = page[len(page)-1].ID
		}
		if events[orgd.AuditInvitationCreated] != len(emails) || events[orgd.AuditInvitationRefreshed] != 1 {
			t.Errorf("audit: %d created, %d refreshed; want %d and 1", events[orgd.AuditInvitationCreated], events[orgd.AuditInvitationRefreshed], len(emails))
		}
		// Every invitation has its email job, with the token it has now,
		// and its webhook deliveries (created and refreshed for the first).
		args := "args::text"
		if f.store.Engine() == store.SQLite {
			args = "json(args)" // River keeps JSONB there
		}
		_, rows := testdb.Rows(t, f.store.DB(), "SELECT kind, "+args+" FROM river_job")
		jobs := map[string]int{}
		for _, row := range rows {
			var args struct {
				InvitationID string `json:"invitation_id"`
				TokenHash    string `json:"token_hash"`
				Payload      string `json:"payload"`
			}
			if err := json.Unmarshal([]byte(row[1]), &args); err != nil {
				t.Fatal(err)
			}
			switch row[0] {
			case orgd.InvitationEmailJob{}.Kind():
				jobs[args.InvitationID+" "+args.TokenHash]++
			case orgd.WebhookJob{}.Kind():
				var ev orgd.WebhookEvent
				if err := json.Unmarshal([]byte(args.Payload), &ev); err != nil {
					t.Fatal(err)
				}
				if ev.Data.Invitation != nil {
					jobs[ev.Type+" "+ev.Data.Invitation.ID]++
				}
			}
		}
		for _, inv := range out {
			for _, key := range []string{inv.ID + " " + inv.TokenHash, orgd.AuditInvitationCreated + " " + inv.ID} {
				if jobs[key] != 1 {
					t.Fatalf("%d jobs %s, want 1", jobs[key], key)
				}
			}
		}
		if n := jobs[orgd.AuditInvitationRefreshed+" "+first[0].ID]; n != 1 {
			t.Errorf("%d refresh deliveries, want 1", n)
		}
		if len(jobs) != 2*len(emails)+1 {
			t.Errorf("%d distinct jobs, want %d", len(jobs), 2*len(emails)+1)
		}
	})
}

// Text PostgreSQL cannot hold that reaches the store (the HTTP surfaces
// refuse it before) is invalid input, not an internal error; SQLite looks
// it up like any other text.
func TestUnstorableTextIsInvalidInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		want := orgd.KindNotFound
		if f.store.Engine() == store.Postgres {
			want = orgd.KindInvalid
		}
		for _, ref := range []string{"a\x00b", "a\xffb"} {
			_, err := f.svc.GetOrganization(f.ctx, f.owner, ref)
			if got := orgd.ErrorKind(err); got != want {
				t.Errorf("organization %q: %v (kind %v), want kind %v", ref, err, got, want)
			}
		}
		// A write: the store names the refusal whatever the statement.
		err := f.store.WriteTx(f.ctx, func(tx orgd.Tx) error {
			return tx.InsertUser(f.ctx, &orgd.User{ID: "u\x00", Email: "nul@x.test", EmailNorm: "nul@x.test", CreatedAt: f.clock.Now()})
		})
		if f.store.Engine() == store.Postgres && !errors.Is(err, orgd.ErrUnstorableText) {
			t.Errorf("a NUL in an id: %v, want ErrUnstorableText", err)
		}
	})
}
