// Package httpx holds what the HTTP surfaces of orgd share: JSON bodies in
// and out, request ids, access logs and panic recovery. It knows no API
// dialect; each surface writes its own error envelope.
package httpx

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/orgd/orgd"
)

// WriteJSON writes v as the JSON body of a response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only plain wire structs are written; this is a programming error.
		status, body = http.StatusInternalServerError, []byte(`{}`)
	}
	body = append(body, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// With its length known, a body larger than net/http's 4 KB buffer
	// (a page of 100 invitations is about 60 KB) goes out in one write
	// instead of chunks.
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// DecodeJSON reads a JSON request body of at most maxBytes into dst. An
// empty body is allowed only if allowEmpty. The errors are orgd errors that
// name the offending field where one is known.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any, maxBytes int64, allowEmpty bool) error {
	body, err := ReadBody(w, r, maxBytes)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return &orgd.Error{Kind: orgd.KindInvalid, Code: orgd.CodeInvalidData, Field: "body", Message: "A JSON request body is required."}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	// Only JSON white space may follow the value. (Decoder.More is no
	// test: it reports false before a stray ']' or '}'.)
	if len(bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n")) > 0 {
		return &orgd.Error{Kind: orgd.KindInvalid, Code: orgd.CodeInvalidData, Field: "body", Message: "The request body holds more than one JSON value."}
	}
	if holdsNUL(body) {
		return &orgd.Error{Kind: orgd.KindInvalid, Code: orgd.CodeInvalidData, Field: "body", Message: `The request body holds a NUL character (\u0000), which no field accepts.`}
	}
	return nil
}

// holdsNUL reports whether a valid JSON text has a string with the escape
// \u0000 (JSON has no other way to write a NUL): an escape is a \u0000
// after an even number of backslashes.
func holdsNUL(body []byte) bool {
	escape := []byte(`\u0000`)
	for i := 0; ; {
		j := bytes.Index(body[i:], escape)
		if j < 0 {
			return false
		}
		j += i
		n := 0
		for k := j - 1; k >= 0 && body[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return true
		}
		i = j + 1
	}
}

// ReadBody reads a request body of at most maxBytes; a larger one is
// root.request_too_large.
func ReadBody(w http.ResponseWriter, r *http.Request, maxBytes int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &orgd.Error{Kind: orgd.KindInvalid, Code: orgd.CodeBodyTooLarge, Message: fmt.Sprintf("The request body is larger than %d bytes.", maxBytes)}
		}
		return nil, &orgd.Error{Kind: orgd.KindInvalid, Code: orgd.CodeInvalidData, Message: "The request body could not be read."}
	}
	return body, nil
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return &orgd.Error{Kind: orgd.KindInvalid, Code: orgd.CodeInvalidData, Field: "body",
			Message: fmt.Sprintf("The request body is not valid JSON (at byte %d).", syntax.Offset)}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return &orgd.Error{Kind: orgd.KindInvalid, Code: orgd.CodeInvalidData, Field: field,
			Message: fmt.Sprintf("%s must be %s, not %s.", field, jsonTypeName(typ.Type.Kind().String()), typ.Value)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &orgd.Error{Kind: orgd.KindInvalid, Code: orgd.CodeInvalidData, Field: "body", Message: "The request body ends in the middle of a JSON value."}
	}
	var fe *orgd.Error
	if errors.As(err, &fe) {
		return fe
	}
	return &orgd.Error{Kind: orgd.KindInvalid, Code: orgd.CodeInvalidData, Field: "body", Message: "The request body is not valid JSON."}
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	}
	return "another type"
}

// SplitCSV splits a path value such as "a,b" (or "a%2Cb" once decoded) into
// its non-empty, trimmed items.
func SplitCSV(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	logAttrsKey
)

// RequestID returns the id of the request ctx belongs to.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// logAttrs collects attributes a handler adds to the request's log line.
type logAttrs struct {
	attrs []slog.Attr
	path  string // replaces the request's path, when set
}

// AddLogAttrs adds attributes to the access log line of the request.
func AddLogAttrs(ctx context.Context, attrs ...slog.Attr) {
	if la, ok := ctx.Value(logAttrsKey).(*logAttrs); ok {
		la.attrs = append(la.attrs, attrs...)
	}
}

// SetLogPath replaces the path in the access log line of the request, for
// paths that hold a secret (the invitation page's token).
func SetLogPath(ctx context.Context, path string) {
	if la, ok := ctx.Value(logAttrsKey).(*logAttrs); ok {
		la.path = path
	}
}

// statusWriter remembers the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Middleware gives every request an id (kept from a well-formed incoming
// X-Request-Id, else new), returns it in X-Request-Id, and logs one line per
// request with its id, method, route, status and duration. Credentials and
// query strings are never logged.
func Middleware(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		la := &logAttrs{}
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey, id), logAttrsKey, la)
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(ctx)
		next.ServeHTTP(sw, r)
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		path := r.URL.Path
		if la.path != "" {
			path = la.path
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		attrs := []slog.Attr{
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("route", routeOf(r)),
			slog.String("path", path), slog.Int("status", status), slog.Int("bytes", sw.bytes),
			slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr),
		}
		log.LogAttrs(ctx, level, "request", append(attrs, la.attrs...)...)
	})
}

func routeOf(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return "unmatched"
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
