package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// client sends requests to one server over keep-alive connections.
type client struct {
	base string
	hc   *http.Client
}

// newClient returns a client for base whose pool keeps a connection for
// every concurrent client, so no request waits for a connection to be dialled.
func newClient(base string, clients int) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * clients,
		MaxIdleConnsPerHost: 2 * clients,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &client{base: base, hc: &http.Client{Transport: tr, Timeout: 10 * time.Minute}}
}

func (c *client) close() { c.hc.CloseIdleConnections() }

// call is one request and what its answer must be.
type call struct {
	name   string // the operation, for error messages: paths hold ids
	method string
	path   string
	body   []byte // JSON, or nil
	auth   string // the Authorization header, or ""
	want   int    // the expected status
	check  func(body []byte) error
}

// do sends k and checks the answer: the status, a JSON content type and a
// body that check accepts. It returns k's name, the kind of request sent,
// for the run to count.
func (c *client) do(ctx context.Context, k call) (kind string, err error) {
	var body io.Reader
	if k.body != nil {
		body = bytes.NewReader(k.body)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, c.base+k.path, body)
	if err != nil {
		return k.name, fmt.Errorf("%s: %w", k.name, err)
	}
	if k.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if k.auth != "" {
		req.Header.Set("Authorization", k.auth)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return k.name, fmt.Errorf("%s: %w", k.name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return k.name, fmt.Errorf("%s: read the answer: %w", k.name, err)
	}
	return k.name, checkAnswer(k, resp.StatusCode, resp.Header.Get("Content-Type"), data)
}

// cursorAfter walks the list of k (a GET without a query) in pages of up
// to 1000 and returns the cursor of the page that starts after skip items,
// from the X-Next-Cursor header both surfaces send.
func (c *client) cursorAfter(ctx context.Context, k call, skip int) (string, error) {
	cursor := ""
	for done := 0; done < skip; {
		n := min(1000, skip-done)
		q := fmt.Sprintf("?limit=%d", n)
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+k.path+q, nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", k.auth)
		resp, err := c.hc.Do(req)
		if err != nil {
			return "", fmt.Errorf("%s: %w", k.name, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s: status %d while paging", k.name, resp.StatusCode)
		}
		cursor = resp.Header.Get("X-Next-Cursor")
		if cursor == "" {
			return "", fmt.Errorf("%s: the list ended after %d items, before %d", k.name, done+n, skip)
		}
		done += n
	}
	return cursor, nil
}

// checkAnswer judges one answer to k.
func checkAnswer(k call, status int, contentType string, body []byte) error {
	if status != k.want {
		return fmt.Errorf("%s: status %d, want %d: %s", k.name, status, k.want, snippet(body))
	}
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
		return fmt.Errorf("%s: content type %q, want application/json", k.name, contentType)
	}
	if k.check == nil {
		if !json.Valid(body) {
			return fmt.Errorf("%s: the body is not JSON: %s", k.name, snippet(body))
		}
		return nil
	}
	if err := k.check(body); err != nil {
		return fmt.Errorf("%s: %w", k.name, err)
	}
	return nil
}

// snippet shortens a body for an error message.
func snippet(body []byte) string {
	const most = 160
	body = bytes.TrimSpace(body)
	if len(body) > most {
		return string(body[:most]) + "..."
	}
	return string(body)
}

// decodeAs returns a check that decodes the body into a T and then runs
// valid on it. The body must be exactly a T: valid UTF-8, no member
// twice, none that T does not name (names match exactly, not ignoring
// case as encoding/json does). It decodes with encoding/json/v2's
// implementation (github.com/go-json-experiment/json), about three times
// faster than encoding/json for a page of invitations: the generator shares
// the machine with orgd, and every answer is decoded.
func decodeAs[T any](valid func(*T) error) func([]byte) error {
	return func(body []byte) error {
		var v T
		if err := jsonv2.Unmarshal(body, &v, jsonv2.RejectUnknownMembers(true)); err != nil {
			return fmt.Errorf("the body is not a valid %T: %v: %s", v, err, snippet(body))
		}
		if valid == nil {
			return nil
		}
		return valid(&v)
	}
}

// wantLen checks the length of a list in an answer.
func wantLen(what string, got, want int) error {
	if got != want {
		return fmt.Errorf("%d %s, want %d", got, what, want)
	}
	return nil
}

// wantSame checks a field of an answer.
func wantSame(what, got, want string) error {
	if got != want {
		return fmt.Errorf("%s %q, want %q", what, got, want)
	}
	return nil
}

// nonEmpty checks that fields of an answer that must be set are set.
func nonEmpty(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			return fmt.Errorf("%s is empty", fields[i])
		}
	}
	return nil
}

// jsonBody encodes v for a request body.
func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain values are sent
	}
	return b
}
