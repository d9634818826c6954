package openapi

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/api/elastic"
)

// use says where a wire type appears: in answers, in requests, or both.
// The same Go field means different things in each: an answer always
// writes a field without omitempty (so it is required) and writes a nil
// pointer as null, while a request may leave out any pointer field and may
// send null for pointers and for lists that are omitted when empty (unless
// requestNotNull says otherwise).
type use uint8

const (
	inResponse use = 1 << iota
	inRequest
)

// jsonField is one field of a wire type as encoding/json sees it.
type jsonField struct {
	name string
	typ  reflect.Type
	omit bool // omitempty or omitzero
}

// jsonFields lists the fields encoding/json writes for struct type t, in
// order, with embedded structs flattened.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := slices.ContainsFunc(strings.Split(opts, ","), func(o string) bool { return o == "omitempty" || o == "omitzero" })
		out = append(out, jsonField{name: name, typ: f.Type, omit: omit})
	}
	return out
}

// schemas derives components/schemas from the wire types by reflection: a
// named struct type becomes a component named after it, referred to
// wherever the type appears.
type schemas struct {
	uses  map[reflect.Type]use
	order []reflect.Type
	names map[string]reflect.Type
}

func newSchemas() *schemas {
	return &schemas{uses: map[reflect.Type]use{}, names: map[string]reflect.Type{}}
}

var (
	elasticPkg   = reflect.TypeFor[elastic.Organization]().PkgPath()
	dreadnodePkg = reflect.TypeFor[dreadnode.Organization]().PkgPath()
)

// name is the component name of a wire type: Elastic's own name for the
// types of the Elastic surface (Go's "API" is Elastic's "Api"), the Go name
// with "Slug" before it for those of the slug surface, and the Go name,
// capitalized, for the types this package declares to describe what no
// wire type does.
func name(t reflect.Type) string {
	switch t.PkgPath() {
	case elasticPkg:
		return strings.ReplaceAll(t.Name(), "API", "Api")
	case dreadnodePkg:
		return "Slug" + t.Name()
	}
	return strings.ToUpper(t.Name()[:1]) + t.Name()[1:]
}

// component reports whether t is described by a component of its own.
func component(t reflect.Type) bool {
	_, inline := inlineTypes[t]
	return t.Kind() == reflect.Struct && t.Name() != "" && !inline
}

// inlineTypes are the types whose schema is written where they are used.
var inlineTypes = map[reflect.Type]func() *Schema{
	reflect.TypeFor[duration](): func() *Schema {
		return &Schema{Type: []string{"string", "integer"}, Description: `A duration such as "72h", "3d" or "2w", or a whole number of seconds; null is as absent.`}
	},
}

// schema returns the schema of a body of type t used as u: a reference for
// a wire type, an array of references for a list of them. It records every
// wire type reachable from t.
func (s *schemas) schema(t reflect.Type, u use) *Schema {
	s.mark(t, u)
	return s.typeSchema(t)
}

// mark records that t, and every wire type it holds, is used as u.
func (s *schemas) mark(t reflect.Type, u use) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if !component(t) {
		return
	}
	old, seen := s.uses[t]
	if seen && old&u == u {
		return
	}
	if !seen {
		n := name(t)
		if other, ok := s.names[n]; ok && other != t {
			panic(fmt.Sprintf("openapi: %s and %s would both be the schema %s", other, t, n))
		}
		s.names[n] = t
		s.order = append(s.order, t)
	}
	s.uses[t] = old | u
	for _, f := range jsonFields(t) {
		s.mark(f.typ, u)
	}
}

// typeSchema is the schema of a value of type t, without null.
func (s *schemas) typeSchema(t reflect.Type) *Schema {
	if f, ok := inlineTypes[t]; ok {
		return f()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return s.typeSchema(t.Elem())
	case reflect.String:
		return &Schema{Type: "string"}
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &Schema{Type: "integer"}
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: "number"}
	case reflect.Slice, reflect.Array:
		return &Schema{Type: "array", Items: s.typeSchema(t.Elem())}
	case reflect.Map:
		out := &Schema{Type: "object"}
		if t.Elem().Kind() != reflect.Interface {
			out.AdditionalProperties = s.typeSchema(t.Elem())
		}
		return out
	case reflect.Interface:
		return &Schema{} // any JSON value
	case reflect.Struct:
		if component(t) {
			return ref(name(t))
		}
	}
	panic(fmt.Sprintf("openapi: no schema for the Go type %s", t))
}

// components returns the schema of every wire type recorded.
func (s *schemas) components(text *elasticText) map[string]*Schema {
	out := map[string]*Schema{}
	for _, t := range s.order {
		n := name(t)
		out[n] = s.object(t, n, s.uses[t], text)
	}
	return out
}

// object is the schema of a wire type used as u: a field is required when
// every use always has it, nullable when some use may send or write null.
func (s *schemas) object(t reflect.Type, n string, u use, text *elasticText) *Schema {
	out := &Schema{Type: "object", Description: schemaDocs[n], Properties: &Properties{}}
	def := text.Definitions[n]
	if out.Description == "" {
		out.Description = def.Description
	}
	for _, f := range jsonFields(t) {
		key := n + "." + f.name
		ptr := f.typ.Kind() == reflect.Pointer
		nilable := ptr || f.typ.Kind() == reflect.Slice || f.typ.Kind() == reflect.Map
		required, null := true, false
		if u&inResponse != 0 {
			required = required && !f.omit
			null = null || (ptr && !f.omit)
		}
		if u&inRequest != 0 {
			inRequestRequired := !f.omit && !ptr
			if r, ok := requestRequired[key]; ok {
				inRequestRequired = r
			}
			required = required && inRequestRequired
			null = null || !requestNotNull[key] && ((ptr && !inRequestRequired) || (nilable && f.omit))
		}
		fs := s.typeSchema(f.typ)
		prop := def.Properties[f.name]
		doc := fieldDocs[key]
		switch {
		case doc.Schema != nil:
			c := *doc.Schema
			fs = &c
		case len(doc.Enum) > 0:
			fs.Enum = doc.Enum
		}
		switch {
		case doc.Format != "":
			fs.Format = doc.Format
		case prop.Format != "":
			fs.Format = prop.Format
		case fs.Type == "string" && (f.name == "at" || strings.HasSuffix(f.name, "_at")):
			// Both surfaces name their times *_at and write them in RFC 3339.
			fs.Format = "date-time"
		}
		if doc.MinLength > 0 {
			fs.MinLength = &doc.MinLength
		}
		if doc.Default != nil {
			fs.Default = doc.Default
		}
		if null {
			fs = nullable(fs)
		}
		if d := cmp.Or(doc.Description, prop.Description); d != "" {
			fs.Description = d
		}
		out.Properties.Add(f.name, fs)
		if required {
			out.Required = append(out.Required, f.name)
		}
	}
	return out
}
