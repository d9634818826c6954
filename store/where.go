package store

import (
	"context"
	"fmt"
	"strings"
)

// where builds the conditions of a query. Each condition writes ? for its
// arguments; they become $1..$N in order, which both engines read, or stay
// ? if positional.
type where struct {
	conds []string
	args  []any
	// positional keeps the placeholders ?, bound by position, for
	// statements of many arguments whose every placeholder comes from
	// here: SQLite looks each $N up by name, in time that grows with the
	// number of arguments (quadratic for a statement).
	positional bool
}

// many returns a where for statements of many arguments, positional where
// the engine is SQLite.
func (t *tx) many() *where { return manyFor(t.d.engine) }

func manyFor(e Engine) *where { return &where{positional: e == SQLite} }

func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		cond = strings.Replace(cond, "?", w.arg(a), 1)
	}
	w.conds = append(w.conds, cond)
}

// arg adds an argument and returns its placeholder, for clauses after WHERE.
func (w *where) arg(a any) string {
	w.args = append(w.args, a)
	if w.positional {
		return "?"
	}
	return fmt.Sprintf("$%d", len(w.args))
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return "TRUE"
	}
	return strings.Join(w.conds, " AND ")
}

// in adds the arguments of an IN list and returns it, "($1, $2)".
func (w *where) in(vals []string) string {
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = w.arg(v)
	}
	return "(" + strings.Join(ph, ", ") + ")"
}

// maxBatch bounds the rows of one multi-row statement and the values of one
// IN list, well under the bind-parameter limits of both engines (SQLite
// 32,766 and PostgreSQL 65,535 per statement).
const maxBatch = 500

// chunks calls fn with consecutive pieces of items of at most maxBatch.
func chunks[T any](items []T, fn func([]T) error) error {
	for len(items) > 0 {
		n := min(len(items), maxBatch)
		if err := fn(items[:n]); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

// insertRows writes rows with multi-row INSERT statements; head is the
// statement up to VALUES, "INSERT INTO t (a, b)", and each row has one
// value per column.
func (t *tx) insertRows(ctx context.Context, head string, rows [][]any) error {
	return chunks(rows, func(rows [][]any) error {
		w := t.many()
		_, err := t.exec(ctx, insertStatement(w, head, rows), w.args...)
		return err
	})
}

// insertStatement is the INSERT of insertRows for rows, its arguments
// added to w.
func insertStatement(w *where, head string, rows [][]any) string {
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(" VALUES ")
	for i, row := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, v := range row {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(w.arg(v))
		}
		b.WriteByte(')')
	}
	return b.String()
}
