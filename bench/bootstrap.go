package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/store"
)

// The bootstrap writes the data the scenarios need straight into the
// database, before orgd serve starts, through orgd's own service and store
// packages: organizations, users and API keys one operation at a time, and
// the bulk (users and memberships by the thousand, invitations in requests
// of 1,000 addresses) in large transactions.

// account is a user and an API key of theirs.
type account struct {
	ID, Email, Key string
}

// benchOrg is an organization and its owner.
type benchOrg struct {
	ID, Slug string
	Owner    account
}

// pooled is an open invitation waiting to be accepted by its invitee.
type pooled struct {
	ID, Token, OrgID string
	Invitee          account
}

// pool hands out each invitation once, whatever the number of clients.
type pool struct {
	items []pooled
	next  atomic.Int64
}

func (p *pool) take() (pooled, bool) {
	i := p.next.Add(1) - 1
	if i >= int64(len(p.items)) {
		return pooled{}, false
	}
	return p.items[i], true
}

func (p *pool) left() int { return max(0, len(p.items)-int(p.next.Load())) }

// mixedOrg is an organization of the mixed workload with tokens of its
// invitations, for reads by token.
type mixedOrg struct {
	benchOrg
	tokens []string
}

// plan is what the bootstrap creates.
type plan struct {
	invitationSizes []int // organizations holding this many open invitations
	memberSizes     []int // organizations holding this many members
	createOrgs      int   // organizations the create scenarios spread over
	mixedOrgs       int
	acceptPool      int // invitations to accept, per surface
	surfaces        []string
}

// fixture is what the bootstrap created, for the scenarios.
type fixture struct {
	creators        []benchOrg
	invitationLists map[int]benchOrg
	memberLists     map[int]benchOrg
	tokens          []string // of open invitations, for reads by token
	accept          map[string]*pool
	mixed           []mixedOrg
	mixedAccept     map[string]*pool
}

type bootstrapper struct {
	svc     *orgd.Service
	st      *store.Store
	workers int // concurrent bootstrap operations
	rng     *rand.Rand
}

// readerRole is the role of every invitation the bootstrap makes.
var readerRole = orgd.RoleAssignments{Organization: []orgd.OrgRoleAssignment{{RoleID: string(orgd.RoleReader)}}}

// bootstrap creates p in the migrated database st, sealing tokens with key,
// under the limits orgd will run with.
func bootstrap(ctx context.Context, st *store.Store, key []byte, limits orgd.Limits, p plan, progress func(string)) (*fixture, error) {
	box, err := orgd.NewBox(key)
	if err != nil {
		return nil, err
	}
	b := &bootstrapper{
		svc:     orgd.NewService(st, box, orgd.Options{Limits: limits}),
		st:      st,
		workers: 8,
		rng:     rand.New(rand.NewPCG(1, 2)),
	}
	if st.Engine() == store.SQLite {
		b.workers = 1 // one writer: more only wait for the lock
	}
	f := &fixture{invitationLists: map[int]benchOrg{}, memberLists: map[int]benchOrg{}, accept: map[string]*pool{}, mixedAccept: map[string]*pool{}}
	step := func(what string, fn func() error) error {
		t0 := time.Now()
		if err := fn(); err != nil {
			return fmt.Errorf("bootstrap %s: %w", what, err)
		}
		progress(fmt.Sprintf("%s (%.1fs)", what, time.Since(t0).Seconds()))
		return nil
	}
	err = step(fmt.Sprintf("%d organizations for the create scenarios", p.createOrgs), func() error {
		f.creators, err = b.orgs(ctx, "create", p.createOrgs)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = sized(step, p.invitationSizes, "an organization with %d invitations", func(n int) error {
		orgs, err := b.orgs(ctx, fmt.Sprintf("inv%d", n), 1)
		if err != nil {
			return err
		}
		issued, err := b.invite(ctx, orgs[0], emails(fmt.Sprintf("inv%d", n), n))
		if err != nil {
			return err
		}
		f.invitationLists[n] = orgs[0]
		for _, inv := range issued[:min(len(issued), 10_000-len(f.tokens))] {
			f.tokens = append(f.tokens, inv.Token)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = sized(step, p.memberSizes, "an organization with %d members", func(n int) error {
		orgs, err := b.orgs(ctx, fmt.Sprintf("mem%d", n), 1)
		if err != nil {
			return err
		}
		// The owner is a member too.
		users, err := b.users(ctx, fmt.Sprintf("mem%d", n), n-1)
		if err != nil {
			return err
		}
		f.memberLists[n] = orgs[0]
		return b.memberships(ctx, orgs[0].ID, users, orgd.RoleReader)
	})
	if err != nil {
		return nil, err
	}
	if p.acceptPool > 0 {
		// Each of perUser invitees is invited to every one of the
		// organizations, so accepts spread over users and organizations.
		const perOrg = 100
		norgs := (p.acceptPool + perOrg - 1) / perOrg
		err := step(fmt.Sprintf("%d invitations to accept per surface, over %d organizations", norgs*perOrg, norgs), func() error {
			orgs, err := b.orgs(ctx, "accept", norgs)
			if err != nil {
				return err
			}
			for _, s := range p.surfaces {
				if f.accept[s], err = b.pool(ctx, "acc-"+s, orgs, perOrg); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if p.mixedOrgs > 0 {
		const perOrg = 10 // invitees per surface: each organization holds 20 open invitations
		err := step(fmt.Sprintf("%d organizations for the mixed workload", p.mixedOrgs), func() error {
			orgs, err := b.orgs(ctx, "mixed", p.mixedOrgs)
			if err != nil {
				return err
			}
			tokens := map[string][]string{}
			for _, s := range p.surfaces {
				pl, err := b.pool(ctx, "mix-"+s, orgs, perOrg)
				if err != nil {
					return err
				}
				f.mixedAccept[s] = pl
				for _, it := range pl.items {
					tokens[it.OrgID] = append(tokens[it.OrgID], it.Token)
				}
			}
			for _, o := range orgs {
				f.mixed = append(f.mixed, mixedOrg{benchOrg: o, tokens: tokens[o.ID]})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return f, nil
}

// sized runs a bootstrap step per size.
func sized(step func(string, func() error) error, sizes []int, what string, fill func(n int) error) error {
	for _, n := range sizes {
		if err := step(fmt.Sprintf(what, n), func() error { return fill(n) }); err != nil {
			return err
		}
	}
	return nil
}

// emails returns n distinct addresses.
func emails(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d@example.com", prefix, i)
	}
	return out
}

// orgs creates n organizations, each with an owner who has an API key.
func (b *bootstrapper) orgs(ctx context.Context, prefix string, n int) ([]benchOrg, error) {
	owners, err := b.accounts(ctx, prefix+"-owner", n)
	if err != nil {
		return nil, err
	}
	out := make([]benchOrg, n)
	err = b.parallel(ctx, n, func(i int) error {
		slug := fmt.Sprintf("%s-%d", prefix, i)
		org, err := b.svc.CreateOrganization(ctx, orgd.SystemPrincipal, "Bench "+slug, slug)
		if err != nil {
			return err
		}
		out[i] = benchOrg{ID: org.ID, Slug: org.Slug, Owner: owners[i]}
		_, err = b.svc.AddMember(ctx, orgd.SystemPrincipal, org.ID, owners[i].ID, orgd.RoleOwner)
		return err
	})
	return out, err
}

// accounts creates n users, each with an API key.
func (b *bootstrapper) accounts(ctx context.Context, prefix string, n int) ([]account, error) {
	users, err := b.users(ctx, prefix, n)
	if err != nil {
		return nil, err
	}
	out := make([]account, n)
	err = b.parallel(ctx, n, func(i int) error {
		k, err := b.svc.CreateAPIKey(ctx, orgd.SystemPrincipal, users[i].ID, "bench", "")
		if err != nil {
			return err
		}
		out[i] = account{ID: users[i].ID, Email: users[i].Email, Key: k.Secret}
		return nil
	})
	return out, err
}

// batch is how many rows the bulk writes put in one transaction.
const batch = 1000

// users inserts n users, a batch per transaction.
func (b *bootstrapper) users(ctx context.Context, prefix string, n int) ([]*orgd.User, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	out := make([]*orgd.User, n)
	for i, e := range emails(prefix, n) {
		// Verified, as an administrator creates them: accepting needs it.
		out[i] = &orgd.User{ID: uuid.Must(uuid.NewV7()).String(), Email: e, EmailNorm: orgd.NormalizeEmail(e), EmailVerified: true, CreatedAt: now}
	}
	return out, inBatches(out, func(part []*orgd.User) error {
		return b.st.WriteTx(ctx, func(tx orgd.Tx) error {
			for _, u := range part {
				if err := tx.InsertUser(ctx, u); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// memberships makes users members of an organization, a batch per transaction.
func (b *bootstrapper) memberships(ctx context.Context, orgID string, users []*orgd.User, role orgd.Role) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return inBatches(users, func(part []*orgd.User) error {
		return b.st.WriteTx(ctx, func(tx orgd.Tx) error {
			for _, u := range part {
				m := &orgd.Membership{OrgID: orgID, UserID: u.ID, Roles: orgd.RoleAssignments{}.WithOrgRole(orgID, role), Role: role, MemberSince: now}
				if err := tx.InsertMembership(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

func inBatches[T any](all []T, fn func([]T) error) error {
	for start := 0; start < len(all); start += batch {
		if err := fn(all[start:min(start+batch, len(all))]); err != nil {
			return err
		}
	}
	return nil
}

// invite invites addresses to an organization as its owner, up to 1,000
// addresses per request.
func (b *bootstrapper) invite(ctx context.Context, org benchOrg, addrs []string) ([]*orgd.IssuedInvitation, error) {
	owner, err := b.svc.Authenticate(ctx, org.Owner.Key)
	if err != nil {
		return nil, err
	}
	var out []*orgd.IssuedInvitation
	err = inBatches(addrs, func(part []string) error {
		// With their emails, as a service that has been sending them would
		// hold: the outbox's table then holds hundreds of thousands of jobs
		// when fill analyzes it. Bootstrapped without, that table was
		// analyzed empty, and on a host without autovacuum River's fetch of
		// available jobs kept that plan and took half a core once the batch
		// creates had written 300,000 jobs (docs/benchmarks.md, Open).
		_, issued, err := b.svc.CreateInvitations(ctx, owner, org.ID, orgd.InviteRequest{Emails: part, Roles: readerRole, SendEmail: true})
		out = append(out, issued...)
		return err
	})
	return out, err
}

// pool creates perOrg invitees and invites every one of them to each of
// orgs. The invitations come in a random order.
func (b *bootstrapper) pool(ctx context.Context, prefix string, orgs []benchOrg, perOrg int) (*pool, error) {
	invitees, err := b.accounts(ctx, prefix, perOrg)
	if err != nil {
		return nil, err
	}
	byEmail := map[string]account{}
	addrs := make([]string, len(invitees))
	for i, a := range invitees {
		byEmail[orgd.NormalizeEmail(a.Email)] = a
		addrs[i] = a.Email
	}
	var mu sync.Mutex
	var items []pooled
	err = b.parallel(ctx, len(orgs), func(i int) error {
		issued, err := b.invite(ctx, orgs[i], addrs)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, inv := range issued {
			items = append(items, pooled{ID: inv.ID, Token: inv.Token, OrgID: orgs[i].ID, Invitee: byEmail[inv.EmailNorm]})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	return &pool{items: items}, nil
}

// parallel runs fn(0) ... fn(n-1) on b.workers goroutines and returns the
// first error.
func (b *bootstrapper) parallel(ctx context.Context, n int, fn func(i int) error) error {
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range min(b.workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
