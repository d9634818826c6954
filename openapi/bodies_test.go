package openapi_test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/openapi"
)

// TestSlugBodies holds the document's slug request bodies, which no Go type
// of the surface declares, to what the handlers read: every property sent
// with a wrong type, every one that may not be null sent as null (a
// required one with a type error, not missing), and every required one
// left out, is named by the 422, and a null the document allows is not.
func TestSlugBodies(t *testing.T) {
	srv := apitest.Start(t, testdb.URL(t, "sqlite"))
	org := srv.Org("Acme", "acme")
	caller := srv.Member(org, "owner@acme.test", orgd.RoleOwner)
	doc, _ := openapi.Build()
	const someID = "01936f6e-0000-7000-8000-000000000000"
	params := regexp.MustCompile(`\{[^}]+\}`)

	for path, item := range doc.Paths {
		for method, op := range map[string]*openapi.Operation{"POST": item.Post, "PUT": item.Put, "PATCH": item.Patch} {
			if op == nil || op.RequestBody == nil || op.Tags[0] != "Slug" {
				continue
			}
			name := op.RequestBody.Content["application/json"].Schema.Ref[len("#/components/schemas/"):]
			schema := doc.Components.Schemas[name]
			url := params.ReplaceAllStringFunc(path, func(p string) string {
				if p == "{org}" {
					return org.Slug
				}
				return someID
			})
			// named reports whether a 422 answer names the body field prop
			// with the error type typ ("" for any).
			named := func(r *apitest.Response, prop, typ string) bool {
				var env dreadnode.ErrorEnvelope
				r.JSON(t, &env)
				return r.Status == 422 && slices.ContainsFunc(env.Errors, func(e dreadnode.ErrorEntry) bool {
					return len(e.Loc) == 2 && e.Loc[0] == "body" && e.Loc[1] == prop && (typ == "" || e.Type == typ)
				})
			}
			for _, prop := range schema.Properties.Names {
				r := srv.Slug(method, url, caller.Key, map[string]any{prop: wrongValue(schema.Properties.Values[prop])})
				if !named(r, prop, "") {
					t.Errorf("%s %s: %s sent with a wrong type was not refused by name: %d %s", method, path, prop, r.Status, r.Body)
				}
			}
			for _, prop := range schema.Properties.Names {
				r := srv.Slug(method, url, caller.Key, map[string]any{prop: nil})
				switch {
				case allowsNull(schema.Properties.Values[prop]):
					if named(r, prop, "") {
						t.Errorf("%s %s: %s, which may be null, was refused when null: %s", method, path, prop, r.Body)
					}
				case !named(r, prop, "") || named(r, prop, "missing"):
					t.Errorf("%s %s: %s, which may not be null, was not refused by name with a type error when null: %d %s",
						method, path, prop, r.Status, r.Body)
				}
			}
			for _, prop := range schema.Required {
				r := srv.Slug(method, url, caller.Key, map[string]any{})
				if !named(r, prop, "missing") {
					t.Errorf("%s %s: the required %s was not missed: %d %s", method, path, prop, r.Status, r.Body)
				}
			}
		}
	}
}

// allowsNull reports whether s allows null.
func allowsNull(s *openapi.Schema) bool {
	if t, ok := s.Type.([]string); ok && slices.Contains(t, "null") {
		return true
	}
	return slices.ContainsFunc(s.OneOf, func(o *openapi.Schema) bool { return o.Type == "null" })
}

// wrongValue is a JSON value that s does not allow.
func wrongValue(s *openapi.Schema) any {
	types := []string{}
	switch t := s.Type.(type) {
	case string:
		types = append(types, t)
	case []string:
		types = t
	}
	switch {
	case slices.Contains(types, "string") && slices.Contains(types, "integer"):
		return true
	case slices.Contains(types, "string"):
		return 12345
	}
	return "not this"
}
