package apitest

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/api/elastic"
)

// ElasticCodes checks that r is an error in the Elastic envelope (a
// BasicFailedReply whose elements have a code and a message, the first code
// repeated in x-cloud-error-codes) and returns its codes.
func ElasticCodes(r *Response) ([]string, error) {
	var reply elastic.BasicFailedReply
	if err := json.Unmarshal(r.Body, &reply); err != nil || len(reply.Errors) == 0 {
		return nil, fmt.Errorf("status %d with %s, want a BasicFailedReply (%v)", r.Status, r.Body, err)
	}
	var codes []string
	for _, e := range reply.Errors {
		if e.Code == "" || e.Message == "" {
			return nil, fmt.Errorf("error element %+v lacks a code or a message", e)
		}
		codes = append(codes, e.Code)
	}
	if got := r.Header.Get("x-cloud-error-codes"); got != codes[0] {
		return nil, fmt.Errorf("x-cloud-error-codes %q, first code %q", got, codes[0])
	}
	return codes, nil
}

// SlugTypes checks that r is an error in the slug envelope (the status in
// code and type, a detail, and entries with a message, a type and a
// location in the body, query or path) and returns the entries' types.
func SlugTypes(r *Response) ([]string, error) {
	var e dreadnode.ErrorEnvelope
	if err := json.Unmarshal(r.Body, &e); err != nil {
		return nil, fmt.Errorf("status %d with %s: %v", r.Status, r.Body, err)
	}
	if e.Code != r.Status || e.Type != dreadnode.ErrorTypes()[r.Status] || e.Detail == "" || len(e.Errors) == 0 {
		return nil, fmt.Errorf("envelope %s does not match status %d", r.Body, r.Status)
	}
	var types []string
	for _, entry := range e.Errors {
		if entry.Msg == "" || entry.Type == "" || entry.Loc == nil || len(entry.Loc) > 0 && !slices.Contains([]any{"body", "query", "path"}, entry.Loc[0]) {
			return nil, fmt.Errorf("entry %+v of %s", entry, r.Body)
		}
		types = append(types, entry.Type)
	}
	return types, nil
}
