package openapi

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/orgd/orgd/api/elastic"
)

// TestElasticText checks that elastic.json is what Elastic's document in
// the cloud-sdk-go module of go.mod says; -update extracts it again.
func TestElasticText(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-json", "github.com/elastic/cloud-sdk-go").Output()
	if err != nil {
		t.Skipf("go list cloud-sdk-go: %v", err)
	}
	var mod struct{ Path, Version, Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Skipf("the cloud-sdk-go module is not downloaded (%v)", err)
	}
	apidocs, err := os.ReadFile(filepath.Join(mod.Dir, "api", "apidocs-user.json"))
	if err != nil {
		t.Fatal(err)
	}
	text, err := extractElasticText(apidocs, mod.Path+"@"+mod.Version+" api/apidocs-user.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := marshal(text, " ")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("elastic.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(elasticJSON, want) {
		t.Errorf("elastic.json is not what %s says; run go test ./openapi -update", text.Source)
	}
}

// extractElasticText takes from Elastic's Swagger document the words of
// the operations of elastic.Routes and of every definition they use.
func extractElasticText(apidocs []byte, source string) (*elasticText, error) {
	type swaggerSchema struct {
		Ref   string `json:"$ref"`
		Items *struct {
			Ref string `json:"$ref"`
		} `json:"items"`
		Description string `json:"description"`
		Format      string `json:"format"`
	}
	var doc struct {
		Paths       map[string]map[string]json.RawMessage `json:"paths"`
		Definitions map[string]struct {
			Description string                   `json:"description"`
			Required    []string                 `json:"required"`
			Properties  map[string]swaggerSchema `json:"properties"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(apidocs, &doc); err != nil {
		return nil, err
	}
	served := map[string]bool{}
	for _, r := range elastic.Routes {
		served[r.Operation] = true
	}
	out := &elasticText{Source: source, Operations: map[string]elasticOperation{}, Definitions: map[string]elasticDefinition{}}
	var refs []string
	for _, item := range doc.Paths {
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op struct {
				OperationID string `json:"operationId"`
				Summary     string `json:"summary"`
				Description string `json:"description"`
				Parameters  []struct {
					Name        string         `json:"name"`
					In          string         `json:"in"`
					Description string         `json:"description"`
					Schema      *swaggerSchema `json:"schema"`
				} `json:"parameters"`
				Responses map[string]struct {
					Description string         `json:"description"`
					Schema      *swaggerSchema `json:"schema"`
				} `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, err
			}
			if !served[op.OperationID] {
				continue
			}
			e := elasticOperation{Summary: op.Summary, Description: elasticWords(op.Description), Responses: map[string]string{}}
			for _, p := range op.Parameters {
				if p.In == "body" {
					e.Body = elasticWords(p.Description)
					refs = append(refs, p.Schema.Ref)
					continue
				}
				if e.Parameters == nil {
					e.Parameters = map[string]string{}
				}
				e.Parameters[p.Name] = elasticWords(p.Description)
			}
			for status, r := range op.Responses {
				if r.Schema != nil {
					refs = append(refs, r.Schema.Ref)
				}
				if strings.HasPrefix(status, "2") {
					e.Responses[status] = elasticWords(r.Description)
				}
			}
			out.Operations[op.OperationID] = e
		}
	}
	for len(refs) > 0 {
		name := strings.TrimPrefix(refs[0], "#/definitions/")
		refs = refs[1:]
		if _, done := out.Definitions[name]; done || name == "" {
			continue
		}
		def := doc.Definitions[name]
		d := elasticDefinition{Description: elasticWords(def.Description), Required: def.Required}
		for pname, p := range def.Properties {
			if d.Properties == nil {
				d.Properties = map[string]elasticProperty{}
			}
			d.Properties[pname] = elasticProperty{Description: elasticWords(p.Description), Format: p.Format}
			refs = append(refs, p.Ref)
			if p.Items != nil {
				refs = append(refs, p.Items.Ref)
			}
		}
		out.Definitions[name] = d
	}
	return out, nil
}

var (
	eceOnly  = regexp.MustCompile(`\s*Currently unavailable in self-hosted ECE\.`)
	warnings = regexp.MustCompile(`(?m)^>.*\n?`)
)

// elasticWords drops from Elastic's text what is not true of orgd: the
// sentence that ECE lacks the API, and warnings about Elastic's plans.
func elasticWords(s string) string {
	return strings.TrimSpace(warnings.ReplaceAllString(eceOnly.ReplaceAllString(s, ""), ""))
}

// TestElasticRequired checks that the document requires every property
// Elastic's requires, so that orgd's answers always carry what Elastic's
// clients need; only the organization_id of a role assignment, which orgd
// lets a request leave out, is exempt (requestRequired).
func TestElasticRequired(t *testing.T) {
	doc, text := built(t)
	for name, s := range doc.Components.Schemas {
		for _, prop := range text.Definitions[name].Required {
			if r, ok := requestRequired[name+"."+prop]; ok && !r {
				continue
			}
			if !slices.Contains(s.Required, prop) {
				t.Errorf("%s.%s: Elastic requires it, the document does not", name, prop)
			}
		}
	}
}
