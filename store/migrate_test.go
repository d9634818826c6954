package store_test

import (
	"context"
	"net/url"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/outbox"
	"github.com/orgd/orgd/store"
)

// storeAt opens a new database of engine e with orgd's migrations applied
// up to version, for a test to fill before it applies the later ones.
func storeAt(t *testing.T, e store.Engine, version int64) *store.Store {
	t.Helper()
	return storeAtURL(t, testdb.URL(t, e), version)
}

// storeAtURL is storeAt on the database at databaseURL.
func storeAtURL(t *testing.T, databaseURL string, version int64) *store.Store {
	t.Helper()
	s := openURL(t, databaseURL)
	if err := s.MigrateTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return s
}

// openURL opens a store on databaseURL, closed when the test ends.
func openURL(t *testing.T, databaseURL string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), databaseURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestIdentitiesMigrationKeepsData migrates a database with data from
// version 1 to the latest: migration 00002 rebuilds the users table on
// SQLite, which must lose no user, key, membership or inviter, and leave
// foreign keys enforced.
func TestIdentitiesMigrationKeepsData(t *testing.T) {
	for _, e := range testdb.Engines {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			s := storeAt(t, e, 1)
			db := s.DB()
			for _, q := range []string{
				`INSERT INTO organizations (id, slug, name, created_at, updated_at) VALUES ('o1', 'acme', 'Acme', 1, 1)`,
				`INSERT INTO users (id, email, email_norm, name, platform_admin, created_at) VALUES ('u1', 'Ann@Example.com', 'ann@example.com', 'Ann', TRUE, 1)`,
				`INSERT INTO users (id, email, email_norm, created_at) VALUES ('u2', 'bob@example.com', 'bob@example.com', 2)`,
				`INSERT INTO api_keys (id, user_id, prefix, hash, created_at) VALUES ('k1', 'u1', 'orgd_abc', 'h1', 1)`,
				`INSERT INTO memberships (org_id, user_id, role, member_since) VALUES ('o1', 'u1', 'owner', 1)`,
				`INSERT INTO invitations (id, org_id, email, email_norm, inviter_id, status, token_hash, token_sealed, created_at, issued_at, expires_at)
					VALUES ('i1', 'o1', 'cat@example.com', 'cat@example.com', 'u1', 'open', 't1', 's1', 1, 1, 2)`,
			} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}

			var users, verified, admins, keys, members int
			var inviter string
			row := db.QueryRowContext(ctx, `SELECT
				(SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM users WHERE email_verified),
				(SELECT COUNT(*) FROM users WHERE platform_admin AND name = 'Ann' AND email = 'Ann@Example.com'),
				(SELECT COUNT(*) FROM api_keys WHERE user_id = 'u1'), (SELECT COUNT(*) FROM memberships WHERE user_id = 'u1'),
				(SELECT inviter_id FROM invitations WHERE id = 'i1')`)
			if err := row.Scan(&users, &verified, &admins, &keys, &members, &inviter); err != nil {
				t.Fatal(err)
			}
			if users != 2 || verified != 2 || admins != 1 || keys != 1 || members != 1 || inviter != "u1" {
				t.Errorf("after the migration: %d users, %d verified, %d Ann, %d keys, %d memberships, inviter %q; want 2, 2, 1, 1, 1, u1",
					users, verified, admins, keys, members, inviter)
			}

			// Foreign keys hold and cascade on the migrated tables.
			if _, err := db.ExecContext(ctx, `INSERT INTO api_keys (id, user_id, prefix, hash, created_at) VALUES ('k2', 'nobody', 'orgd_def', 'h2', 1)`); err == nil {
				t.Error("a key of a user that does not exist was stored: foreign keys are off")
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO user_identities (issuer, subject, user_id, created_at) VALUES ('https://idp.example.com', 's1', 'u1', 1)`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `DELETE FROM users WHERE id = 'u1'`); err != nil {
				t.Fatal(err)
			}
			var left int
			if err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM api_keys) + (SELECT COUNT(*) FROM memberships) + (SELECT COUNT(*) FROM user_identities)`).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left != 0 {
				t.Errorf("deleting a user left %d of its keys, memberships and identities", left)
			}

			// Verified addresses are unique; unverified ones are not.
			if _, err := db.ExecContext(ctx, `INSERT INTO users (id, email, email_norm, email_verified, created_at) VALUES ('u3', 'bob@example.com', 'bob@example.com', FALSE, 3)`); err != nil {
				t.Errorf("an unverified copy of a verified address: %v", err)
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO users (id, email, email_norm, email_verified, created_at) VALUES ('u4', 'bob@example.com', 'bob@example.com', TRUE, 4)`); err == nil {
				t.Error("a second verified user with one address was stored")
			}
		})
	}
}

// TestOpenInvitationsByAddressMigration: migration 00006 rebuilds the
// index that keeps one open invitation per organization and address; it
// must keep that rule over the data it finds.
func TestOpenInvitationsByAddressMigration(t *testing.T) {
	for _, e := range testdb.Engines {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			s := storeAt(t, e, 5)
			db := s.DB()
			insert := func(id, org, status string) error {
				_, err := db.ExecContext(ctx, `INSERT INTO invitations (id, org_id, email, email_norm, status, token_hash, token_sealed, created_at, issued_at, expires_at)
					VALUES ($1, $2, 'cat@example.com', 'cat@example.com', $3, $1, 's', 1, 1, 2)`, id, org, status)
				return err
			}
			for _, q := range []string{
				`INSERT INTO organizations (id, slug, name, created_at, updated_at) VALUES ('o1', 'acme', 'Acme', 1, 1)`,
				`INSERT INTO organizations (id, slug, name, created_at, updated_at) VALUES ('o2', 'beta', 'Beta', 1, 1)`,
			} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if err := insert("i1", "o1", "open"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := insert("i2", "o1", "open"); err == nil {
				t.Error("a second open invitation for one address and organization was stored")
			}
			for _, inv := range []struct{ id, org, status string }{{"i3", "o2", "open"}, {"i4", "o1", "revoked"}} { // another organization; a closed one
				if err := insert(inv.id, inv.org, inv.status); err != nil {
					t.Errorf("%s invitation in %s: %v", inv.status, inv.org, err)
				}
			}
			var open int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM invitations WHERE status = 'open'`).Scan(&open); err != nil || open != 2 {
				t.Errorf("%d open invitations (%v), want 2", open, err)
			}
		})
	}
}

// TestRevokeReasonMigration: migrations 00007 and 00008 give the invitations revoked
// before them because their address became a member's the reason their audit
// event names, and no other invitation a reason.
func TestRevokeReasonMigration(t *testing.T) {
	for _, e := range testdb.Engines {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			s := storeAt(t, e, 6)
			event := func(id, target string, details map[string]any) *orgd.AuditEvent {
				return &orgd.AuditEvent{ID: id, At: t0, OrgID: "id-acme", Actor: "orgd admin", Action: orgd.AuditInvitationRevoked,
					TargetType: "invitation", TargetID: target, Details: details}
			}
			write(t, s, func(ctx context.Context, tx orgd.Tx) error {
				if err := insertOrg("acme")(tx); err != nil {
					return err
				}
				if err := tx.InsertInvitations(ctx, invitation("member", "id-acme", "m@x.test", orgd.InvitationRevoked, t0),
					invitation("by-hand", "id-acme", "h@x.test", orgd.InvitationRevoked, t0),
					invitation("open", "id-acme", "o@x.test", orgd.InvitationOpen, t0)); err != nil {
					return err
				}
				_, err := tx.InsertAuditEvents(ctx, []*orgd.AuditEvent{
					event("e1", "member", map[string]any{"email": "m@x.test", "user_id": "u1", "reason": "the address is a member's"}),
					event("e2", "by-hand", map[string]any{"email": "h@x.test"}),
					// Not a revoke: the reason of another action names nothing.
					{ID: "e3", At: t0, OrgID: "id-acme", Action: orgd.AuditInvitationAccepted, TargetType: "invitation", TargetID: "open",
						Details: map[string]any{"reason": "the address is a member's"}},
				}, false)
				return err
			})
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			got := map[string]orgd.RevokeReason{}
			write(t, s, func(ctx context.Context, tx orgd.Tx) error {
				invs, err := tx.ListInvitations(ctx, "id-acme", orgd.InvitationFilter{})
				for _, inv := range invs {
					got[inv.ID] = inv.RevokeReason
				}
				return err
			})
			want := map[string]orgd.RevokeReason{"member": orgd.RevokedToMember, "by-hand": "", "open": ""}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("revoke reasons after the migration (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAPIKeyNamesMigration: migration 00009 names every key whose name is
// empty or only what the domain trims as spaces after its visible prefix,
// and leaves every other name as it was, on a PostgreSQL database of any
// encoding too: orgd (pgx, client_encoding left at the database's) stores
// a name's UTF-8 unconverted in a LATIN1 or SQL_ASCII database, a
// connection with client_encoding UTF8 stores it converted, and the whole
// migration, the outbox's included, must run there.
func TestAPIKeyNamesMigration(t *testing.T) {
	databases := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return testdb.URL(t, store.SQLite) }},
		{"postgres", func(t *testing.T) string { return testdb.URL(t, store.Postgres) }},
		{"postgres LATIN1", func(t *testing.T) string { return testdb.PostgresURL(t, "LATIN1") }},
		{"postgres SQL_ASCII", func(t *testing.T) string { return testdb.PostgresURL(t, "SQL_ASCII") }},
	}
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			databaseURL := d.url(t)
			s := storeAtURL(t, databaseURL, 8)
			var spaces []rune // every character strings.TrimSpace trims
			for r := rune(0); r <= unicode.MaxRune; r++ {
				if unicode.IsSpace(r) {
					spaces = append(spaces, r)
				}
			}
			names := map[string]string{ // by key id, as stored at version 8
				"empty":      "",
				"all spaces": string(spaces),
				"spaces":     " \t\u00a0\u2009\u3000",
				"named":      "ci",
				"padded":     " ci ",
				"similar":    "\u200bzero width is not a space",
				"quote":      "\u201a", // bytes e2 80 9a, each also a byte of a space
				"nbsp word":  "\u00a0x",
			}
			// Names written through a connection whose client_encoding is
			// UTF8, converted into the database's encoding: only
			// characters LATIN1 has.
			converted := map[string]string{
				"utf8 spaces": " \u0085\u00a0",
				"utf8 word":   "\u00a0x",
				"utf8 letter": "\u00c2", // in LATIN1 c2, alone: the first byte of a no-break space's UTF-8
			}
			insert := func(s *store.Store, names map[string]string) {
				write(t, s, func(ctx context.Context, tx orgd.Tx) error {
					for id, name := range names {
						if err := tx.InsertAPIKey(ctx, &orgd.APIKey{ID: id, UserID: "u1", Name: name, Prefix: "orgd_" + id[:4] + "1234", Hash: "hash-" + id, CreatedAt: t0}); err != nil {
							return err
						}
					}
					return nil
				})
			}
			write(t, s, func(ctx context.Context, tx orgd.Tx) error {
				return tx.InsertUser(ctx, &orgd.User{ID: "u1", Email: "ann@x.test", EmailNorm: "ann@x.test", EmailVerified: true, CreatedAt: t0})
			})
			insert(s, names)
			var utf8Client *store.Store
			if s.Engine() == store.Postgres {
				u, err := url.Parse(databaseURL)
				if err != nil {
					t.Fatal(err)
				}
				q := u.Query()
				q.Set("client_encoding", "UTF8")
				u.RawQuery = q.Encode()
				utf8Client = openURL(t, u.String())
				insert(utf8Client, converted)
			}
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := outbox.Migrate(ctx, s); err != nil {
				t.Fatal(err)
			}

			keyNames := func(s *store.Store, ids map[string]string) map[string]string {
				got := map[string]string{}
				write(t, s, func(ctx context.Context, tx orgd.Tx) error {
					keys, err := tx.ListAPIKeys(ctx, "u1")
					for _, k := range keys {
						if _, ok := ids[k.ID]; ok {
							got[k.ID] = k.Name
						}
					}
					return err
				})
				return got
			}
			got := keyNames(s, names)
			want := map[string]string{
				"empty":      "unnamed key orgd_empt1234",
				"all spaces": "unnamed key orgd_all 1234",
				"spaces":     "unnamed key orgd_spac1234",
				"named":      "ci",
				"padded":     " ci ",
				"similar":    "\u200bzero width is not a space",
				"quote":      "\u201a",
				"nbsp word":  "\u00a0x",
			}
			if utf8Client != nil {
				for id, name := range keyNames(utf8Client, converted) {
					got[id] = name
				}
				want["utf8 spaces"] = "unnamed key orgd_utf81234"
				want["utf8 word"] = "\u00a0x"
				want["utf8 letter"] = "\u00c2"
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("key names after the migration (-want +got):\n%s", diff)
			}
		})
	}
}
