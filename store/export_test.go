package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/orgd/orgd"
)

// MigrateTo applies orgd's migrations up to version, for tests of later ones.
func (s *Store) MigrateTo(ctx context.Context, version int64) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// CachedStatements is the number of statements a SQLite connection keeps
// (from sql.Conn.Raw).
func CachedStatements(driverConn any) int { return len(driverConn.(*stmtConn).stmts) }

const MaxCachedStmts = maxCachedStmts

var DecodeRoles = decodeRoles

const MaxRoleTexts = maxRoleTexts

// RoleTextsKept is the number of decoded role texts decodeRoles keeps.
func RoleTextsKept() int {
	n := 0
	roleTexts.Range(func(any, any) bool { n++; return true })
	return n
}

var InviteesQuery = inviteesQuery

// OpenSQLiteCheckpointing opens a SQLite store whose background checkpoints
// run every interval.
func OpenSQLiteCheckpointing(ctx context.Context, path string, every time.Duration) (*Store, error) {
	return openSQLite(ctx, path, Options{checkpointEvery: every})
}

// InviteesOn runs the invitee look-up on conn.
func (s *Store) InviteesOn(ctx context.Context, conn *sql.Conn, orgID string, norms []string) (orgd.Invitees, error) {
	return (&tx{q: conn, d: s.dialect}).Invitees(ctx, orgID, norms)
}

// Exec runs a statement in the transaction of a store call, for tests of
// the store's own behaviour (its retries) on tables of the test's making.
func Exec(ctx context.Context, t orgd.Tx, query string, args ...any) error {
	_, err := t.(*tx).exec(ctx, query, args...)
	return err
}
