package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/orgd/orgd/web"
)

// The contract: every answer a test receives from the APIs through the
// server's client (Request, Send, the Elastic SDK over HTTP.Transport) is
// validated against the OpenAPI document the server itself serves, with
// kin-openapi: its router finds the operation, then the status must be one
// the operation declares, and the declared headers and the body must match
// it. An answer to a path or method no operation has (404, 405) must be an
// error envelope of one of the two surfaces. The invitation page, whose
// answers are HTML for people, is left to its own tests. A mismatch fails
// the test that started the server.

// contract validates answers against one document.
type contract struct {
	router    routers.Router
	envelopes map[string]*openapi3.Schema // the error bodies of the surfaces, by schema name
}

// contracts holds the contract of each document seen, so that the many
// servers of a test binary, which all serve the same document, load it
// once.
var contracts = struct {
	sync.Mutex
	byDoc map[string]*contract
}{byDoc: map[string]*contract{}}

func loadContract(doc []byte) (*contract, error) {
	contracts.Lock()
	defer contracts.Unlock()
	if c, ok := contracts.byDoc[string(doc)]; ok {
		return c, nil
	}
	spec, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	router, err := legacy.NewRouter(spec) // validates the document
	if err != nil {
		return nil, err
	}
	c := &contract{router: router, envelopes: map[string]*openapi3.Schema{}}
	for _, name := range []string{elasticEnvelope, slugEnvelope} {
		s := spec.Components.Schemas[name]
		if s == nil || s.Value == nil {
			return nil, fmt.Errorf("the OpenAPI document has no schema %s", name)
		}
		c.envelopes[name] = s.Value
	}
	contracts.byDoc[string(doc)] = c
	return c, nil
}

const (
	elasticEnvelope = "BasicFailedReply"
	slugEnvelope    = "SlugErrorEnvelope"
)

// check validates the answer to req.
func (c *contract) check(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := c.router.FindRoute(req)
	// The router forgives a trailing slash that the document's paths, and
	// orgd's routes, do not have; and it matches an empty segment, "." or
	// ".." as a path parameter, where orgd serves no operation.
	if err != nil || strings.HasSuffix(req.URL.Path, "/") != strings.HasSuffix(route.Path, "/") ||
		strings.TrimSuffix(path.Clean(req.URL.Path), "/") != strings.TrimSuffix(req.URL.Path, "/") {
		return c.checkUnrouted(status, header, body)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("operation %s: %w", route.Operation.OperationID, err)
	}
	return nil
}

// checkUnrouted validates an answer to a request no operation matches: an
// error in the envelope of one of the surfaces, Elastic's with its header.
func (c *contract) checkUnrouted(status int, header http.Header, body []byte) error {
	if status < 400 {
		return fmt.Errorf("no operation matches the request, yet it succeeded")
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("no operation matches the request, and its answer is not JSON: %w", err)
	}
	var errs []error
	for name, s := range c.envelopes {
		err := s.VisitJSON(v, openapi3.EnableJSONSchema2020())
		if err == nil && name == elasticEnvelope && header.Get("x-cloud-error-codes") == "" {
			err = errors.New("no x-cloud-error-codes header")
		}
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("not a %s: %w", name, err))
	}
	return fmt.Errorf("no operation matches the request, and its answer is no error envelope: %w", errors.Join(errs...))
}

// checkingTransport validates every answer of the APIs, reporting
// mismatches to report.
type checkingTransport struct {
	base     http.RoundTripper
	contract *contract
	report   func(error)
}

func (t *checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || web.Serves(req.URL.Path) {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := t.contract.check(req, resp.StatusCode, resp.Header, body); err != nil {
		t.report(fmt.Errorf("%s %s: the answer %d breaks the OpenAPI document: %w\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, err, body))
	}
	return resp, nil
}

// checkAnswers makes client validate every answer of the APIs against the
// document that the server at url serves.
func checkAnswers(t interface{ Errorf(string, ...any) }, client *http.Client, url string) error {
	resp, err := client.Get(url + "/api/v1/openapi.json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	doc, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /api/v1/openapi.json: %d %s", resp.StatusCode, doc)
	}
	c, err := loadContract(doc)
	if err != nil {
		return err
	}
	client.Transport = &checkingTransport{base: client.Transport, contract: c, report: func(err error) { t.Errorf("%v", err) }}
	return nil
}
