package orgd_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/store"
)

// ownerRaceRounds is how many times each race of
// TestConcurrentChangesKeepAnOwner runs on PostgreSQL; SQLite has one
// writer, so its transactions never interleave and a few rounds check the
// answers.
const ownerRaceRounds, ownerRaceRoundsSQLite = 100, 10

// ownerRace is one round's organization: owners a and b, contributor c.
type ownerRace struct {
	org     *orgd.Organization
	a, b, c *orgd.Principal
}

func (r *ownerRace) setRole(p, target *orgd.Principal, role orgd.Role) func(context.Context, *orgd.Service) error {
	return func(ctx context.Context, svc *orgd.Service) error {
		_, err := svc.SetMemberRole(ctx, p, r.org.Slug, target.User.ID, role)
		return err
	}
}

func (r *ownerRace) remove(p *orgd.Principal, targets ...*orgd.Principal) func(context.Context, *orgd.Service) error {
	return func(ctx context.Context, svc *orgd.Service) error {
		var ids []string
		for _, t := range targets {
			ids = append(ids, t.User.ID)
		}
		_, err := svc.RemoveMembers(ctx, p, r.org.ID, ids, false)
		return err
	}
}

// assign adds (or with remove takes away) an Elastic role assignment.
func (r *ownerRace) assign(p, target *orgd.Principal, role orgd.Role, remove bool) func(context.Context, *orgd.Service) error {
	return func(ctx context.Context, svc *orgd.Service) error {
		ra := orgd.RoleAssignments{Organization: []orgd.OrgRoleAssignment{{RoleID: string(role), OrganizationID: r.org.ID}}}
		return svc.ChangeRoleAssignments(ctx, p, target.User.ID, ra, remove, false)
	}
}

// TestConcurrentChangesKeepAnOwner races two changes of members, at least
// one of which can take away an owner, on a fresh organization every
// round. The organization must keep an owner, each change must answer as
// it would have in one of the two orders, and neither may undo the other.
// On PostgreSQL the rules read roles before locking the organization: a
// promotion racing the removal of everyone emptied most organizations, and
// a caller demoted or removed a moment before still acted with its role.
func TestConcurrentChangesKeepAnOwner(t *testing.T) {
	const (
		ok        = ""
		lastOwner = orgd.CodeLastOwner
		notFound  = orgd.CodeOrgNotFound
		forbidden = orgd.CodeRolesForbidden
		noAccess  = orgd.CodeOrgInvalidAccess
	)
	races := []struct {
		name string
		ops  func(r *ownerRace) [2]func(context.Context, *orgd.Service) error
		// want lists, for each op, the answers it has in one order or the other.
		want [2][]string
		// roles, when set, are the roles a, b and c end with, in either order.
		roles func(r *ownerRace) [3]orgd.Role
	}{
		{
			name: "owners demote each other",
			ops: func(r *ownerRace) [2]func(context.Context, *orgd.Service) error {
				return [2]func(context.Context, *orgd.Service) error{r.setRole(r.a, r.b, orgd.RoleOrgAdmin), r.setRole(r.b, r.a, orgd.RoleOrgAdmin)}
			},
			want: [2][]string{{ok, forbidden}, {ok, forbidden}},
		},
		{
			name: "owners remove each other",
			ops: func(r *ownerRace) [2]func(context.Context, *orgd.Service) error {
				return [2]func(context.Context, *orgd.Service) error{r.remove(r.a, r.b), r.remove(r.b, r.a)}
			},
			want: [2][]string{{ok, notFound}, {ok, notFound}},
		},
		{
			name: "demote races remove",
			ops: func(r *ownerRace) [2]func(context.Context, *orgd.Service) error {
				return [2]func(context.Context, *orgd.Service) error{r.setRole(r.a, r.b, orgd.RoleOrgAdmin), r.remove(r.b, r.a)}
			},
			want: [2][]string{{ok, notFound}, {ok, forbidden}},
		},
		{
			name: "owners leave",
			ops: func(r *ownerRace) [2]func(context.Context, *orgd.Service) error {
				return [2]func(context.Context, *orgd.Service) error{r.remove(r.a, r.a), r.remove(r.b, r.b)}
			},
			want: [2][]string{{ok, lastOwner}, {ok, lastOwner}},
		},
		{
			name: "leave races demoting the other owner",
			ops: func(r *ownerRace) [2]func(context.Context, *orgd.Service) error {
				return [2]func(context.Context, *orgd.Service) error{r.remove(r.a, r.a), r.setRole(r.a, r.b, orgd.RoleReader)}
			},
			want: [2][]string{{ok, lastOwner}, {ok, notFound}},
		},
		{
			name: "role assignment removed races slug role change",
			ops: func(r *ownerRace) [2]func(context.Context, *orgd.Service) error {
				return [2]func(context.Context, *orgd.Service) error{r.assign(r.a, r.b, orgd.RoleOwner, true), r.setRole(r.b, r.a, orgd.RoleOrgAdmin)}
			},
			want: [2][]string{{ok, forbidden}, {ok, noAccess}},
		},
		{
			name: "owners remove each other's role assignment",
			ops: func(r *ownerRace) [2]func(context.Context, *orgd.Service) error {
				return [2]func(context.Context, *orgd.Service) error{r.assign(r.a, r.b, orgd.RoleOwner, true), r.assign(r.b, r.a, orgd.RoleOwner, true)}
			},
			want: [2][]string{{ok, forbidden}, {ok, forbidden}},
		},
		{
			// In either order removing everyone removes every owner.
			name: "promotion races removing everyone",
			ops: func(r *ownerRace) [2]func(context.Context, *orgd.Service) error {
				return [2]func(context.Context, *orgd.Service) error{r.setRole(r.a, r.c, orgd.RoleOwner), r.remove(r.a, r.a, r.b, r.c)}
			},
			want: [2][]string{{ok}, {lastOwner}},
		},
		{
			name: "role assignment added races removing everyone",
			ops: func(r *ownerRace) [2]func(context.Context, *orgd.Service) error {
				return [2]func(context.Context, *orgd.Service) error{r.assign(r.a, r.c, orgd.RoleOwner, false), r.remove(r.a, r.a, r.b, r.c)}
			},
			want: [2][]string{{ok}, {lastOwner}},
		},
		{
			// Both changes are kept: neither writes roles it read before the other's commit.
			name: "promotion races role assignment",
			ops: func(r *ownerRace) [2]func(context.Context, *orgd.Service) error {
				return [2]func(context.Context, *orgd.Service) error{r.setRole(r.a, r.c, orgd.RoleOwner), r.assign(r.b, r.c, orgd.RoleBillingAdmin, false)}
			},
			want:  [2][]string{{ok}, {ok}},
			roles: func(r *ownerRace) [3]orgd.Role { return [3]orgd.Role{orgd.RoleOwner, orgd.RoleOwner, orgd.RoleOwner} },
		},
	}
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		a, b, c := f.user("a@race.test"), f.user("b@race.test"), f.user("c@race.test")
		rounds := ownerRaceRounds
		if f.store.Engine() == store.SQLite {
			rounds = ownerRaceRoundsSQLite
		}
		for i, race := range races {
			t.Run(race.name, func(t *testing.T) {
				ownerless, answers := 0, map[string]int{}
				for n := range rounds {
					r := &ownerRace{a: a, b: b, c: c}
					err := f.store.Atomic(f.ctx, func(ctx context.Context, _ orgd.Tx) error {
						var err error
						slug := fmt.Sprintf("race-%d-%d", i, n)
						if r.org, err = f.svc.CreateOrganization(ctx, orgd.SystemPrincipal, slug, slug); err != nil {
							return err
						}
						for _, m := range []struct {
							p    *orgd.Principal
							role orgd.Role
						}{{a, orgd.RoleOwner}, {b, orgd.RoleOwner}, {c, orgd.RoleContributor}} {
							if _, err := f.svc.AddMember(ctx, orgd.SystemPrincipal, r.org.ID, m.p.User.ID, m.role); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					ops := race.ops(r)
					var errs [2]error
					start := make(chan struct{})
					var wg sync.WaitGroup
					for j, op := range ops {
						wg.Add(1)
						go func() {
							defer wg.Done()
							<-start
							errs[j] = op(f.ctx, f.svc)
						}()
					}
					close(start)
					wg.Wait()
					for j, err := range errs {
						code := ok
						if err != nil {
							if code = orgd.ErrorCode(err); code == orgd.CodeInternal {
								t.Fatalf("round %d, op %d: %v", n, j, err)
							}
						}
						answers[fmt.Sprintf("op %d: %q", j, code)]++
						if !slices.Contains(race.want[j], code) {
							t.Errorf("round %d: op %d answered %q (%v), want one of %q", n, j, code, err, race.want[j])
						}
					}
					members := must(f.svc.ListMembers(f.ctx, orgd.SystemPrincipal, r.org.ID))
					if !slices.ContainsFunc(members, func(m *orgd.Membership) bool { return m.Role == orgd.RoleOwner }) {
						ownerless++
					}
					if race.roles != nil {
						var got [3]orgd.Role
						for k, p := range []*orgd.Principal{a, b, c} {
							for _, m := range members {
								if m.UserID == p.User.ID {
									got[k] = m.Role
								}
							}
						}
						if want := race.roles(r); got != want {
							t.Errorf("round %d: a, b and c have roles %q, want %q", n, got, want)
						}
					}
				}
				t.Logf("%d rounds: %d ownerless; answers %v", rounds, ownerless, answers)
				if ownerless > 0 {
					t.Errorf("%d of %d rounds left the organization without an owner", ownerless, rounds)
				}
			})
		}
	})
}
