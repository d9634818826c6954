package openapi

// The slug surface reads its request bodies field by field (see
// api/dreadnode/request.go), so that it can report every bad field at once;
// no Go type holds them. The types below describe them for the document: a
// pointer field may be left out or sent as null, unless requestNotNull says
// that null is refused; the others are required, and refuse null with their
// type's error. TestSlugBodies sends every field with a wrong type, null
// for those that may not be null and for the required ones, and checks that
// the handler names it, and that it does not refuse a null the document
// allows, so a field described here is one the handler reads as described.

// slugOrganizationUpdate is the body of PATCH /org/{org}: null clears the
// description and is refused for the other fields.
type slugOrganizationUpdate struct {
	Name                 *string   `json:"name"`
	Description          *string   `json:"description"`
	AllowExternalInvites *bool     `json:"allow_external_invites"`
	AllowedEmailDomains  *[]string `json:"allowed_email_domains"`
	MaxMembers           *int      `json:"max_members"`
}

// slugMemberUpdate is the body of PUT /org/{org}/members/{user_id}.
type slugMemberUpdate struct {
	Role string `json:"role"`
}

// slugInvitationRequest is the body of POST /org/{org}/invitations: null is
// refused for role and send_email, which have defaults, and is the default
// lifetime for expires_in.
type slugInvitationRequest struct {
	Email     string    `json:"email"`
	Role      *string   `json:"role"`
	SendEmail *bool     `json:"send_email"`
	ExpiresIn *duration `json:"expires_in"`
}

// slugResendRequest is the body of POST /org/{org}/invitations/{id}/resend,
// which may also be empty.
type slugResendRequest struct {
	SendEmail *bool     `json:"send_email"`
	ExpiresIn *duration `json:"expires_in"`
}

// slugRespondRequest is the body of POST /invitations/{id}/respond.
type slugRespondRequest struct {
	Accept bool `json:"accept"`
}

// slugWebhookRequest is the body of POST /org/{org}/webhooks: null is none
// for events (every type) and description.
type slugWebhookRequest struct {
	URL         string    `json:"url"`
	Events      *[]string `json:"events"`
	Description *string   `json:"description"`
}

// slugAPIKeyRequest is the body of POST /user/api-keys.
type slugAPIKeyRequest struct {
	Name      string    `json:"name"`
	ExpiresIn *duration `json:"expires_in"`
}

// duration is a duration as the slug surface reads one: a string such as
// "72h" or "3d", or a whole number of seconds.
type duration struct{}

// slugHealth is the answer of GET /health, which writes a map.
type slugHealth struct {
	Status string `json:"status"`
}

// emptyResponse is Elastic's `EmptyResponse`, `{}`, which the Elastic
// surface writes with a type of its own that is not exported.
type emptyResponse struct{}
