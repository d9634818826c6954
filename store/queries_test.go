package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/store"
)

// The queries below answer in one round trip what the rules once asked in
// several; these tests pin down what each answer holds, across the chunks
// of many addresses or events.

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func write(t *testing.T, st *store.Store, fn func(ctx context.Context, tx orgd.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := st.WriteTx(ctx, func(tx orgd.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func invitation(id, orgID, email string, status orgd.InvitationStatus, issued time.Time) *orgd.Invitation {
	return &orgd.Invitation{ID: id, OrgID: orgID, Email: email, EmailNorm: email, Status: status, TokenHash: "hash-" + id,
		CreatedAt: issued, IssuedAt: issued, ExpiresAt: issued.Add(72 * time.Hour), EmailStatus: orgd.EmailNotRequested}
}

// TestInviteesFindsMembersAndOpenInvitations: of 1,200 addresses (three
// chunks), exactly the verified members of the organization and its open
// invitations are found; unverified users, members and invitations of
// another organization, and closed invitations are not.
func TestInviteesFindsMembersAndOpenInvitations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		st := testdb.OpenURL(t, url)
		var norms []string
		wantMembers, wantOpen := map[string]bool{}, map[string]string{}
		write(t, st, func(ctx context.Context, tx orgd.Tx) error {
			for _, slug := range []string{"acme", "other"} {
				if err := insertOrg(slug)(tx); err != nil {
					return err
				}
			}
			var invs []*orgd.Invitation
			for i := range 1200 {
				email := fmt.Sprintf("u%04d@x.test", i)
				norms = append(norms, email)
				user := &orgd.User{ID: fmt.Sprintf("user-%d", i), Email: email, EmailNorm: email, EmailVerified: i%7 != 3, CreatedAt: t0}
				member := func(org string) error {
					return tx.InsertMembership(ctx, &orgd.Membership{OrgID: org, UserID: user.ID, Role: orgd.RoleReader, MemberSince: t0})
				}
				switch i % 7 {
				case 0: // a verified member
					wantMembers[email] = true
					if err := tx.InsertUser(ctx, user); err != nil {
						return err
					}
					if err := member("id-acme"); err != nil {
						return err
					}
				case 1: // a member of the other organization only
					if err := tx.InsertUser(ctx, user); err != nil {
						return err
					}
					if err := member("id-other"); err != nil {
						return err
					}
				case 2: // an open invitation, and a closed one before it
					wantOpen[email] = fmt.Sprintf("open-%d", i)
					invs = append(invs, invitation(fmt.Sprintf("open-%d", i), "id-acme", email, orgd.InvitationOpen, t0),
						invitation(fmt.Sprintf("closed-%d", i), "id-acme", email, orgd.InvitationRevoked, t0))
				case 3: // a member whose address nobody vouched for
					if err := tx.InsertUser(ctx, user); err != nil {
						return err
					}
					if err := member("id-acme"); err != nil {
						return err
					}
				case 4: // invited by the other organization only
					invs = append(invs, invitation(fmt.Sprintf("other-%d", i), "id-other", email, orgd.InvitationOpen, t0))
				case 5: // a member with an open invitation too
					wantMembers[email] = true
					wantOpen[email] = fmt.Sprintf("open-%d", i)
					if err := tx.InsertUser(ctx, user); err != nil {
						return err
					}
					if err := member("id-acme"); err != nil {
						return err
					}
					invs = append(invs, invitation(fmt.Sprintf("open-%d", i), "id-acme", email, orgd.InvitationOpen, t0))
				}
			}
			return tx.InsertInvitations(ctx, invs...)
		})
		var got orgd.Invitees
		write(t, st, func(ctx context.Context, tx orgd.Tx) (err error) {
			got, err = tx.Invitees(ctx, "id-acme", norms)
			return err
		})
		if !maps.Equal(got.Members, wantMembers) {
			t.Errorf("members: %d found, want %d; e.g. found %v", len(got.Members), len(wantMembers), first(got.Members))
		}
		gotOpen := map[string]string{}
		for email, inv := range got.Open {
			gotOpen[email] = inv.ID
			if inv.OrgSlug != "acme" || inv.TokenHash != "hash-"+inv.ID || inv.ExpiresAt != t0.Add(72*time.Hour) {
				t.Errorf("open invitation read wrong: %+v", inv)
			}
		}
		if !maps.Equal(gotOpen, wantOpen) {
			t.Errorf("open invitations: %d found, want %d; e.g. found %v", len(gotOpen), len(wantOpen), first(got.Open))
		}
	})
}

func first[V any](m map[string]V) string {
	keys := slices.Sorted(maps.Keys(m))
	return strings.Join(keys[:min(3, len(keys))], ", ")
}

// TestCountForLimits counts what it is asked, and only that.
func TestCountForLimits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		st := testdb.OpenURL(t, url)
		hour := time.Hour
		write(t, st, func(ctx context.Context, tx orgd.Tx) error {
			for _, slug := range []string{"acme", "other"} {
				if err := insertOrg(slug)(tx); err != nil {
					return err
				}
			}
			for i, org := range []string{"id-acme", "id-acme", "id-other"} {
				u := &orgd.User{ID: fmt.Sprint("user-", i), Email: fmt.Sprint(i, "@x.test"), EmailNorm: fmt.Sprint(i, "@x.test"), CreatedAt: t0}
				if err := tx.InsertUser(ctx, u); err != nil {
					return err
				}
				if err := tx.InsertMembership(ctx, &orgd.Membership{OrgID: org, UserID: u.ID, Role: orgd.RoleReader, MemberSince: t0}); err != nil {
					return err
				}
			}
			return tx.InsertInvitations(ctx,
				invitation("a", "id-acme", "a@x.test", orgd.InvitationOpen, t0.Add(-10*time.Minute)),         // pending, issued in the hour
				invitation("b", "id-acme", "b@x.test", orgd.InvitationOpen, t0.Add(-2*hour)),                 // pending, issued before
				invitation("c", "id-acme", "c@x.test", orgd.InvitationOpen, t0.Add(-100*hour)),               // expired
				invitation("d", "id-acme", "d@x.test", orgd.InvitationAccepted, t0.Add(-5*time.Minute)),      // closed, issued in the hour
				invitation("e", "id-other", "e@x.test", orgd.InvitationOpen, t0.Add(-time.Minute)),           // another organization's
				invitation("f", "id-acme", "f@x.test", orgd.InvitationOpen, t0.Add(-hour).Add(-time.Second))) // pending, just before the hour
		})
		for _, c := range []struct {
			q    orgd.LimitQuery
			want orgd.LimitCounts
		}{
			{orgd.LimitQuery{Seats: true, Now: t0}, orgd.LimitCounts{Members: 2, Pending: 3}},
			{orgd.LimitQuery{Now: t0, IssuedAfter: t0.Add(-hour)}, orgd.LimitCounts{Issued: 2}},
			{orgd.LimitQuery{Seats: true, Now: t0, IssuedAfter: t0.Add(-hour)}, orgd.LimitCounts{Members: 2, Pending: 3, Issued: 2}},
			{orgd.LimitQuery{Now: t0}, orgd.LimitCounts{}},
		} {
			var got orgd.LimitCounts
			write(t, st, func(ctx context.Context, tx orgd.Tx) (err error) {
				got, err = tx.CountForLimits(ctx, "id-acme", c.q)
				return err
			})
			if got != c.want {
				t.Errorf("CountForLimits(%+v) = %+v, want %+v", c.q, got, c.want)
			}
		}
	})
}

// TestInsertAuditEventsReadsEndpoints: the events are written and the
// endpoints that receive the organization's events come back with them
// (its own and the server-wide ones, oldest first), for one event and for
// more than one statement holds; without endpoints none are read.
func TestInsertAuditEventsReadsEndpoints(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		st := testdb.OpenURL(t, url)
		write(t, st, func(ctx context.Context, tx orgd.Tx) error {
			for _, slug := range []string{"acme", "other"} {
				if err := insertOrg(slug)(tx); err != nil {
					return err
				}
			}
			for i, org := range []string{"id-acme", "", "id-other", "id-acme"} {
				e := &orgd.WebhookEndpoint{ID: fmt.Sprint("hook-", i), OrgID: org, URL: "https://hooks.test/", CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
				if err := tx.InsertWebhookEndpoint(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		events := func(prefix string, n int) []*orgd.AuditEvent {
			evs := make([]*orgd.AuditEvent, n)
			for i := range evs {
				evs[i] = &orgd.AuditEvent{ID: fmt.Sprintf("%s-%04d", prefix, i), At: t0, OrgID: "id-acme", Action: orgd.AuditInvitationCreated,
					TargetType: "invitation", TargetID: fmt.Sprint(i), Details: map[string]any{"n": i}}
			}
			return evs
		}
		for _, c := range []struct {
			prefix    string
			n         int
			endpoints bool
			want      []string
		}{
			// Ids rise from case to case: each case's events are the newest.
			{"1one", 1, true, []string{"hook-0", "hook-1", "hook-3"}},
			{"2many", 1200, true, []string{"hook-0", "hook-1", "hook-3"}},
			{"3none", 2, false, nil},
		} {
			var got []*orgd.WebhookEndpoint
			write(t, st, func(ctx context.Context, tx orgd.Tx) (err error) {
				got, err = tx.InsertAuditEvents(ctx, events(c.prefix, c.n), c.endpoints)
				return err
			})
			var ids []string
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			if !slices.Equal(ids, c.want) {
				t.Errorf("%s: endpoints %v, want %v", c.prefix, ids, c.want)
			}
			var stored []*orgd.AuditEvent
			err := st.ReadTx(context.Background(), func(tx orgd.Tx) (err error) {
				stored, err = tx.ListAuditEvents(context.Background(), orgd.AuditQuery{OrgID: "id-acme", Limit: 500})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := countPrefix(stored, c.prefix); n != min(c.n, 500) {
				t.Errorf("%s: %d events stored among the newest 500, want %d", c.prefix, n, min(c.n, 500))
			}
		}
	})
}

func countPrefix(evs []*orgd.AuditEvent, prefix string) int {
	n := 0
	for _, ev := range evs {
		if strings.HasPrefix(ev.ID, prefix+"-") {
			n++
		}
	}
	return n
}

// TestOrganizationForUserLocks: on PostgreSQL, reading an organization with
// lock locks its row against the other lockers until the transaction ends,
// as LockOrganization does, and never against the key-share lock of an
// insert that references it; without lock it does not lock.
func TestOrganizationForUserLocks(t *testing.T) {
	url := testdb.URL(t, store.Postgres)
	st := testdb.OpenURL(t, url)
	write(t, st, func(ctx context.Context, tx orgd.Tx) error { return insertOrg("acme")(tx) })
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// lockedFor reports whether another session finds the row locked
	// against mode.
	lockedFor := func(mode string) bool {
		t.Helper()
		var id string
		err := db.QueryRow(`SELECT id FROM organizations WHERE id = 'id-acme' FOR ` + mode + ` NOWAIT`).Scan(&id)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "55P03" {
			return true
		}
		if err != nil {
			t.Fatal(err)
		}
		return false
	}
	locked := func() bool { return lockedFor("NO KEY UPDATE") }
	for _, lock := range []bool{false, true} {
		var during bool
		write(t, st, func(ctx context.Context, tx orgd.Tx) error {
			if _, _, err := tx.OrganizationForUser(ctx, true, "acme", "nobody", lock); err != nil {
				return err
			}
			during = locked()
			// Inserting a membership or an invitation takes a key-share
			// lock on its organization: it must not wait for the lock.
			if lockedFor("KEY SHARE") {
				t.Errorf("with lock %v, a key-share lock (an insert's foreign-key check) had to wait", lock)
			}
			return nil
		})
		if during != lock {
			t.Errorf("with lock %v, the row was locked during the transaction: %v", lock, during)
		}
		if locked() {
			t.Errorf("with lock %v, the row stayed locked after the transaction", lock)
		}
	}
}

// TestWriteOne: the one statement commits on its own; a second statement
// and any read fail; within Atomic, WriteOne joins the transaction and is
// rolled back with it.
func TestWriteOne(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		st := testdb.OpenURL(t, url)
		ctx := context.Background()
		if err := st.WriteOne(ctx, insertOrg("one")); err != nil {
			t.Fatal(err)
		}
		err := st.WriteOne(ctx, func(tx orgd.Tx) error {
			if err := insertOrg("first")(tx); err != nil {
				return err
			}
			return insertOrg("second")(tx)
		})
		if err == nil || !strings.Contains(err.Error(), "second statement") {
			t.Errorf("a second statement: %v", err)
		}
		err = st.WriteOne(ctx, func(tx orgd.Tx) error {
			_, err := tx.OrganizationBySlug(ctx, "one")
			return err
		})
		if err == nil {
			t.Error("a read in WriteOne succeeded")
		}
		refused := errors.New("refused")
		err = st.Atomic(ctx, func(ctx context.Context, _ orgd.Tx) error {
			if err := st.WriteOne(ctx, insertOrg("in-atomic")); err != nil {
				return err
			}
			return refused
		})
		if !errors.Is(err, refused) {
			t.Errorf("Atomic returned %v", err)
		}
		// No transaction held the first statement back: it stays.
		if got, want := slugs(t, st, ctx), []string{"first", "one"}; !slices.Equal(got, want) {
			t.Errorf("organizations %v, want %v", got, want)
		}
	})
}

// TestWriteSurvivesABrokenConnection: when PostgreSQL has closed the
// pooled connection a write transaction gets (a restart, an idle timeout),
// the transaction begins on another one.
func TestWriteSurvivesABrokenConnection(t *testing.T) {
	url := testdb.URL(t, store.Postgres)
	st := testdb.OpenURL(t, url)
	write(t, st, func(ctx context.Context, tx orgd.Tx) error { return insertOrg("before")(tx) })
	// Fill the pool with idle connections, all of which will be broken.
	// Taken twice: pgx checks a reused connection with a ping only if it
	// was idle for a second, so these will be handed out unchecked.
	var held []*sql.Conn
	for range 2 {
		held = held[:0]
		for range st.DB().Stats().MaxOpenConnections {
			c, err := st.DB().Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var killed int
	err = db.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&killed)
	if err != nil || killed < len(held) {
		t.Fatalf("terminated %d connections: %v", killed, err)
	}
	write(t, st, func(ctx context.Context, tx orgd.Tx) error { return insertOrg("after")(tx) })
}
