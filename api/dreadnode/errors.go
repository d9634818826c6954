package dreadnode

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/httpx"
)

// ErrorEnvelope is the canonical error body of the slug API.
type ErrorEnvelope struct {
	Code   int          `json:"code"`   // the HTTP status
	Detail string       `json:"detail"` // for people
	Type   string       `json:"type"`   // stable per status
	Errors []ErrorEntry `json:"errors"`
}

// ErrorEntry is one problem of a request. Type is the stable machine code:
// a pydantic-style code for malformed input ("missing", "string_type",
// "enum", "json_invalid", ...) or orgd's error code (such as
// "organization.invitation_already_exists").
type ErrorEntry struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// errorTypes is the stable `type` of each status.
var errorTypes = map[int]string{
	http.StatusBadRequest:            "invalid_request_error",
	http.StatusUnauthorized:          "authentication_error",
	http.StatusForbidden:             "permission_error",
	http.StatusNotFound:              "not_found_error",
	http.StatusMethodNotAllowed:      "method_not_allowed_error",
	http.StatusConflict:              "conflict_error",
	http.StatusRequestEntityTooLarge: "request_too_large_error",
	http.StatusUnprocessableEntity:   "validation_error",
	http.StatusTooManyRequests:       "rate_limit_error",
	http.StatusInternalServerError:   "api_error",
}

// ErrorTypes returns the stable `type` of every status the surface uses.
func ErrorTypes() map[int]string {
	out := make(map[int]string, len(errorTypes))
	for k, v := range errorTypes {
		out[k] = v
	}
	return out
}

// statusOf maps a domain error to a status: invalid input that names a
// field is a 422 validation error, the rest of invalid requests a 400
// (unless its code has a status of its own, such as a malformed
// Idempotency-Key).
func statusOf(e *orgd.Error) int {
	status := httpx.Status(e)
	if status == http.StatusBadRequest && httpx.CodeStatus(e) == 0 && (e.Field != "" || len(e.Details) > 0) {
		return http.StatusUnprocessableEntity
	}
	return status
}

func writeError(w http.ResponseWriter, _ *http.Request, e *orgd.Error) {
	status := statusOf(e)
	items := e.Details
	if len(items) == 0 {
		items = []*orgd.Error{e}
	}
	env := ErrorEnvelope{Code: status, Detail: e.Message, Type: errorTypes[status], Errors: make([]ErrorEntry, 0, len(items))}
	for _, d := range items {
		env.Errors = append(env.Errors, ErrorEntry{Loc: loc(d.Field), Msg: d.Message, Type: d.Code})
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="orgd"`)
	}
	httpx.WriteJSON(w, status, env)
}

// queryParams are the domain's fields that this surface reads from the
// query string of lists.
var queryParams = map[string]bool{"cursor": true, "limit": true, "before": true}

// inQuery locates the domain's errors about list parameters in the query.
func inQuery(err error) error {
	if e, ok := err.(*orgd.Error); ok && e.Kind == orgd.KindInvalid && queryParams[e.Field] {
		e.Field = "query." + e.Field
	}
	return err
}

// domainFields renames the domain's field names to this surface's: an
// invitation has one `email` and one `role` here.
var domainFields = map[string][]any{
	"emails":           {"email"},
	"role_assignments": {"role"},
	"slug":             {"key"},
}

var indexPattern = regexp.MustCompile(`^([^\[]+)\[(\d+)\]$`)

// loc turns a field path into a pydantic-style location. Paths the surface
// (or httpx) made itself start with body., query., path. or header.; the
// domain's are request body fields in its own names.
func loc(field string) []any {
	if field == "" {
		return []any{}
	}
	for _, prefix := range []string{"body", "query", "path", "header"} {
		if field == prefix {
			return []any{prefix}
		}
		if rest, ok := strings.CutPrefix(field, prefix+"."); ok {
			return append([]any{prefix}, splitPath(rest)...)
		}
	}
	parts := splitPath(field)
	if name, ok := parts[0].(string); ok {
		if renamed, ok := domainFields[name]; ok {
			return append([]any{"body"}, renamed...)
		}
	}
	return append([]any{"body"}, parts...)
}

func splitPath(path string) []any {
	var out []any
	for _, seg := range strings.Split(path, ".") {
		if m := indexPattern.FindStringSubmatch(seg); m != nil {
			n, _ := strconv.Atoi(m[2])
			out = append(out, m[1], n)
			continue
		}
		out = append(out, seg)
	}
	return out
}
