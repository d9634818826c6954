package orgd_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/store"
)

// TestConcurrentUpdatesKeepEachOthersChanges races two updates of different
// fields of one organization, on a fresh organization every round: both
// changes must stay. An update writes back every field of the row it read,
// so on PostgreSQL, before the row was locked, the second writer put back
// the field the first had changed in most rounds (and the audit log kept
// both changes, one of them undone).
func TestConcurrentUpdatesKeepEachOthersChanges(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		owner := f.user("owner@race.test")
		rounds := 60
		if f.store.Engine() == store.SQLite {
			rounds = 10 // one writer: transactions never interleave
		}
		lost := 0
		for n := range rounds {
			slug := fmt.Sprintf("upd-race-%d", n)
			org := must(f.svc.CreateOrganization(f.ctx, orgd.SystemPrincipal, slug, slug))
			must(f.svc.AddMember(f.ctx, orgd.SystemPrincipal, org.ID, owner.User.ID, orgd.RoleOwner))
			name, desc := fmt.Sprintf("Renamed %d", n), fmt.Sprintf("Described %d", n)
			updates := []orgd.OrganizationUpdate{{Name: &name}, {Description: &desc}}
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, len(updates))
			for i, u := range updates {
				wg.Go(func() {
					<-start
					_, errs[i] = f.svc.UpdateOrganization(context.WithoutCancel(f.ctx), owner, org.ID, u)
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d, update %d: %v", n, i, err)
				}
			}
			got := must(f.svc.GetOrganization(f.ctx, owner, org.ID))
			if got.Name != name || got.Description != desc {
				lost++
				t.Errorf("round %d: name %q, description %q; want %q and %q", n, got.Name, got.Description, name, desc)
			}
		}
		t.Logf("%d rounds, %d lost a change", rounds, lost)
	})
}

// TestUpdateRacingADemotion races an admin's update of the organization
// with an owner's demotion of that admin to reader. Of the two orders, the
// update either comes first (and is recorded before the demotion) or is
// refused. On PostgreSQL the update waited for the demotion's lock and then
// acted with the role read before it: 22 of 80 rounds applied an update
// recorded after the demotion. (Audit ids are UUIDv7, made in order within
// the process, so they order the two writes.)
func TestUpdateRacingADemotion(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		owner, admin := f.user("owner@demote.test"), f.user("admin@demote.test")
		rounds := 80
		if f.store.Engine() == store.SQLite {
			rounds = 10
		}
		answers := map[string]int{}
		for n := range rounds {
			slug := fmt.Sprintf("demote-race-%d", n)
			org := must(f.svc.CreateOrganization(f.ctx, orgd.SystemPrincipal, slug, slug))
			must(f.svc.AddMember(f.ctx, orgd.SystemPrincipal, org.ID, owner.User.ID, orgd.RoleOwner))
			must(f.svc.AddMember(f.ctx, orgd.SystemPrincipal, org.ID, admin.User.ID, orgd.RoleOrgAdmin))
			desc := fmt.Sprintf("Described %d", n)
			var updErr, demoteErr error
			var wg sync.WaitGroup
			start := make(chan struct{})
			wg.Go(func() {
				<-start
				_, updErr = f.svc.UpdateOrganization(f.ctx, admin, org.ID, orgd.OrganizationUpdate{Description: &desc})
			})
			wg.Go(func() {
				<-start
				_, demoteErr = f.svc.SetMemberRole(f.ctx, owner, org.ID, admin.User.ID, orgd.RoleReader)
			})
			close(start)
			wg.Wait()
			if demoteErr != nil {
				t.Fatalf("round %d: demotion: %v", n, demoteErr)
			}
			if updErr != nil {
				if code := orgd.ErrorCode(updErr); code != orgd.CodeOrgInvalidAccess {
					t.Fatalf("round %d: update: %v", n, updErr)
				}
				answers["refused"]++
				continue
			}
			answers["applied"]++
			events := must(f.svc.ListAuditEvents(f.ctx, orgd.SystemPrincipal, org.ID, orgd.AuditQuery{}))
			var updated, demoted string
			for _, e := range events {
				switch e.Action {
				case orgd.AuditOrgUpdated:
					updated = e.ID
				case orgd.AuditMemberRolesChanged:
					demoted = e.ID
				}
			}
			if updated == "" || demoted == "" || updated > demoted {
				t.Errorf("round %d: the update was applied and recorded after the demotion (update %q, demotion %q)", n, updated, demoted)
			}
		}
		t.Logf("%d rounds: %v", rounds, answers)
	})
}
