package httpx

import (
	"net/http"
	"strings"
	"testing"

	"github.com/orgd/orgd"
)

func TestParseIdempotencyKey(t *testing.T) {
	for _, tc := range []struct {
		values []string
		want   string // "" for refused
	}{
		{[]string{"8e03978e-40d5-43e8-bc93-6894a57f9324"}, "8e03978e-40d5-43e8-bc93-6894a57f9324"},
		{[]string{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`}, "8e03978e-40d5-43e8-bc93-6894a57f9324"},
		{[]string{`"say \"hi\" \\ bye"`}, `say "hi" \ bye`},
		{[]string{`a"b`}, `a"b`},
		{[]string{"with space"}, "with space"},
		{[]string{strings.Repeat("k", 255)}, strings.Repeat("k", 255)},
		{[]string{""}, ""},
		{[]string{`""`}, ""},
		{[]string{strings.Repeat("k", 256)}, ""},
		{[]string{"café"}, ""},
		{[]string{"a\x7fb"}, ""},
		{[]string{`"open`}, ""},
		{[]string{`"a"b"`}, ""},
		{[]string{`"a\b"`}, ""},
		{[]string{`"a\"`}, ""},
		{[]string{"a", "b"}, ""},
	} {
		got, err := parseIdempotencyKey(tc.values)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("parseIdempotencyKey(%q) = %q, %v; want %q", tc.values, got, err, tc.want)
		}
		if err != nil && orgd.ErrorCode(err) != orgd.CodeIdempotencyKey {
			t.Errorf("parseIdempotencyKey(%q): code %s", tc.values, orgd.ErrorCode(err))
		}
	}
}

func TestRecorderKeepsFinalAnswers(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter string
		keep       bool
	}{
		{http.StatusCreated, "", true},
		{http.StatusNotFound, "", true},
		{http.StatusTooManyRequests, "30", false},
		{http.StatusBadRequest, "12", false},
		{http.StatusInternalServerError, "", false},
		{http.StatusServiceUnavailable, "", false},
	} {
		rec := &recorder{header: http.Header{}}
		if tc.retryAfter != "" {
			rec.Header().Set("Retry-After", tc.retryAfter)
		}
		rec.WriteHeader(tc.status)
		if _, keep := rec.answer(); keep != tc.keep {
			t.Errorf("status %d, Retry-After %q: kept %v, want %v", tc.status, tc.retryAfter, keep, tc.keep)
		}
	}
}
