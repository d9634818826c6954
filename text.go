package orgd

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PlainText reports whether s is valid UTF-8 without control characters:
// the rule for names, one-line text and anything that names a thing (ids,
// keys, filters). Every engine stores and compares such text as given;
// PostgreSQL refuses a NUL character or invalid UTF-8 outright.
func PlainText(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

// multilineText is PlainText that also allows line breaks and tabs, for
// descriptions.
func multilineText(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	}) < 0
}

// ErrUnstorableText is returned by Store methods when the database refused
// text it cannot hold (a NUL character or invalid UTF-8 where PostgreSQL
// reads text). The API surfaces refuse such text before it reaches the
// store; this is the last guard, and the service answers it as invalid
// input, never as an internal error.
var ErrUnstorableText = errors.New("text the database cannot store")

var errUnstorableText = &Error{Kind: KindInvalid, Code: CodeInvalidData,
	Message: "The request holds text that cannot be stored: a NUL character or invalid UTF-8."}
