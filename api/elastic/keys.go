package elastic

import (
	"cmp"
	"errors"
	"net/http"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/httpx"
)

// CreateAPIKeyRequest is the Elastic `CreateApiKeyRequest`.
type CreateAPIKeyRequest struct {
	Description     *string          `json:"description"`
	Expiration      *string          `json:"expiration"`
	RoleAssignments *RoleAssignments `json:"role_assignments"`
}

// APIKeyResponse is the Elastic `ApiKeyResponse`; `key` only in the answer
// to a create. LastUsedAt is orgd's addition.
type APIKeyResponse struct {
	ID             string `json:"id"`
	UserID         string `json:"user_id"`
	Description    string `json:"description"`
	Key            string `json:"key,omitempty"`
	CreationDate   string `json:"creation_date"`
	ExpirationDate string `json:"expiration_date,omitempty"`
	LastUsedAt     string `json:"last_used_at,omitempty"`
}

// APIKeysResponse is the Elastic `ApiKeysResponse`.
type APIKeysResponse struct {
	Keys []APIKeyResponse `json:"keys"`
}

// DeleteAPIKeysRequest is the Elastic `DeleteApiKeysRequest`.
type DeleteAPIKeysRequest struct {
	Keys []string `json:"keys"`
}

func keyOut(k *orgd.APIKey) APIKeyResponse {
	out := APIKeyResponse{ID: k.ID, UserID: k.UserID, Description: k.Name, CreationDate: timestamp(k.CreatedAt)}
	if !k.ExpiresAt.IsZero() {
		out.ExpirationDate = timestamp(k.ExpiresAt)
	}
	if !k.LastUsedAt.IsZero() {
		out.LastUsedAt = timestamp(k.LastUsedAt)
	}
	return out
}

// errKeyNotFound hides revoked keys: on this surface a revoked key is a
// deleted one.
var errKeyNotFound = &orgd.Error{Kind: orgd.KindNotFound, Code: orgd.CodeKeyNotFound, Message: "API key not found."}

func invalidKeyInput(field, msg string) error {
	return &orgd.Error{Kind: orgd.KindInvalid, Code: orgd.CodeKeyInvalid, Field: field, Message: msg}
}

// errDescriptionRequired answers a create without a description, or with
// one the domain finds empty: Elastic's CreateApiKeyRequest requires it.
var errDescriptionRequired = invalidKeyInput("description", "A description is required.")

// errDescriptionInvalid answers a description the domain refuses as a
// key's name (orgd.ErrKeyNameInvalid), in this surface's words.
var errDescriptionInvalid = invalidKeyInput("description", "The description must be "+orgd.KeyNameRule+".")

// keyFields are the wire names of the domain's fields of a key.
var keyFields = map[string]string{"name": "description", "expires_in": "expiration"}

// listAPIKeys lists the caller's keys that still work.
func (a *API) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.User == nil {
		return authCredentials
	}
	keys, err := a.svc.ListAPIKeys(r.Context(), p, p.User.ID)
	if err != nil {
		return err
	}
	now := a.now()
	out := APIKeysResponse{Keys: []APIKeyResponse{}}
	for _, k := range keys {
		if k.Usable(now) {
			out.Keys = append(out.Keys, keyOut(k))
		}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req CreateAPIKeyRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	p := principal(r)
	if p.User == nil {
		return authCredentials
	}
	if req.Description == nil {
		return errDescriptionRequired
	}
	if req.RoleAssignments != nil && !rolesIn(req.RoleAssignments).IsZero() {
		return invalidKeyInput("role_assignments", "orgd's API keys act with their user's roles; role_assignments are not supported.")
	}
	var expiresIn string
	if req.Expiration != nil {
		expiresIn = *req.Expiration
	}
	k, err := a.svc.CreateAPIKey(r.Context(), p, p.User.ID, *req.Description, expiresIn)
	if err != nil {
		switch {
		case errors.Is(err, orgd.ErrKeyNameRequired):
			return errDescriptionRequired
		case errors.Is(err, orgd.ErrKeyNameInvalid):
			return errDescriptionInvalid
		}
		if e := orgd.AsError(err); e.Kind == orgd.KindInvalid {
			return invalidKeyInput(cmp.Or(keyFields[e.Field], e.Field), e.Message)
		}
		return err
	}
	out := keyOut(k.APIKey)
	out.Key = k.Secret
	httpx.WriteJSON(w, http.StatusCreated, out)
	return nil
}

// usableKey returns one of the caller's keys that still works.
func (a *API) usableKey(r *http.Request) (*orgd.APIKey, error) {
	k, err := a.svc.GetAPIKey(r.Context(), principal(r), r.PathValue("api_key_id"))
	if orgd.ErrorCode(err) == orgd.CodeKeyNotFound || (err == nil && !k.Usable(a.now())) {
		return nil, errKeyNotFound
	}
	return k, err
}

func (a *API) getAPIKey(w http.ResponseWriter, r *http.Request) error {
	k, err := a.usableKey(r)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, keyOut(k))
	return nil
}

func (a *API) deleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	k, err := a.usableKey(r)
	if err != nil {
		return err
	}
	if err := a.svc.RevokeAPIKeys(r.Context(), principal(r), []string{k.ID}); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, emptyResponse{})
	return nil
}

func (a *API) deleteAPIKeys(w http.ResponseWriter, r *http.Request) error {
	var req DeleteAPIKeysRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	if err := a.svc.RevokeAPIKeys(r.Context(), principal(r), req.Keys); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, emptyResponse{})
	return nil
}
