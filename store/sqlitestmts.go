package store

import (
	"context"
	"database/sql/driver"

	"modernc.org/sqlite"
)

// SQLite parses a statement each time it is run from its text, and
// database/sql runs every query from its text: orgd's and the outbox's
// (River's insert alone is a long statement). Parsing took a third of the
// CPU of creating an invitation. So each SQLite connection keeps the
// statements it has run, by text, and runs them again without parsing, the
// way pgx's statement cache does for PostgreSQL.

// maxCachedStmts bounds the statements kept per connection. The texts are
// few (multi-row inserts and IN lists vary with their length; those come
// and go).
const maxCachedStmts = 256

// sqliteConnector opens SQLite connections that keep their statements.
type sqliteConnector struct {
	dsn string
	drv sqlite.Driver
}

func (c *sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &stmtConn{sqliteConn: conn.(sqliteConn), stmts: map[string]*cachedStmt{}}, nil
}

func (c *sqliteConnector) Driver() driver.Driver { return &c.drv }

// sqliteConn is what modernc's connection offers database/sql.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// stmtConn is a connection with its statements. database/sql uses a
// connection from one goroutine at a time, so it needs no lock.
type stmtConn struct {
	sqliteConn
	stmts map[string]*cachedStmt
}

// sqliteStmt is what modernc's prepared statement offers.
type sqliteStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachedStmt is a prepared statement; busy while a run of it has rows
// open, when the same text runs as a statement of its own.
type cachedStmt struct {
	stmt sqliteStmt
	busy bool
}

// take returns the statement of query, prepared now if the connection has
// none free, and marks it busy; release frees it, or closes it if it was not
// kept.
func (c *stmtConn) take(ctx context.Context, query string) (*cachedStmt, error) {
	if s, ok := c.stmts[query]; ok && !s.busy {
		s.busy = true
		return s, nil
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s := &cachedStmt{stmt: st.(sqliteStmt), busy: true}
	if _, ok := c.stmts[query]; !ok {
		c.evict()
		c.stmts[query] = s
	}
	return s, nil
}

func (c *stmtConn) release(query string, s *cachedStmt) {
	s.busy = false
	if c.stmts[query] != s {
		_ = s.stmt.Close()
	}
}

// evict makes room for one statement, dropping a free one.
func (c *stmtConn) evict() {
	if len(c.stmts) < maxCachedStmts {
		return
	}
	for q, s := range c.stmts {
		if !s.busy {
			_ = s.stmt.Close()
			delete(c.stmts, q)
			return
		}
	}
}

func (c *stmtConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	defer c.release(query, s)
	return s.stmt.ExecContext(ctx, args)
}

func (c *stmtConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		c.release(query, s)
		return nil, err
	}
	return &stmtRows{Rows: rows, release: func() { c.release(query, s) }}, nil
}

func (c *stmtConn) Close() error {
	for _, s := range c.stmts {
		_ = s.stmt.Close()
	}
	c.stmts = nil
	return c.sqliteConn.Close()
}

// stmtRows frees its statement when closed.
type stmtRows struct {
	driver.Rows
	release func()
}

func (r *stmtRows) Close() error {
	err := r.Rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}
