package metrics_test

import (
	"context"
	"testing"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/metrics"
)

// changes reads orgd_changes_total for an action.
func changes(t *testing.T, m *metrics.Metrics, action string) float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "orgd_changes_total" {
			continue
		}
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == "action" && l.GetValue() == action {
					return metric.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestChangesCountOnlyWhatCommits: the writes of an idempotent request
// count when its transaction commits, not when they return, and not at all
// when it rolls back.
func TestChangesCountOnlyWhatCommits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		m := metrics.New()
		box, err := orgd.NewBox(make([]byte, orgd.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		svc := orgd.NewService(m.Store(testdb.OpenURL(t, url)), box, orgd.Options{Limits: orgd.DefaultLimits()})
		org, err := svc.CreateOrganization(ctx, orgd.SystemPrincipal, "Acme", "acme")
		if err != nil {
			t.Fatal(err)
		}
		u, err := svc.CreateUser(ctx, orgd.SystemPrincipal, "owner@acme.test", "", false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddMember(ctx, orgd.SystemPrincipal, org.ID, u.ID, orgd.RoleOwner); err != nil {
			t.Fatal(err)
		}
		owner := &orgd.Principal{User: u}
		invite := func(keep bool, email string) orgd.Run {
			return func(ctx context.Context) ([]byte, bool) {
				if _, _, err := svc.CreateInvitations(ctx, owner, org.ID, orgd.InviteRequest{Emails: []string{email}}); err != nil {
					t.Fatal(err)
				}
				return []byte("{}"), keep
			}
		}
		if _, _, err := svc.Idempotent(ctx, owner, "undone", "fp", invite(false, "a@x.test")); err != nil {
			t.Fatal(err)
		}
		if got := changes(t, m, orgd.AuditInvitationCreated); got != 0 {
			t.Errorf("after a rolled-back request: %v invitations created, want 0", got)
		}
		if _, _, err := svc.Idempotent(ctx, owner, "kept", "fp", invite(true, "b@x.test")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.CreateInvitations(ctx, owner, org.ID, orgd.InviteRequest{Emails: []string{"c@x.test"}}); err != nil {
			t.Fatal(err)
		}
		if got := changes(t, m, orgd.AuditInvitationCreated); got != 2 {
			t.Errorf("after a committed request and a plain create: %v invitations created, want 2", got)
		}
		if got := changes(t, m, orgd.AuditMemberAdded); got != 1 {
			t.Errorf("%v members added, want 1", got)
		}
	})
}
