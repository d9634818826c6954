package orgd_test

import (
	"context"
	"testing"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
)

// secondInstance is another orgd on the fixture's database, with its own
// key cache.
func (f *fixture) secondInstance(ttl time.Duration) *orgd.Service {
	box, err := orgd.NewBox(make([]byte, orgd.KeySize))
	if err != nil {
		f.t.Fatal(err)
	}
	l := orgd.DefaultLimits()
	l.KeyCacheTTL = ttl
	return orgd.NewService(f.store, box, orgd.Options{Limits: l, Now: f.clock.Now})
}

func authenticates(t *testing.T, svc *orgd.Service, secret string) *orgd.Principal {
	t.Helper()
	p, err := svc.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatalf("the key was refused: %v", err)
	}
	return p
}

func refused(t *testing.T, svc *orgd.Service, secret, why string) {
	t.Helper()
	_, err := svc.Authenticate(context.Background(), secret)
	if err == nil {
		t.Fatalf("%s: the key still works", why)
	}
	wantCode(t, err, orgd.CodeUnauthorized)
}

// TestKeyCache: an instance trusts a key it has looked up for the TTL; a
// change made through it (revoking the key, a platform role) counts at
// once there, and on other instances once the TTL has passed, or at once
// with a TTL of 0.
func TestKeyCache(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		here := f.secondInstance(time.Minute)
		there := f.secondInstance(time.Minute)
		uncached := f.secondInstance(0)

		key := must(f.svc.CreateAPIKey(f.ctx, orgd.SystemPrincipal, f.owner.User.ID, "ci", ""))
		for _, svc := range []*orgd.Service{here, there, uncached} {
			if p := authenticates(t, svc, key.Secret); p.User.ID != f.owner.User.ID || p.PlatformAdmin() {
				t.Fatalf("the key is user %s (platform admin %v), want %s", p.User.ID, p.PlatformAdmin(), f.owner.User.ID)
			}
		}

		admin := &orgd.Principal{User: must(f.svc.CreateUser(f.ctx, orgd.SystemPrincipal, "root@orgd.test", "", true))}
		if _, err := here.SetPlatformAdmin(f.ctx, admin, f.owner.User.ID, true); err != nil {
			t.Fatal(err)
		}
		if !authenticates(t, here, key.Secret).PlatformAdmin() {
			t.Error("the instance that made the user a platform administrator still has the old user")
		}
		if authenticates(t, there, key.Secret).PlatformAdmin() {
			t.Error("another instance looked the key up again within the TTL")
		}
		if !authenticates(t, uncached, key.Secret).PlatformAdmin() {
			t.Error("with a TTL of 0, the instance has the old user")
		}

		if err := here.RevokeAPIKeys(f.ctx, f.owner, []string{key.ID}); err != nil {
			t.Fatal(err)
		}
		refused(t, here, key.Secret, "revoked through this instance")
		refused(t, uncached, key.Secret, "revoked, with a TTL of 0")
		authenticates(t, there, key.Secret) // the documented window
		f.clock.Advance(time.Minute)
		refused(t, there, key.Secret, "revoked through another instance, after the TTL")
	})
}

// TestKeyCacheAfterIdempotentRevoke: a revocation within an idempotent
// request is committed after RevokeAPIKeys returns; a look-up made in
// between must not keep the key alive once the request is done.
func TestKeyCacheAfterIdempotentRevoke(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url, func(l *orgd.Limits) { l.KeyCacheTTL = time.Hour })
		key := must(f.svc.CreateAPIKey(f.ctx, orgd.SystemPrincipal, f.owner.User.ID, "ci", ""))
		// Its first use is recorded now, so that the look-up within the
		// request below writes nothing (it would wait for the request).
		authenticates(t, f.svc, key.Secret)
		_, _, err := f.svc.Idempotent(f.ctx, f.owner, "k1", "fp", func(ctx context.Context) ([]byte, bool) {
			if err := f.svc.RevokeAPIKeys(ctx, f.owner, []string{key.ID}); err != nil {
				t.Errorf("revoke: %v", err)
				return nil, false
			}
			// Another request, outside the transaction, sees the key as
			// it was committed: still valid.
			authenticates(t, f.svc, key.Secret)
			return []byte("{}"), true
		})
		if err != nil {
			t.Fatal(err)
		}
		refused(t, f.svc, key.Secret, "revoked in an idempotent request")
	})
}
