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

func (b *body) fail(name, typ, msg string) {
	b.bad = append(b.bad, invalid("body."+name, typ, msg))
}

// present reports whether the field was sent with a value other than null.
func (b *body) present(name string) bool {
	v, ok := b.fields[name]
	return ok && string(v) != "null"
}

func (b *body) decode(name, typ, msg string, dst any) bool {
	if err := json.Unmarshal(b.fields[name], dst); err != nil {
		b.fail(name, typ, msg)
		return false
	}
	return true
}

// String reads a string field; a missing required field is reported.
func (b *body) String(name string, required bool) (string, bool) {
	if !b.present(name) {
		if required {
			b.fail(name, "missing", "Field required")
		}
		return "", false
	}
	var s string
	ok := b.decode(name, "string_type", "Input should be a valid string", &s)
	return s, ok
}

// OptionalString reads a string field that may be absent or null.
func (b *body) OptionalString(name string) *string {
	if s, ok := b.String(name, false); ok {
		return &s
	}
	return nil
}

// Bool reads a boolean field, def when absent.
func (b *body) Bool(name string, def bool, required bool) bool {
	if !b.present(name) {
		if required {
			b.fail(name, "missing", "Field required")
		}
		return def
	}
	var v bool
	if b.decode(name, "bool_type", "Input should be a valid boolean", &v) {
		return v
	}
	return def
}

// OptionalBool reads a boolean field that may be absent or null.
func (b *body) OptionalBool(name string) *bool {
	if !b.present(name) {
		return nil
	}
	var v bool
	if b.decode(name, "bool_type", "Input should be a valid boolean", &v) {
		return &v
	}
	return nil
}

// OptionalInt reads a whole-number field that may be absent or null.
func (b *body) OptionalInt(name string) *int {
	if !b.present(name) {
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

// OptionalStrings reads a list of strings that may be absent or null.
func (b *body) OptionalStrings(name string) *[]string {
	if !b.present(name) {
		return nil
	}
	var v []string
	if b.decode(name, "list_type", "Input should be a valid list of strings", &v) {
		return &v
	}
	return nil
}

// Enum reads a string field that must be one of allowed, def when absent.
func (b *body) Enum(name string, allowed []string, def string, required bool) string {
	s, ok := b.String(name, required)
	if !ok {
		return def
	}
	if !slices.Contains(allowed, s) {
		b.fail(name, "enum", "Input should be "+quoteList(allowed))
		return def
	}
	return s
}

// ExpiresIn reads a duration field: a string such as "72h" or "3d", or a
// whole number of seconds.
func (b *body) ExpiresIn(name string) string {
	if !b.present(name) {
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
