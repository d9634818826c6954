package store_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
)

// TestCloseInvitationKeepsTheRevokeReason: the reason a revoke gives is
// stored and read with the invitation, by id, by token and in lists; other
// closes store none, and a close that finds the invitation closed changes
// nothing.
func TestCloseInvitationKeepsTheRevokeReason(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		st := testdb.OpenURL(t, url)
		write(t, st, func(ctx context.Context, tx orgd.Tx) error {
			if err := insertOrg("acme")(tx); err != nil {
				return err
			}
			return tx.InsertInvitations(ctx, invitation("member", "id-acme", "m@x.test", orgd.InvitationOpen, t0),
				invitation("by-hand", "id-acme", "h@x.test", orgd.InvitationOpen, t0),
				invitation("declined", "id-acme", "d@x.test", orgd.InvitationOpen, t0),
				invitation("open", "id-acme", "o@x.test", orgd.InvitationOpen, t0))
		})
		closes := []struct {
			id     string
			status orgd.InvitationStatus
			reason orgd.RevokeReason
			won    bool
		}{
			{"member", orgd.InvitationRevoked, orgd.RevokedToMember, true},
			{"by-hand", orgd.InvitationRevoked, "", true},
			{"declined", orgd.InvitationDeclined, "", true},
			{"by-hand", orgd.InvitationRevoked, orgd.RevokedToMember, false}, // closed already: stays as it was
		}
		for _, c := range closes {
			write(t, st, func(ctx context.Context, tx orgd.Tx) error {
				won, err := tx.CloseInvitation(ctx, c.id, c.status, t0, "", c.reason)
				if won != c.won {
					t.Errorf("closing %s with %q: won %v, want %v", c.id, c.reason, won, c.won)
				}
				return err
			})
		}

		want := map[string]orgd.RevokeReason{"member": orgd.RevokedToMember, "by-hand": "", "declined": "", "open": ""}
		byID, byToken, listed := map[string]orgd.RevokeReason{}, map[string]orgd.RevokeReason{}, map[string]orgd.RevokeReason{}
		write(t, st, func(ctx context.Context, tx orgd.Tx) error {
			for id := range want {
				inv, err := tx.InvitationByID(ctx, id)
				if err != nil {
					return err
				}
				byID[id] = inv.RevokeReason
				if inv, err = tx.InvitationByTokenHash(ctx, "hash-"+id); err != nil {
					return err
				}
				byToken[id] = inv.RevokeReason
			}
			invs, err := tx.ListInvitations(ctx, "id-acme", orgd.InvitationFilter{})
			for _, inv := range invs {
				listed[inv.ID] = inv.RevokeReason
			}
			return err
		})
		for name, got := range map[string]map[string]orgd.RevokeReason{"by id": byID, "by token": byToken, "listed": listed} {
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("revoke reasons read %s (-want +got):\n%s", name, diff)
			}
		}
	})
}
