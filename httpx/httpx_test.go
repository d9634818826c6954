package httpx_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orgd/orgd/httpx"
)

// A JSON answer says its length, so that a large one (a page of 100
// invitations) is not sent in chunks.
func TestWriteJSONSendsItsLength(t *testing.T) {
	big := map[string]string{"text": strings.Repeat("x", 64<<10)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusCreated, big)
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Errorf("Content-Length %d, Transfer-Encoding %v, body of %d bytes", resp.ContentLength, resp.TransferEncoding, len(body))
	}
	var got map[string]string
	if err := json.Unmarshal(body, &got); err != nil || got["text"] != big["text"] || !strings.HasSuffix(string(body), "}\n") {
		t.Errorf("body does not decode to what was written, or lacks its final newline: %v", err)
	}
}

// DecodeJSON refuses a body with a NUL in any string, and only such a
// body: an escaped backslash before u0000 is text, not an escape.
func TestDecodeJSONRefusesNUL(t *testing.T) {
	for _, body := range []string{
		`{"a":"\u0000"}`, `{"a":"x\u0000y"}`, `{"\u0000":1}`, `["\\\u0000"]`,
		`{"a":"\\u0000"}`, `{"a":"\\\\u0000"}`, `{"a":"\u00000"}`, `{"a":"\u0001"}`, `{"a":"plain"}`, `"\\"`,
	} {
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		want := strings.Contains(fmt.Sprint(v), "\x00")
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		err := httpx.DecodeJSON(httptest.NewRecorder(), r, new(any), 1<<20, false)
		if got := err != nil; got != want {
			t.Errorf("%s: error %v, want one: %v", body, err, want)
		}
		if err != nil && !strings.Contains(err.Error(), "NUL") {
			t.Errorf("%s: error %v does not name the NUL", body, err)
		}
	}
}
