package orgd

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Page asks for one page of a list: at most Limit items after Cursor, in
// the list's order. A zero Limit asks for every item.
type Page struct {
	Limit  int
	Cursor string
}

// MaxPageSize bounds Page.Limit.
const MaxPageSize = 1000

// position is where a page starts: after the item with this sort time and id.
type position struct {
	At time.Time
	ID string
}

// encodeCursor makes the opaque cursor of the page after the item at p.
func encodeCursor(p position) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(p.At.UnixMicro(), 10) + "." + p.ID))
}

// decodeCursor reads a cursor made by encodeCursor.
func decodeCursor(c string) (*position, error) {
	if c == "" {
		return nil, nil
	}
	bad := FieldError(CodeInvalidData, "cursor", "The cursor is not one orgd gave out.")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, bad
	}
	at, id, ok := strings.Cut(string(raw), ".")
	micros, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || !uuidPattern.MatchString(id) {
		return nil, bad
	}
	return &position{At: time.UnixMicro(micros).UTC(), ID: id}, nil
}

func (p Page) check() (*position, error) {
	if p.Limit < 0 || p.Limit > MaxPageSize {
		return nil, FieldError(CodeInvalidData, "limit", "limit must be between 1 and %d.", MaxPageSize)
	}
	return decodeCursor(p.Cursor)
}

// nextCursor trims a list fetched with one item more than the page holds
// and returns the cursor of the next page, or "" at the end.
func nextCursor[T any](items []T, limit int, pos func(T) position) ([]T, string) {
	if limit == 0 || len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, encodeCursor(pos(items[limit-1]))
}

// MemberFilter selects members of an organization. Zero fields select
// everything.
type MemberFilter struct {
	Email        string // normalized address
	Role         Role   // the member's strongest role; reader includes members without one
	JoinedAfter  time.Time
	JoinedBefore time.Time
	after        *position
	limit        int // 0: every member; else at most limit+1 (one more shows there is a next page)
}

// After and Limit report where the store starts and how many it returns.
func (f MemberFilter) After() (at time.Time, id string, ok bool) {
	if f.after == nil {
		return time.Time{}, "", false
	}
	return f.after.At, f.after.ID, true
}

// Limit is how many members the store returns at most (0: all).
func (f MemberFilter) Limit() int { return f.limit }

// After and Limit report where the store starts and how many it returns.
func (f InvitationFilter) After() (at time.Time, id string, ok bool) {
	if f.after == nil {
		return time.Time{}, "", false
	}
	return f.after.At, f.after.ID, true
}

// Limit is how many invitations the store returns at most (0: all).
func (f InvitationFilter) Limit() int { return f.limit }
