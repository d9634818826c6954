package openapi

import (
	_ "embed"
	"encoding/json"
)

// elasticText is what the document reuses of Elastic's own Swagger
// document (api/apidocs-user.json of cloud-sdk-go, the version in go.mod):
// the summaries and descriptions of the operations orgd serves and of the
// definitions they use, so that the Elastic part of the document speaks
// Elastic's words. elastic.json holds it; `go test ./openapi -update`
// extracts it again from the module.
type elasticText struct {
	Source      string                       `json:"source"`
	Operations  map[string]elasticOperation  `json:"operations"`
	Definitions map[string]elasticDefinition `json:"definitions"`
}

type elasticOperation struct {
	Summary     string `json:"summary"`
	Description string `json:"description"`
	// Parameters maps a parameter's name to its description.
	Parameters map[string]string `json:"parameters,omitempty"`
	Body       string            `json:"body,omitempty"`
	// Responses maps a success status to its description.
	Responses map[string]string `json:"responses"`
}

type elasticDefinition struct {
	Description string                     `json:"description,omitempty"`
	Required    []string                   `json:"required,omitempty"`
	Properties  map[string]elasticProperty `json:"properties,omitempty"`
}

type elasticProperty struct {
	Description string `json:"description,omitempty"`
	Format      string `json:"format,omitempty"`
}

//go:embed elastic.json
var elasticJSON []byte

func loadElasticText() (*elasticText, error) {
	var t elasticText
	if err := json.Unmarshal(elasticJSON, &t); err != nil {
		return nil, err
	}
	return &t, nil
}
