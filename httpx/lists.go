package httpx

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/orgd/orgd"
)

// QueryStyle is how a surface reports a bad query parameter.
type QueryStyle struct {
	FieldPrefix   string // put before the parameter's name ("query." on the slug surface)
	PydanticTypes bool   // report pydantic-style types (enum, int_type, datetime_type) as codes
}

// The query styles of the two surfaces.
var (
	ElasticQuery = QueryStyle{}
	SlugQuery    = QueryStyle{FieldPrefix: "query.", PydanticTypes: true}
)

// listQuery reads the query parameters that both surfaces' lists share.
type listQuery struct {
	q     url.Values
	style QueryStyle
	err   error
}

// fail records the first bad parameter; typ is its pydantic-style type.
func (l *listQuery) fail(name, typ, format string, args ...any) {
	if l.err != nil {
		return
	}
	e := orgd.FieldError(orgd.CodeInvalidData, l.style.FieldPrefix+name, format, args...)
	if l.style.PydanticTypes {
		e.Code = typ
	}
	l.err = e
}

func (l *listQuery) time(name string) time.Time {
	v := l.q.Get(name)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		l.fail(name, "datetime_type", "%s must be an RFC 3339 time such as 2026-11-24T12:00:00Z.", name)
	}
	return t
}

func (l *listQuery) role(name string) orgd.Role {
	v := l.q.Get(name)
	if v == "" {
		return ""
	}
	r, ok := orgd.ParseRole(v)
	if !ok {
		l.fail(name, "enum", "%s must be one of owner, organization-admin, billing-admin, contributor, reader.", name)
	}
	return r
}

func (l *listQuery) email(name string) string {
	if v := l.q.Get(name); v != "" {
		return orgd.NormalizeEmail(v)
	}
	return ""
}

func (l *listQuery) page(defaultLimit int) orgd.Page {
	p := orgd.Page{Limit: defaultLimit, Cursor: l.q.Get("cursor")}
	if v := l.q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > orgd.MaxPageSize {
			l.fail("limit", "int_type", "limit must be a whole number from 1 to %d.", orgd.MaxPageSize)
		}
		p.Limit = n
	} else if p.Cursor != "" && p.Limit == 0 {
		p.Limit = 100 // a cursor asks for pages
	}
	return p
}

// csvParam reads a parameter of comma-separated values, each one of allowed:
// nil when the parameter is absent or empty. A value that names none (only
// commas and spaces, most likely a client's bug) or one outside allowed
// fails with message.
func csvParam[T ~string](l *listQuery, name string, allowed []T, message string) []T {
	v := l.q.Get(name)
	if v == "" {
		return nil
	}
	var out []T
	for _, s := range SplitCSV(v) {
		if !slices.Contains(allowed, T(s)) {
			out = nil
			break
		}
		out = append(out, T(s))
	}
	if out == nil {
		l.fail(name, "enum", "%s", message)
	}
	return out
}

// InvitationStates are the values of the status filter, and "all".
var InvitationStates = []string{"pending", "expired", "accepted", "declined", "revoked", "all"}

// InvitationQuery reads the filters and paging of an invitation list:
// status (comma-separated states, or all; default defaultStates when absent
// or empty, refused when it names none), email_status, email, role, inviter
// (id or address), created_after, created_before (RFC 3339), limit (default
// defaultLimit, 0 meaning every invitation) and cursor.
func InvitationQuery(r *http.Request, style QueryStyle, defaultStates []orgd.InvitationState, defaultLimit int) (orgd.InvitationFilter, orgd.Page, error) {
	l := &listQuery{q: r.URL.Query(), style: style}
	f := orgd.InvitationFilter{States: defaultStates}
	if states := csvParam(l, "status", InvitationStates,
		"status must be one or more of pending, expired, accepted, declined, revoked, separated by commas, or all."); states != nil {
		f.States = nil
		if !slices.Contains(states, "all") {
			for _, s := range states {
				f.States = append(f.States, orgd.InvitationState(s))
			}
		}
	}
	f.EmailStatuses = csvParam(l, "email_status", orgd.EmailStatuses,
		"email_status must be one or more of not_requested, queued, sent, failed, logged, separated by commas.")
	f.Email, f.Role, f.Inviter = l.email("email"), l.role("role"), l.q.Get("inviter")
	f.CreatedAfter, f.CreatedBefore = l.time("created_after"), l.time("created_before")
	page := l.page(defaultLimit)
	return f, page, l.err
}

// MemberQuery reads the filters and paging of a member list: email, role,
// joined_after, joined_before, limit and cursor.
func MemberQuery(r *http.Request, style QueryStyle, defaultLimit int) (orgd.MemberFilter, orgd.Page, error) {
	l := &listQuery{q: r.URL.Query(), style: style}
	f := orgd.MemberFilter{Email: l.email("email"), Role: l.role("role"), JoinedAfter: l.time("joined_after"), JoinedBefore: l.time("joined_before")}
	page := l.page(defaultLimit)
	return f, page, l.err
}

// SetNextPage announces the next page of a list: a Link header (RFC 8288)
// to the same request with the cursor, and X-Next-Cursor.
func SetNextPage(w http.ResponseWriter, r *http.Request, cursor string) {
	if cursor == "" {
		return
	}
	q := r.URL.Query()
	q.Set("cursor", cursor)
	next := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	w.Header().Set("Link", "<"+next.String()+`>; rel="next"`)
	w.Header().Set("X-Next-Cursor", cursor)
}

// CheckText refuses a request whose path or query holds text that no
// field, id or filter accepts: a control character or invalid UTF-8 (see
// orgd.PlainText). Every engine then answers such a request alike, before
// anything is looked up.
func CheckText(r *http.Request, style QueryStyle) error {
	bad := func(field, format string, args ...any) error {
		e := orgd.FieldError(orgd.CodeInvalidData, field, format, args...)
		if style.PydanticTypes {
			e.Code = "value_error"
		}
		return e
	}
	if !orgd.PlainText(r.URL.Path) {
		return bad("path", "The request's path holds a control character or invalid UTF-8.")
	}
	for name, values := range r.URL.Query() {
		if !orgd.PlainText(name) {
			return bad("query", "A query parameter's name holds a control character or invalid UTF-8.")
		}
		for _, v := range values {
			if !orgd.PlainText(v) {
				return bad(style.FieldPrefix+name, "%s holds a control character or invalid UTF-8.", name)
			}
		}
	}
	return nil
}
