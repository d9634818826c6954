package httpx

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/orgd/orgd"
)

// ErrorWriter writes an error in a surface's envelope.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err *orgd.Error)

// HandlerFunc is a handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Adapt turns an error-returning handler into an http.Handler: an error is
// written by writeErr, a panic becomes a logged internal error, and
// internal errors are logged with their cause while the caller sees none.
func Adapt(log *slog.Logger, writeErr ErrorWriter, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := call(h, w, r); err != nil {
			WriteError(log, writeErr, w, r, err)
		}
	})
}

// call runs h, turning a panic into an internal error.
func call(h HandlerFunc, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			err = orgd.Internal("panic", fmt.Errorf("%v\n%s", v, debug.Stack()))
		}
	}()
	return h(w, r)
}

// WriteError writes err with writeErr, logging internal causes and adding
// the code to the access log.
func WriteError(log *slog.Logger, writeErr ErrorWriter, w http.ResponseWriter, r *http.Request, err error) {
	e := orgd.AsError(err)
	if e.Kind == orgd.KindInternal {
		if r.Context().Err() != nil {
			// The client went away; nothing to report to it.
			e = orgd.Internal("request canceled", r.Context().Err())
		}
		log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("request_id", RequestID(r.Context())), slog.String("error", e.Error()))
	}
	AddLogAttrs(r.Context(), slog.String("error_code", e.Code))
	if e.Kind != orgd.KindInternal && e.Err != nil {
		// Why a credential was refused: for operators, never for the caller.
		AddLogAttrs(r.Context(), slog.String("cause", e.Err.Error()))
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	writeErr(w, r, e)
}

// codeStatuses are the codes that have the same status on every surface,
// whatever their kind.
var codeStatuses = map[string]int{
	orgd.CodeBodyTooLarge:      http.StatusRequestEntityTooLarge,
	orgd.CodeMethodNotAllowed:  http.StatusMethodNotAllowed,
	orgd.CodeIdempotencyKey:    http.StatusBadRequest,
	orgd.CodeIdempotencyReused: http.StatusUnprocessableEntity,
	orgd.CodeIdempotencyInUse:  http.StatusConflict,
}

// CodeStatus is the status of a code that has the same status on every
// surface, whatever its kind; 0 for the others.
func CodeStatus(e *orgd.Error) int { return codeStatuses[e.Code] }

// Status is the HTTP status of a domain error by its kind (and the codes
// of CodeStatus). A surface departs from it only where its dialect does.
func Status(e *orgd.Error) int {
	if status := CodeStatus(e); status != 0 {
		return status
	}
	switch e.Kind {
	case orgd.KindInvalid:
		return http.StatusBadRequest
	case orgd.KindUnauthenticated:
		return http.StatusUnauthorized
	case orgd.KindForbidden:
		return http.StatusForbidden
	case orgd.KindNotFound:
		return http.StatusNotFound
	case orgd.KindConflict:
		return http.StatusConflict
	case orgd.KindRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

type principalKey struct{}

// WithPrincipal returns a context that carries the authenticated principal.
func WithPrincipal(ctx context.Context, p *orgd.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal of an authenticated request.
func PrincipalFrom(ctx context.Context) *orgd.Principal {
	p, _ := ctx.Value(principalKey{}).(*orgd.Principal)
	return p
}

// Refusal is answer, a surface's reply to credentials that do not work,
// carrying the reason err gives (an expired JWT, an unknown key id) for the
// access log. The caller sees answer alone.
func Refusal(answer *orgd.Error, err error) *orgd.Error {
	e := *answer
	e.Err = orgd.AsError(err).Err
	return &e
}

// Credential returns the credential of an `Authorization: <scheme> <value>`
// header whose scheme is one of schemes (compared case-insensitively).
func Credential(r *http.Request, schemes ...string) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, value, ok := strings.Cut(h, " ")
	if !ok {
		return "", false
	}
	for _, s := range schemes {
		if strings.EqualFold(scheme, s) {
			value = strings.TrimSpace(value)
			return value, value != ""
		}
	}
	return "", false
}
