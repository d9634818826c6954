package openapi

import (
	"context"
	"flag"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json, the golden page and elastic.json")

// TestOperations fails for a route of a route table without an entry in
// the operation table, and for an entry without a route.
func TestOperations(t *testing.T) {
	_, problems := Build()
	for _, p := range problems {
		t.Error(p)
	}
}

// TestDocumentIsValid loads the document as its users' tools do and
// validates it as OpenAPI 3.1.
func TestDocumentIsValid(t *testing.T) {
	doc, _ := Build()
	loader := openapi3.NewLoader()
	loaded, err := loader.LoadFromData(doc.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %q, want 3.1", loaded.OpenAPI)
	}
	if err := loaded.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestWords fails for a word about a schema or property that does not
// exist, so that none outlives its field.
func TestWords(t *testing.T) {
	doc, _ := Build()
	has := func(key string) bool {
		schema, prop, _ := strings.Cut(key, ".")
		s := doc.Components.Schemas[schema]
		if s == nil || prop == "" {
			return s != nil && prop == ""
		}
		_, ok := s.Properties.Values[prop]
		return ok
	}
	for key := range schemaDocs {
		if !has(key) {
			t.Errorf("schemaDocs: no schema %s", key)
		}
	}
	for key := range fieldDocs {
		if !has(key) {
			t.Errorf("fieldDocs: no property %s", key)
		}
	}
	for key := range requestRequired {
		if !has(key) {
			t.Errorf("requestRequired: no property %s", key)
		}
	}
	for key := range requestNotNull {
		if !has(key) {
			t.Errorf("requestNotNull: no property %s", key)
		}
	}
}

// TestDescriptions checks that the Elastic surface's schemas bear the
// names of Elastic's definitions, and that every operation, parameter and
// schema has words.
func TestDescriptions(t *testing.T) {
	doc, text := built(t)
	for name, s := range doc.Components.Schemas {
		if s.Description == "" {
			t.Errorf("schema %s has no description", name)
		}
	}
	for _, r := range routes() {
		op := *doc.Paths[r.path].slot(r.method)
		for _, p := range op.Parameters {
			if p.Description == "" {
				t.Errorf("%s: parameter %s has no description", r.op, p.Name)
			}
		}
		if r.surface != elasticSurface {
			continue
		}
		if _, ok := text.Operations[r.op]; !ok {
			t.Errorf("%s is not an operation of Elastic's document", r.op)
		}
		for _, resp := range op.Responses {
			for _, m := range resp.Content {
				if n, ok := strings.CutPrefix(m.Schema.Ref, "#/components/schemas/"); ok {
					if _, ok := text.Definitions[n]; !ok {
						t.Errorf("%s answers %s, which is not a definition of Elastic's document", r.op, n)
					}
				}
			}
		}
	}
}

// built returns the document and the words of Elastic it was built with.
func built(t *testing.T) (*Document, *elasticText) {
	t.Helper()
	doc, _ := Build()
	text, err := loadElasticText()
	if err != nil {
		t.Fatal(err)
	}
	return doc, text
}
