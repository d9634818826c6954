package dreadnode

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/httpx"
)

// body is a JSON object request body whose fields are read one by one, so
// that every bad field is reported at once with its location.
type body struct {
	fields map[string]json.RawMessage
	bad    []*orgd.Error
}

// readBody reads a JSON object body. An empty body is an empty object when
// allowEmpty.
func (a *API) readBody(w http.ResponseWriter, r *http.Request, allowEmpty bool) (*body, error) {
	var raw json.RawMessage
	if err := httpx.DecodeJSON(w, r, &raw, a.maxBodyBytes, allowEmpty); err != nil {
		e := orgd.AsError(err)
		if e.Code == orgd.CodeBodyTooLarge {
			return nil, e
		}
		return nil, invalid("body", "json_invalid", e.Message)
	}
	b := &body{fields: map[string]json.RawMessage{}}
	if len(raw) == 0 {
		return b, nil
	}
	if err := json.Unmarshal(raw, &b.fields); err != nil || b.fields == nil {
		return nil, invalid("body", "model_attributes_type", "The request body must be a JSON object.")
	}
	return b, nil
}

func invalid(field, typ, msg string) *orgd.Error {
	return &orgd.Error{Kind: orgd.KindInvalid, Code: typ, Field: field, Message: msg}
}

// maxBodyErrors bounds the errors one body is answered with. pydantic lists
// every one, but a list of half a million items that are not strings (a
// body of 1 MiB) made an answer of 56 MB and took 800 MB to build, and any
// signed-in caller may send one: a body is read before access is decided.
const maxBodyErrors = 20

// fail records an error of the body, up to maxBodyErrors.
func (b *body) fail(name, typ, msg string) {
	if len(b.bad) < maxBodyErrors {
		b.bad = append(b.bad, invalid("body."+name, typ, msg))
	}
}

// full reports whether the body has as many errors as its answer lists.
func (b *body) full() bool { return len(b.bad) >= maxBodyErrors }

// sent reports whether the field is in the body, null included.
func (b *body) sent(name string) bool {
	_, ok := b.fields[name]
	return ok
}

// null reports whether the field was sent as null.
func (b *body) null(name string) bool { return string(b.fields[name]) == "null" }

// require notes a required field that was left out. Only an absent field is
// missing: a required field sent as null is refused by its reader with its
// type's error, as pydantic refuses None for a field without a default.
func (b *body) require(name string, required bool) {
	if required && !b.sent(name) {
		b.fail(name, "missing", "Field required")
	}
}

// decode reads a field that was sent into dst. Null is reported like a
// value of another type, as pydantic reports None for a field that is not
// nullable ("Input should be a valid string").
func (b *body) decode(name, typ, msg string, dst any) bool {
	return b.decodeAt(name, b.fields[name], typ, msg, dst)
}

// decodeAt is decode for the value raw at the field path loc.
func (b *body) decodeAt(loc string, raw json.RawMessage, typ, msg string, dst any) bool {
	if string(raw) == "null" || json.Unmarshal(raw, dst) != nil {
		b.fail(loc, typ, msg)
		return false
	}
	return true
}

// str reads a string at the field path loc.
func (b *body) str(loc string, raw json.RawMessage, dst *string) bool {
	return b.decodeAt(loc, raw, "string_type", "Input should be a valid string", dst)
}

// The readers refuse null with the type's error, as pydantic refuses None
// for a field typed str, bool, int, list or an enumeration, whether it is
// required or has a default (role = "reader", send_email = True). A field
// whose null means something is read through nullable, or by a reader that
// says so (ExpiresIn).

// String reads a string field, reporting a required one that is missing.
func (b *body) String(name string, required bool) (string, bool) {
	b.require(name, required)
	if s := b.OptionalString(name); s != nil {
		return *s, true
	}
	return "", false
}

// OptionalString reads a string field that may be absent.
func (b *body) OptionalString(name string) *string {
	if !b.sent(name) {
		return nil
	}
	var s string
	if b.str(name, b.fields[name], &s) {
		return &s
	}
	return nil
}

// Bool reads a boolean field, def when absent (or refused).
func (b *body) Bool(name string, def bool, required bool) bool {
	b.require(name, required)
	if v := b.OptionalBool(name); v != nil {
		return *v
	}
	return def
}

// OptionalBool reads a boolean field that may be absent.
func (b *body) OptionalBool(name string) *bool {
	if !b.sent(name) {
		return nil
	}
	var v bool
	if b.decode(name, "bool_type", "Input should be a valid boolean", &v) {
		return &v
	}
	return nil
}

// OptionalInt reads a whole-number field that may be absent.
func (b *body) OptionalInt(name string) *int {
	if !b.sent(name) {
		return nil
	}
	var f float64
	if !b.decode(name, "int_type", "Input should be a valid integer", &f) {
		return nil
	}
	if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		b.fail(name, "int_type", "Input should be a valid integer")
		return nil
	}
	n := int(f)
	return &n
}

// OptionalStrings reads a list of strings that may be absent. As pydantic's
// list[str], a value that is not a list is list_type, and each item that is
// not a string (null included) string_type at its index.
func (b *body) OptionalStrings(name string) *[]string {
	if !b.sent(name) {
		return nil
	}
	var items []json.RawMessage
	if !b.decode(name, "list_type", "Input should be a valid list", &items) {
		return nil
	}
	list, ok := make([]string, len(items)), true
	for i, item := range items {
		if b.full() {
			return nil // the answer lists no more errors
		}
		ok = b.str(fmt.Sprintf("%s[%d]", name, i), item, &list[i]) && ok
	}
	if !ok {
		return nil
	}
	return &list
}

// nullable reads a field whose null is a value with read: null is the zero
// value of T, which clears what the field sets (as a pydantic field typed
// `T | None` applied with model_dump(exclude_unset=True), or JSON Merge
// Patch, RFC 7396), and an absent field is nil.
func nullable[T any](b *body, name string, read func(string) *T) *T {
	if b.null(name) {
		return new(T)
	}
	return read(name)
}

// Enum reads a string field that must be one of allowed, def when absent.
// Any other value, null or not a string included, is pydantic's enum error.
func (b *body) Enum(name string, allowed []string, def string, required bool) string {
	b.require(name, required)
	if !b.sent(name) {
		return def
	}
	msg := "Input should be " + quoteList(allowed)
	var s string
	if !b.decode(name, "enum", msg, &s) {
		return def
	}
	if !slices.Contains(allowed, s) {
		b.fail(name, "enum", msg)
		return def
	}
	return s
}

// ExpiresIn reads a duration field: a string such as "72h" or "3d", or a
// whole number of seconds. It is nullable (`Duration | None = None`): null,
// like absence, is "", the default that no value of the field names (an
// invitation's default or previous lifetime, a key that does not expire).
func (b *body) ExpiresIn(name string) string {
	if !b.sent(name) || b.null(name) {
		return ""
	}
	var s string
	if json.Unmarshal(b.fields[name], &s) == nil {
		return s
	}
	var f float64
	if json.Unmarshal(b.fields[name], &f) == nil && f == math.Trunc(f) && f > 0 && f < 1e12 {
		return fmt.Sprintf("%ds", int64(f))
	}
	b.fail(name, "duration_type", `Input should be a duration such as "72h" or "3d", or a whole number of seconds`)
	return ""
}

// Err reports every problem found, nil if none.
func (b *body) Err() error {
	switch len(b.bad) {
	case 0:
		return nil
	case 1:
		return b.bad[0]
	}
	return &orgd.Error{Kind: orgd.KindInvalid, Code: orgd.CodeInvalidData, Message: "Validation error", Details: b.bad}
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "'" + s + "'"
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
