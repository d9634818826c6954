package openapi

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// The page renders the document for people, on the server: each
// operation with its method, path, words, parameters, bodies and answers,
// then every schema. It needs no script and loads nothing: its one
// stylesheet is inline, allowed by its hash in the Content-Security-Policy.

//go:embed page.html
var pageTemplate string

//go:embed page.css
var pageCSS string

var pageTmpl = template.Must(template.New("page").Option("missingkey=error").Parse(pageTemplate))

// pageCSP is the Content-Security-Policy of the page.
var pageCSP = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}()

type pageData struct {
	Info    Info
	CSS     template.CSS
	Groups  []pageGroup
	Schemas []pageSchema
	Schemes []pageScheme
}

type pageGroup struct {
	Tag        Tag
	Operations []pageOperation
}

type pageOperation struct {
	ID, Method, Path, Summary string
	Description               prose
	Security                  []string // the schemes, any one of which will do; none for anyone
	Parameters                []pageField
	Body                      *pageBody
	Responses                 []pageResponse
}

type pageBody struct {
	Required    bool
	Description prose
	Type        typeText
}

type pageResponse struct {
	Status      string
	Description prose
	Headers     []string
	Type        typeText
	ContentType string
}

type pageSchema struct {
	Name        string
	Description prose
	Fields      []pageField
}

// pageField is a parameter or a property.
type pageField struct {
	Name, In    string
	Required    bool
	Type        typeText
	Values      []string // the values an enumeration allows
	Description prose
}

type pageScheme struct {
	Name        string
	Description prose
}

// typeText names a type in words, linking the schemas it names.
type typeText []textPart

// prose is text in which `quoted` parts are code.
type prose []textPart

type textPart struct {
	Text string
	Link string // the anchor of a schema
	Code bool
}

func proseOf(s string) prose {
	var out prose
	for i, part := range strings.Split(s, "`") {
		if part != "" {
			out = append(out, textPart{Text: part, Code: i%2 == 1})
		}
	}
	return out
}

// renderPage renders doc, whose operations it lists in route-table order.
func renderPage(doc *Document) ([]byte, error) {
	data := pageData{Info: doc.Info, CSS: template.CSS(pageCSS)}
	groups := map[string]*pageGroup{}
	for _, tag := range doc.Tags {
		data.Groups = append(data.Groups, pageGroup{Tag: tag})
	}
	for i := range data.Groups {
		groups[data.Groups[i].Tag.Name] = &data.Groups[i]
	}
	for _, r := range routes() {
		item := doc.Paths[r.path]
		if item == nil || *item.slot(r.method) == nil {
			continue
		}
		o := *item.slot(r.method)
		g := groups[o.Tags[0]]
		g.Operations = append(g.Operations, pageOp(doc, r, o))
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Components.Schemas)) {
		s := doc.Components.Schemas[name]
		ps := pageSchema{Name: name, Description: proseOf(s.Description)}
		if s.Properties != nil {
			for _, prop := range s.Properties.Names {
				ps.Fields = append(ps.Fields, field(prop, "", slices.Contains(s.Required, prop), s.Properties.Values[prop]))
			}
		}
		data.Schemas = append(data.Schemas, ps)
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Components.SecuritySchemes)) {
		data.Schemes = append(data.Schemes, pageScheme{Name: name, Description: proseOf(doc.Components.SecuritySchemes[name].Description)})
	}
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func pageOp(doc *Document, r route, o *Operation) pageOperation {
	out := pageOperation{ID: o.OperationID, Method: r.method, Path: r.path, Summary: o.Summary, Description: proseOf(o.Description)}
	for _, s := range o.Security {
		for name := range s {
			out.Security = append(out.Security, name)
		}
	}
	for _, p := range o.Parameters {
		out.Parameters = append(out.Parameters, field(p.Name, p.In, p.Required, p.Schema))
		if p.Description != "" {
			out.Parameters[len(out.Parameters)-1].Description = proseOf(p.Description)
		}
	}
	if b := o.RequestBody; b != nil {
		out.Body = &pageBody{Required: b.Required, Description: proseOf(b.Description), Type: typeOf(b.Content["application/json"].Schema)}
	}
	for _, status := range slices.Sorted(maps.Keys(o.Responses)) {
		resp := o.Responses[status]
		pr := pageResponse{Status: status, Description: proseOf(resp.Description)}
		if name, ok := strings.CutPrefix(resp.Ref, "#/components/responses/"); ok {
			resp = doc.Components.Responses[name]
		}
		pr.Headers = slices.Sorted(maps.Keys(resp.Headers))
		for ct, m := range resp.Content {
			pr.ContentType, pr.Type = ct, typeOf(m.Schema)
		}
		out.Responses = append(out.Responses, pr)
	}
	return out
}

func field(name, in string, required bool, s *Schema) pageField {
	f := pageField{Name: name, In: in, Required: required, Type: typeOf(s), Description: proseOf(s.Description)}
	e := s
	if e.Items != nil {
		e = e.Items
	}
	for _, v := range e.Enum {
		if v, ok := v.(string); ok { // null shows in the type
			f.Values = append(f.Values, v)
		}
	}
	return f
}

// typeOf names the type of s: "string (date-time)", "array of X",
// "X or null".
func typeOf(s *Schema) typeText {
	if s == nil {
		return nil
	}
	if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
		return typeText{{Text: name, Link: "schema-" + name}}
	}
	join := func(parts []*Schema, sep string) typeText {
		var out typeText
		for i, p := range parts {
			if i > 0 {
				out = append(out, textPart{Text: sep})
			}
			out = append(out, typeOf(p)...)
		}
		return out
	}
	switch {
	case len(s.OneOf) > 0:
		return join(s.OneOf, " or ")
	case len(s.AllOf) > 0:
		// The slug surface's error answers: the envelope with its code and
		// type fixed.
		return typeOf(s.AllOf[0])
	case s.Const != nil:
		return typeText{{Text: constText(s.Const), Code: true}}
	}
	var types []string
	switch t := s.Type.(type) {
	case string:
		types = []string{t}
	case []string:
		types = t
	}
	if len(types) == 0 {
		return typeText{{Text: "any"}}
	}
	var out typeText
	for i, t := range types {
		if i > 0 {
			out = append(out, textPart{Text: " or "})
		}
		switch {
		case t == "array" && s.Items != nil:
			out = append(out, textPart{Text: "array of "})
			out = append(out, typeOf(s.Items)...)
		case t == "object" && s.AdditionalProperties != nil:
			out = append(out, textPart{Text: "map of "})
			out = append(out, typeOf(s.AdditionalProperties)...)
		case s.Format != "" && t != "null":
			out = append(out, textPart{Text: t + " (" + s.Format + ")"})
		default:
			out = append(out, textPart{Text: t})
		}
	}
	return out
}

func constText(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case int:
		return strconv.Itoa(v)
	}
	return ""
}
