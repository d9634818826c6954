package httpx_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/httpx"
)

// FuzzSplitCSV checks the items of a CSV path value: never empty, never
// with surrounding spaces or a comma, in order, and split again the same.
func FuzzSplitCSV(f *testing.F) {
	for _, s := range []string{
		"", ",", ",,", " , ", "a", "a,b", " a , b ", "a,,b", ",a,", "tok1%2Ctok2", "a\t,\nb", "\u00a0a\u00a0,b",
		"a b,c", "a,\u2028,b", "\xff,\xfe", strings.Repeat("x,", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		items := httpx.SplitCSV(s)
		for _, it := range items {
			if it == "" || it != strings.TrimSpace(it) || strings.Contains(it, ",") {
				t.Fatalf("SplitCSV(%q) = %q: item %q", s, items, it)
			}
			if !strings.Contains(s, it) {
				t.Fatalf("SplitCSV(%q) = %q: item %q is not in the input", s, items, it)
			}
		}
		if again := httpx.SplitCSV(strings.Join(items, ",")); !slices.Equal(again, items) {
			t.Errorf("SplitCSV(%q) = %q, but joined and split again %q", s, items, again)
		}
	})
}

// invitationBody is a request body with fields of several JSON types, like
// the Elastic create-invitations body.
type invitationBody struct {
	Emails    []string          `json:"emails"`
	ExpiresIn *string           `json:"expires_in"`
	Roles     map[string][]bool `json:"role_assignments"`
	Count     int               `json:"count"`
}

// FuzzDecodeJSON checks that DecodeJSON accepts exactly one JSON value
// (surrounded by white space at most) that encoding/json can decode into
// the destination, decodes it as encoding/json does, and refuses anything
// else with an orgd error.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		``, ` `, `{}`, `null`, `[]`, `{"emails":["a@b.co"]}`, `{"emails":"a@b.co"}`, `{"emails":[1]}`,
		`{"count":1.5}`, `{"count":1e400}`, `{"role_assignments":{"x":[true,null]}}`, `{} {}`,
		`{} x`, `{"emails":["a"]`, `{"a":"\ud800"}`, "{\"a\":\"\xff\"}", `"str"`, `1`, "\ufeff{}", `{"emails":null}`,
		strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001),
	} {
		f.Add([]byte(s))
	}
	const max = 4096
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []func() any{func() any { return new(any) }, func() any { return new(invitationBody) }} {
			got := dst()
			r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
			err := httpx.DecodeJSON(httptest.NewRecorder(), r, got, max, false)
			want := dst()
			wantErr := json.Unmarshal(body, want)
			switch {
			case len(body) > max:
				if orgd.ErrorCode(err) != orgd.CodeBodyTooLarge {
					t.Fatalf("DecodeJSON of %d bytes: %v, want %s", len(body), err, orgd.CodeBodyTooLarge)
				}
			case len(bytes.TrimSpace(body)) == 0 || wantErr != nil:
				if err == nil {
					t.Fatalf("DecodeJSON(%q) into %T = %v, but encoding/json refuses it (%v)", body, got, got, wantErr)
				}
				if e := orgd.AsError(err); e.Kind != orgd.KindInvalid || e.Code != orgd.CodeInvalidData || e.Message == "" {
					t.Fatalf("DecodeJSON(%q): %#v, want an invalid %s", body, e, orgd.CodeInvalidData)
				}
			default:
				if err != nil {
					t.Fatalf("DecodeJSON(%q) into %T: %v, but encoding/json decodes it", body, got, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("DecodeJSON(%q) = %#v, encoding/json %#v", body, got, want)
				}
			}
		}
	})
}
