package elastic

import (
	"net/http"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/httpx"
)

// statusOf maps a domain error to the status the Elastic API uses for it:
// the common one, but Elastic answers conflicts such as "already exists"
// with 400.
func statusOf(e *orgd.Error) int {
	if e.Kind == orgd.KindConflict && httpx.CodeStatus(e) == 0 {
		return http.StatusBadRequest
	}
	return httpx.Status(e)
}

// writeError writes a BasicFailedReply with one element per error (one per
// bad address of a batch) and the x-cloud-error-codes header set to the
// first code, as Elastic's clients read it.
func writeError(w http.ResponseWriter, _ *http.Request, e *orgd.Error) {
	items := e.Details
	if len(items) == 0 {
		items = []*orgd.Error{e}
	}
	reply := BasicFailedReply{Errors: make([]BasicFailedReplyElement, 0, len(items))}
	for _, d := range items {
		el := BasicFailedReplyElement{Code: d.Code, Message: d.Message}
		switch {
		case d.Value != "":
			el.Fields = []string{d.Value} // the bad address itself
		case d.Field != "":
			el.Fields = []string{d.Field}
		}
		reply.Errors = append(reply.Errors, el)
	}
	w.Header().Set("x-cloud-error-codes", reply.Errors[0].Code)
	httpx.WriteJSON(w, statusOf(e), reply)
}
