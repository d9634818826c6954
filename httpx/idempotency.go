package httpx

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/orgd/orgd"
)

const (
	// IdempotencyKeyHeader carries the key that makes a POST safe to retry.
	IdempotencyKeyHeader = "Idempotency-Key"
	// ReplayedHeader marks an answer stored for an earlier request with the
	// same key.
	ReplayedHeader = "Idempotent-Replayed"
	// maxIdempotencyKey is the longest key accepted.
	maxIdempotencyKey = 255
)

// Idempotency makes the POST operations of a surface safe to retry with an
// Idempotency-Key (docs/idempotency.md): the first request with a key runs
// and its answer is stored with its changes, in one transaction; a retry
// with the same key and request gets that answer again and changes nothing.
type Idempotency struct {
	svc          *orgd.Service
	log          *slog.Logger
	writeErr     ErrorWriter
	maxBodyBytes int64
}

// NewIdempotency returns the idempotency of a surface that writes its
// errors with writeErr and reads bodies of at most maxBodyBytes.
func NewIdempotency(svc *orgd.Service, log *slog.Logger, writeErr ErrorWriter, maxBodyBytes int64) *Idempotency {
	if maxBodyBytes <= 0 {
		maxBodyBytes = 1 << 20
	}
	return &Idempotency{svc: svc, log: log, writeErr: writeErr, maxBodyBytes: maxBodyBytes}
}

// Wrap returns the handler of an operation: h itself for methods other
// than POST, which are idempotent already; for POST, h behind the key. The
// returned handler must run after authentication, since keys are kept per
// user.
func (i *Idempotency) Wrap(method string, h HandlerFunc) HandlerFunc {
	if method != http.MethodPost {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) error { return i.serve(w, r, h) }
}

func (i *Idempotency) serve(w http.ResponseWriter, r *http.Request, h HandlerFunc) error {
	values := r.Header.Values(IdempotencyKeyHeader)
	if len(values) == 0 {
		return h(w, r)
	}
	key, err := parseIdempotencyKey(values)
	if err != nil {
		return err
	}
	body, err := ReadBody(w, r, i.maxBodyBytes)
	if err != nil {
		return err
	}
	stored, replayed, err := i.svc.Idempotent(r.Context(), PrincipalFrom(r.Context()), key, fingerprint(r, body),
		func(ctx context.Context) ([]byte, bool) {
			rec := &recorder{header: http.Header{}}
			req := r.WithContext(ctx)
			req.Body = io.NopCloser(bytes.NewReader(body))
			if err := call(h, rec, req); err != nil {
				WriteError(i.log, i.writeErr, rec, req, err)
			}
			return rec.answer()
		})
	if err != nil {
		return err
	}
	var a answer
	if err := json.Unmarshal(stored, &a); err != nil {
		return orgd.Internal("decode the stored answer", err)
	}
	if replayed {
		w.Header().Set(ReplayedHeader, "true")
		AddLogAttrs(r.Context(), slog.Bool("idempotent_replayed", true))
	}
	for name, v := range a.Header {
		w.Header()[name] = v
	}
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body)
	return nil
}

// parseIdempotencyKey reads the one Idempotency-Key of a request: 1 to 255
// printable ASCII characters, bare (as Stripe's clients send it) or as the
// structured-field string the IETF draft specifies ("..." with \" and \\
// escapes), which stands for the same key.
func parseIdempotencyKey(values []string) (string, error) {
	if len(values) > 1 {
		return "", badIdempotencyKey("Send one Idempotency-Key header, not several.")
	}
	key := values[0]
	if inner, quoted := strings.CutPrefix(key, `"`); quoted {
		var ok bool
		if key, ok = unquote(inner); !ok {
			return "", badIdempotencyKey(`A quoted Idempotency-Key must end with its one closing quote, and a backslash may only escape " or \.`)
		}
	}
	if key == "" || len(key) > maxIdempotencyKey {
		return "", badIdempotencyKey("The Idempotency-Key must be 1 to 255 characters long; a UUID is a good key.")
	}
	for j := 0; j < len(key); j++ {
		if key[j] < 0x20 || key[j] > 0x7e {
			return "", badIdempotencyKey("The Idempotency-Key must be printable ASCII characters; a UUID is a good key.")
		}
	}
	return key, nil
}

// unquote reads an RFC 8941 string after its opening quote.
func unquote(s string) (string, bool) {
	var b strings.Builder
	for j := 0; j < len(s); j++ {
		switch c := s[j]; c {
		case '"':
			return b.String(), j == len(s)-1
		case '\\':
			j++
			if j == len(s) || s[j] != '"' && s[j] != '\\' {
				return "", false
			}
			b.WriteByte(s[j])
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

func badIdempotencyKey(msg string) error {
	return &orgd.Error{Kind: orgd.KindInvalid, Code: orgd.CodeIdempotencyKey, Field: "header." + IdempotencyKeyHeader, Message: msg}
}

// fingerprint identifies a request for its key: the method, the path and
// query as sent, and the body.
func fingerprint(r *http.Request, body []byte) string {
	h := sha256.New()
	io.WriteString(h, r.Method+" "+r.URL.RequestURI()+"\n")
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// answer is a response as it is stored: the status, the headers the
// handler set (Content-Type, x-cloud-error-codes, ...; not those of the
// server around it, such as X-Request-Id) and the body.
type answer struct {
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// recorder keeps what a handler writes.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// answer encodes what was written, and whether it is kept: an answer that
// asks the client to come back (5xx, or any with Retry-After, such as a
// rate limit or a cooldown) is not, so that a retry with the key runs again.
func (r *recorder) answer() ([]byte, bool) {
	r.WriteHeader(http.StatusOK)
	b, err := json.Marshal(answer{Status: r.status, Header: r.header, Body: r.body.Bytes()})
	if err != nil {
		panic(err) // plain data always encodes
	}
	return b, r.status < 500 && r.header.Get("Retry-After") == ""
}
