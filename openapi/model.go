package openapi

import "bytes"

// The types below are the part of the OpenAPI 3.1 object model that orgd's
// document uses. They marshal in the specification's field order, and
// object properties in the order of the Go fields they come from, so that
// the document reads well and its bytes are stable.

// Document is an OpenAPI document.
type Document struct {
	OpenAPI    string               `json:"openapi"`
	Info       Info                 `json:"info"`
	Tags       []Tag                `json:"tags"`
	Paths      map[string]*PathItem `json:"paths"`
	Components Components           `json:"components"`
}

// Info describes the API.
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description"`
}

// Tag groups operations: one per surface.
type Tag struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// PathItem holds the operations of one path.
type PathItem struct {
	Get    *Operation `json:"get,omitempty"`
	Put    *Operation `json:"put,omitempty"`
	Post   *Operation `json:"post,omitempty"`
	Delete *Operation `json:"delete,omitempty"`
	Patch  *Operation `json:"patch,omitempty"`
}

// slot returns where the operation of method goes.
func (p *PathItem) slot(method string) **Operation {
	switch method {
	case "GET":
		return &p.Get
	case "PUT":
		return &p.Put
	case "POST":
		return &p.Post
	case "DELETE":
		return &p.Delete
	case "PATCH":
		return &p.Patch
	}
	return nil
}

// Operation is one method on one path.
type Operation struct {
	Tags        []string             `json:"tags"`
	Summary     string               `json:"summary"`
	Description string               `json:"description,omitempty"`
	OperationID string               `json:"operationId"`
	Parameters  []*Parameter         `json:"parameters,omitempty"`
	RequestBody *RequestBody         `json:"requestBody,omitempty"`
	Responses   map[string]*Response `json:"responses"`
	// Security lists the accepted credentials, any one of which will do;
	// empty (not absent) for an operation anyone may call.
	Security []map[string][]string `json:"security"`
}

// Parameter is a path or query parameter.
type Parameter struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Style       string  `json:"style,omitempty"`
	Explode     *bool   `json:"explode,omitempty"`
	Schema      *Schema `json:"schema"`
}

// RequestBody is the body of a request.
type RequestBody struct {
	Description string                `json:"description,omitempty"`
	Required    bool                  `json:"required"`
	Content     map[string]*MediaType `json:"content"`
}

// MediaType is the schema of a body of one media type; none for a page.
type MediaType struct {
	Schema *Schema `json:"schema,omitempty"`
}

// Response is one answer of an operation, or a reference to a shared one
// (whose description it may replace).
type Response struct {
	Ref         string                `json:"$ref,omitempty"`
	Description string                `json:"description"`
	Headers     map[string]*Header    `json:"headers,omitempty"`
	Content     map[string]*MediaType `json:"content,omitempty"`
}

// Header is a response header, or a reference to a shared one.
type Header struct {
	Ref         string  `json:"$ref,omitempty"`
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Schema      *Schema `json:"schema,omitempty"`
}

// Components holds what operations refer to.
type Components struct {
	Schemas         map[string]*Schema         `json:"schemas"`
	Responses       map[string]*Response       `json:"responses"`
	Headers         map[string]*Header         `json:"headers"`
	SecuritySchemes map[string]*SecurityScheme `json:"securitySchemes"`
}

// SecurityScheme is a kind of credential.
type SecurityScheme struct {
	Type        string `json:"type"`
	Description string `json:"description"`
	Name        string `json:"name,omitempty"`
	In          string `json:"in,omitempty"`
	Scheme      string `json:"scheme,omitempty"`
}

// Schema is a JSON Schema (2020-12, as OpenAPI 3.1 has it).
type Schema struct {
	Ref         string `json:"$ref,omitempty"`
	Description string `json:"description,omitempty"`
	// Type is a string, or a list of them for a nullable value
	// (["string", "null"]).
	Type                 any         `json:"type,omitempty"`
	Format               string      `json:"format,omitempty"`
	Enum                 []any       `json:"enum,omitempty"`
	Const                any         `json:"const,omitempty"`
	Default              any         `json:"default,omitempty"`
	Minimum              *int        `json:"minimum,omitempty"`
	Maximum              *int        `json:"maximum,omitempty"`
	MinLength            *int        `json:"minLength,omitempty"`
	Items                *Schema     `json:"items,omitempty"`
	Required             []string    `json:"required,omitempty"`
	Properties           *Properties `json:"properties,omitempty"`
	AdditionalProperties *Schema     `json:"additionalProperties,omitempty"`
	OneOf                []*Schema   `json:"oneOf,omitempty"`
	AllOf                []*Schema   `json:"allOf,omitempty"`
}

// Properties are the properties of an object schema, in order.
type Properties struct {
	Names  []string
	Values map[string]*Schema
}

// Add appends a property.
func (p *Properties) Add(name string, s *Schema) {
	if p.Values == nil {
		p.Values = map[string]*Schema{}
	}
	p.Names = append(p.Names, name)
	p.Values[name] = s
}

// MarshalJSON writes the properties in order.
func (p *Properties) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, name := range p.Names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(name, "")
		if err != nil {
			return nil, err
		}
		v, err := marshal(p.Values[name], "")
		if err != nil {
			return nil, err
		}
		b.Write(bytes.TrimSpace(k))
		b.WriteByte(':')
		b.Write(bytes.TrimSpace(v))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// nullable returns s with null allowed too.
func nullable(s *Schema) *Schema {
	if s.Ref != "" {
		return &Schema{OneOf: []*Schema{s, {Type: "null"}}}
	}
	out := *s
	if len(s.Enum) > 0 {
		out.Enum = append(append([]any{}, s.Enum...), nil)
	}
	switch t := s.Type.(type) {
	case string:
		out.Type = []string{t, "null"}
	case []string:
		out.Type = append(append([]string{}, t...), "null")
	}
	return &out
}

func ref(name string) *Schema { return &Schema{Ref: "#/components/schemas/" + name} }
