// Package openapi makes orgd's OpenAPI 3.1 document from the route tables
// of both API surfaces, serves it at GET /api/v1/openapi.json, and renders
// it for people at GET /api/v1/docs.
//
// The document is built, not written: every route of elastic.Routes and
// dreadnode.Routes becomes an operation, the schemas are derived by
// reflection from the wire types' json tags, and a table keyed by
// operationId (operations.go) names each operation's bodies, query
// parameters and error statuses. The test suites validate every answer
// they receive against the served document (internal/apitest), so neither
// the table nor the wire types can drift from what orgd answers.
package openapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/api/elastic"
	"github.com/orgd/orgd/httpx"
)

// Route is one route this package serves.
type Route struct {
	Method    string
	Path      string
	Operation string
	handler   func(h *Handler, w http.ResponseWriter, r *http.Request)
}

// Routes are the document and its page, which anyone may read.
var Routes = []Route{
	{"GET", "/api/v1/openapi.json", "get_openapi_document", (*Handler).serveJSON},
	{"GET", "/api/v1/docs", "get_api_docs", (*Handler).servePage},
}

// route is one route of a route table, as the document sees it.
type route struct {
	surface          *surface
	method, path, op string
	public           bool
	unauthenticated  *orgd.Error // the surface's answer without working credentials, where it has one per route
}

// routes lists every route of every route table, in table order.
func routes() []route {
	var out []route
	for _, r := range elastic.Routes {
		out = append(out, route{surface: elasticSurface, method: r.Method, path: r.Path, op: r.Operation, unauthenticated: r.Unauthenticated})
	}
	for _, r := range dreadnode.Routes {
		out = append(out, route{surface: slugSurface, method: r.Method, path: r.Path, op: r.Operation, public: r.Public})
	}
	for _, r := range Routes {
		out = append(out, route{surface: docsSurface, method: r.Method, path: r.Path, op: r.Operation, public: true})
	}
	return out
}

// surface is what the operations of one route table share.
type surface struct {
	tag      Tag
	security []map[string][]string
	// commonErrors are the error statuses, with their codes, that every
	// operation like op of the surface may answer.
	commonErrors func(r route, op operation) codes
	// errorResponse describes the answers with status, which carry codes.
	errorResponse func(status int, codes []string) *Response
}

var elasticSurface = &surface{
	tag: Tag{Name: "Elastic", Description: "The Elastic Cloud Organizations API, as Elastic's clients (cloud-sdk-go, the ec Terraform " +
		"provider) expect it. Errors are a BasicFailedReply with the x-cloud-error-codes header. See docs/elastic-compatibility.md."},
	security: []map[string][]string{{"apiKey": {}}, {"bearer": {}}},
	commonErrors: func(r route, op operation) codes {
		// A path or query with text no id or filter takes (httpx.CheckText).
		c := codes{400: {orgd.CodeInvalidData}, 429: {orgd.CodeTooManyFailures}, 500: {orgd.CodeInternal}}
		idempotencyErrors(r, c)
		if u := r.unauthenticated; u != nil {
			c.add(httpx.Status(u), u.Code)
			c.add(http.StatusForbidden, signInRefusals...)
		}
		if op.body != nil {
			c.add(http.StatusRequestEntityTooLarge, orgd.CodeBodyTooLarge)
		}
		return c
	},
	errorResponse: func(status int, cs []string) *Response {
		h := map[string]*Header{
			"x-cloud-error-codes": {Description: "The error codes associated with the response", Required: true,
				Schema: &Schema{Type: "string", Enum: enum(cs...)}},
			"X-Request-Id": headerRef("X-Request-Id"),
		}
		if status == http.StatusTooManyRequests {
			h["Retry-After"] = headerRef("Retry-After")
		}
		return &Response{Description: http.StatusText(status) + ". " + codeList("Codes", cs), Headers: h,
			Content: jsonContent(ref("BasicFailedReply"))}
	},
}

var slugSurface = &surface{
	tag: Tag{Name: "Slug", Description: "The slug API of the Dreadnode platform: organizations by their key (slug), invitations by id. " +
		"Errors are the canonical envelope. See docs/slug-api.md."},
	security: []map[string][]string{{"bearer": {}}, {"xApiKey": {}}, {"apiKey": {}}},
	commonErrors: func(r route, op operation) codes {
		// A path or query with text no id or filter takes (httpx.CheckText).
		c := codes{422: {"value_error"}, 500: {orgd.CodeInternal}}
		idempotencyErrors(r, c)
		if !r.public {
			c.add(http.StatusUnauthorized, orgd.CodeUnauthorized)
			c.add(http.StatusForbidden, signInRefusals...)
			c.add(http.StatusTooManyRequests, orgd.CodeTooManyFailures)
		}
		if op.body != nil {
			c.add(http.StatusRequestEntityTooLarge, orgd.CodeBodyTooLarge)
			c.add(http.StatusUnprocessableEntity, "json_invalid", "model_attributes_type")
		}
		return c
	},
	errorResponse: func(status int, cs []string) *Response {
		return &Response{Ref: "#/components/responses/" + slugErrorName(status),
			Description: slugPhrase(status) + ". " + codeList("Error types", cs)}
	},
}

var docsSurface = &surface{
	tag:           Tag{Name: "Documentation", Description: "This document, for programs and for people."},
	commonErrors:  func(route, operation) codes { return nil },
	errorResponse: slugSurface.errorResponse,
}

// idempotencyErrors adds the answers of the Idempotency-Key to a POST route:
// a malformed key, a key still in use, a key reused for another request.
func idempotencyErrors(r route, c codes) {
	if r.method != http.MethodPost {
		return
	}
	c.add(http.StatusBadRequest, orgd.CodeIdempotencyKey)
	c.add(http.StatusConflict, orgd.CodeIdempotencyInUse)
	c.add(http.StatusUnprocessableEntity, orgd.CodeIdempotencyReused)
}

// idempotencyKey is the header parameter of every POST (docs/idempotency.md).
var idempotencyKey = &Parameter{Name: "Idempotency-Key", In: "header",
	Description: "Makes a retry safe: the same key with the same request answers the first answer again and changes nothing " +
		"(with Idempotent-Replayed: true); with another request it is a 422; while the first still runs, a 409. " +
		"1 to 255 printable ASCII characters, kept per user for ORGD_IDEMPOTENCY_TTL.",
	Schema: &Schema{Type: "string"}}

// signInRefusals are the answers to a JWT whose user cannot be signed in.
var signInRefusals = []string{orgd.CodeEmailMissing, orgd.CodeEmailUnverified, orgd.CodeIdentityConflict}

func (c codes) add(status int, cs ...string) { c[status] = append(c[status], cs...) }

func codeList(what string, cs []string) string {
	q := make([]string, len(cs))
	for i, c := range cs {
		q[i] = "`" + c + "`"
	}
	return what + ": " + strings.Join(q, ", ") + "."
}

// slugPhrases name the slug surface's error answers as Dreadnode does.
var slugPhrases = map[int]string{
	400: "Invalid request", 401: "Authentication failed", 403: "Access forbidden", 404: "Not found",
	409: "Already exists", 422: "Validation error",
}

func slugPhrase(status int) string { return cmp.Or(slugPhrases[status], http.StatusText(status)) }

func slugErrorName(status int) string { return "SlugError" + strconv.Itoa(status) }

// slugErrorResponses are the slug surface's error answers, one per status,
// each with the envelope's code and type fixed to the status's.
func slugErrorResponses() map[string]*Response {
	out := map[string]*Response{}
	for status, typ := range dreadnode.ErrorTypes() {
		h := map[string]*Header{"X-Request-Id": headerRef("X-Request-Id")}
		switch status {
		case http.StatusUnauthorized:
			h["WWW-Authenticate"] = &Header{Required: true, Schema: &Schema{Type: "string", Const: `Bearer realm="orgd"`}}
		case http.StatusTooManyRequests:
			h["Retry-After"] = headerRef("Retry-After")
		}
		body := &Schema{AllOf: []*Schema{ref("SlugErrorEnvelope"), {Properties: props(
			"code", &Schema{Const: status},
			"type", &Schema{Const: typ},
		)}}}
		out[slugErrorName(status)] = &Response{Description: slugPhrase(status), Headers: h, Content: jsonContent(body)}
	}
	return out
}

func props(kv ...any) *Properties {
	p := &Properties{}
	for i := 0; i < len(kv); i += 2 {
		p.Add(kv[i].(string), kv[i+1].(*Schema))
	}
	return p
}

func headerRef(name string) *Header { return &Header{Ref: "#/components/headers/" + name} }

func jsonContent(s *Schema) map[string]*MediaType {
	return map[string]*MediaType{"application/json": {Schema: s}}
}

var sharedHeaders = map[string]*Header{
	"X-Request-Id": {Description: "The id of the request, as orgd logs it: the request's own X-Request-Id when it is well formed.",
		Required: true, Schema: &Schema{Type: "string"}},
	"Retry-After": {Description: "Seconds to wait before trying again, when waiting helps.", Schema: &Schema{Type: "integer"}},
	"Idempotent-Replayed": {Description: "true when the answer is the stored answer to an earlier request with the same Idempotency-Key.",
		Schema: &Schema{Type: "string", Enum: enum("true")}},
}

var securitySchemes = map[string]*SecurityScheme{
	"apiKey": {Type: "apiKey", In: "header", Name: "Authorization",
		Description: "`Authorization: ApiKey <key>`, Elastic's scheme; both surfaces accept it."},
	"bearer": {Type: "http", Scheme: "bearer", Description: "`Authorization: Bearer <credential>`: an API key, or a JWT of the configured OpenID Connect issuer."},
	"xApiKey": {Type: "apiKey", In: "header", Name: "X-API-Key",
		Description: "`X-API-Key: <key>`, as Dreadnode's SDK sends it (the slug surface)."},
}

// builder assembles the document.
type builder struct {
	schemas *schemas
	text    *elasticText
}

// Build returns orgd's OpenAPI document. It is complete even when the
// operation table is not; problems lists what is missing or wrong.
func Build() (doc *Document, problems []error) {
	text, err := loadElasticText()
	if err != nil {
		panic(fmt.Sprintf("openapi: elastic.json: %v", err)) // embedded; checked by the tests
	}
	b := &builder{schemas: newSchemas(), text: text}
	doc = &Document{
		OpenAPI: "3.1.0",
		Info: Info{Title: "orgd", Version: "1", Description: "orgd serves organizations, members and invitations through two APIs " +
			"over one core: the Elastic Cloud Organizations API and the slug API of the Dreadnode platform. " +
			"This document is generated from orgd's route tables and wire types (docs/openapi.md)."},
		Tags:  []Tag{elasticSurface.tag, slugSurface.tag, docsSurface.tag},
		Paths: map[string]*PathItem{},
	}
	seen := map[string]bool{}
	for _, r := range routes() {
		op, ok := operations[r.op]
		if !ok {
			problems = append(problems, fmt.Errorf("%s %s: the operation %s has no entry in openapi/operations.go", r.method, r.path, r.op))
		}
		if seen[r.op] {
			problems = append(problems, fmt.Errorf("%s %s: the operationId %s is taken", r.method, r.path, r.op))
		}
		seen[r.op] = true
		item := doc.Paths[r.path]
		if item == nil {
			item = &PathItem{}
			doc.Paths[r.path] = item
		}
		slot := item.slot(r.method)
		if slot == nil {
			problems = append(problems, fmt.Errorf("%s %s: the method is not described", r.method, r.path))
			continue
		}
		*slot = b.operation(r, op)
	}
	for id := range operations {
		if !seen[id] {
			problems = append(problems, fmt.Errorf("openapi/operations.go: %s is the operation of no route", id))
		}
	}
	// The envelopes are the schemas of every error answer.
	b.schemas.schema(reflect.TypeFor[elastic.BasicFailedReply](), inResponse)
	b.schemas.schema(reflect.TypeFor[dreadnode.ErrorEnvelope](), inResponse)
	doc.Components = Components{
		Schemas:         b.schemas.components(text),
		Responses:       slugErrorResponses(),
		Headers:         sharedHeaders,
		SecuritySchemes: securitySchemes,
	}
	return doc, problems
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

func (b *builder) operation(r route, op operation) *Operation {
	et := b.text.Operations[r.op]
	o := &Operation{
		Tags: []string{r.surface.tag.Name}, Summary: cmp.Or(op.summary, et.Summary, r.op), OperationID: r.op,
		Description: strings.TrimSpace(et.Description + "\n\n" + op.description), Security: r.surface.security,
	}
	if r.public {
		o.Security = []map[string][]string{}
	}
	for _, m := range pathParam.FindAllStringSubmatch(r.path, -1) {
		p := &Parameter{Name: m[1], In: "path", Required: true, Description: cmp.Or(et.Parameters[m[1]], pathDocs[m[1]]),
			Schema: &Schema{Type: "string"}}
		if csvParams[m[1]] {
			p.Schema = &Schema{Type: "array", Items: &Schema{Type: "string"}}
		}
		o.Parameters = append(o.Parameters, p)
	}
	for _, q := range op.query {
		p := *q
		p.Description = cmp.Or(p.Description, et.Parameters[p.Name])
		o.Parameters = append(o.Parameters, &p)
	}
	if r.method == http.MethodPost && r.surface != docsSurface {
		o.Parameters = append(o.Parameters, idempotencyKey)
	}
	if op.body != nil {
		o.RequestBody = &RequestBody{Description: et.Body, Required: !op.bodyOptional,
			Content: jsonContent(b.schemas.schema(reflect.TypeOf(op.body), inRequest))}
	}
	status := cmp.Or(op.status, http.StatusOK)
	o.Responses = map[string]*Response{strconv.Itoa(status): b.success(op, et, status)}
	if r.method == http.MethodPost && r.surface != docsSurface {
		o.Responses[strconv.Itoa(status)].Headers["Idempotent-Replayed"] = headerRef("Idempotent-Replayed")
	}
	errs := r.surface.commonErrors(r, op)
	if errs == nil {
		errs = codes{}
	}
	for status, cs := range op.errors {
		errs.add(status, cs...)
	}
	for status, cs := range errs {
		slices.Sort(cs)
		o.Responses[strconv.Itoa(status)] = r.surface.errorResponse(status, slices.Compact(cs))
	}
	return o
}

func (b *builder) success(op operation, et elasticOperation, status int) *Response {
	out := &Response{Description: cmp.Or(et.Responses[strconv.Itoa(status)], "Successful Response"),
		Headers: map[string]*Header{"X-Request-Id": headerRef("X-Request-Id")}}
	switch a := op.answer.(type) {
	case nil:
	case media:
		out.Content = map[string]*MediaType{a.contentType: {Schema: a.schema}}
	case oneOf:
		s := &Schema{}
		for _, v := range a {
			s.OneOf = append(s.OneOf, b.schemas.schema(reflect.TypeOf(v), inResponse))
		}
		out.Content = jsonContent(s)
	default:
		out.Content = jsonContent(b.schemas.schema(reflect.TypeOf(a), inResponse))
	}
	return out
}

// JSON returns the document as orgd serves it.
func (d *Document) JSON() []byte {
	data, err := marshal(d, "  ")
	if err != nil {
		panic(fmt.Sprintf("openapi: marshal the document: %v", err)) // plain structs only
	}
	return data
}

// marshal writes v as JSON without escaping <, > and &, which the
// descriptions use and no HTML ever sees unescaped.
func marshal(v any, indent string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
