package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type listAnswer struct {
	Items []string `json:"items"`
}

func listOf(n int) call {
	return call{name: "list", method: http.MethodGet, path: "/list", want: http.StatusOK,
		check: decodeAs(func(v *listAnswer) error { return wantLen("items", len(v.Items), n) })}
}

func TestCheckAnswer(t *testing.T) {
	const jsonType = "application/json"
	tests := []struct {
		name        string
		k           call
		status      int
		contentType string
		body        string
		wantErr     string // "" for none
	}{
		{"the expected answer", listOf(2), 200, jsonType, `{"items":["a","b"]}`, ""},
		{"a charset parameter is fine", listOf(1), 200, jsonType + "; charset=utf-8", `{"items":["a"]}`, ""},
		{"another status", listOf(1), 409, jsonType, `{"errors":[{"code":"x"}]}`, `list: status 409, want 200: {"errors":[{"code":"x"}]}`},
		{"not JSON by its type", listOf(1), 200, "text/plain", `{"items":["a"]}`, `content type "text/plain"`},
		{"a body that does not parse", listOf(1), 200, jsonType, `{"items":[`, "not a valid"},
		{"a body of another shape", listOf(1), 200, jsonType, `{"items":{"a":1}}`, "not a valid"},
		{"the wrong length", listOf(3), 200, jsonType, `{"items":["a"]}`, "list: 1 items, want 3"},
		{"a member the answer type does not name", listOf(1), 200, jsonType, `{"items":["a"],"extra":1}`, "not a valid"},
		{"a name in another case", listOf(1), 200, jsonType, `{"Items":["a"]}`, "not a valid"},
		{"a member twice", listOf(1), 200, jsonType, `{"items":["a"],"items":["b"]}`, "not a valid"},
		{"no check: any JSON", call{name: "any", want: 200}, 200, jsonType, `{}`, ""},
		{"no check: still JSON", call{name: "any", want: 200}, 200, jsonType, `nope`, "not JSON"},
		{"a long body is cut", listOf(1), 500, jsonType, `"` + strings.Repeat("x", 500) + `"`, "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkAnswer(tt.k, tt.status, tt.contentType, []byte(tt.body))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNonEmpty(t *testing.T) {
	if err := nonEmpty("token", "t", "email", "e"); err != nil {
		t.Errorf("nonEmpty with every field set: %v", err)
	}
	if err := nonEmpty("token", "t", "email", ""); err == nil || err.Error() != "email is empty" {
		t.Errorf("nonEmpty with an empty email: %v, want email is empty", err)
	}
}

// The client sends the method, path, body and credentials of a call and
// judges the real answer.
func TestClientDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "ApiKey k" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[]}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"items":["%s %s"]}`, r.Method, r.URL.Path)
	}))
	defer srv.Close()
	c := newClient(srv.URL, 2)
	defer c.close()
	var got string
	k := call{name: "create", method: http.MethodPost, path: "/things", body: []byte(`{}`), auth: "ApiKey k", want: http.StatusCreated,
		check: decodeAs(func(v *listAnswer) error { got = v.Items[0]; return nil })}
	if kind, err := c.do(context.Background(), k); err != nil || got != "POST /things" || kind != "create" {
		t.Errorf("do: kind %q, %v, answer %q; want create, no error, POST /things", kind, err, got)
	}
	k.auth = "ApiKey other"
	if kind, err := c.do(context.Background(), k); err == nil || !strings.Contains(err.Error(), "status 401, want 201") || kind != "create" {
		t.Errorf("do with a bad key: kind %q, %v; want create, status 401, want 201", kind, err)
	}
}
