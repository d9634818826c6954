package openapi

import (
	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/api/elastic"
	"github.com/orgd/orgd/httpx"
)

// operation is what the document says of one operation beyond its route:
// its words, query parameters, bodies and error statuses. Every route of
// every route table has one, under its operationId; TestOperations fails
// for a route without one and for an entry without a route.
type operation struct {
	summary     string // Elastic's, for an Elastic operation that gives none
	description string // after Elastic's, for an Elastic operation
	query       []*Parameter
	// body is a value of the request body's type, nil for none; an empty
	// body is an empty object when bodyOptional.
	body         any
	bodyOptional bool
	status       int // of the success, 200 when 0
	// answer is a value of the success body's type, a oneOf, or a media.
	answer any
	// errors are the error statuses of the operation, each with the codes
	// it may carry (for the slug surface, the `type` of its entries), beyond
	// those every operation of its surface has (surface.commonErrors).
	errors codes
}

// codes maps an error status to the codes an answer with it may carry.
type codes map[int][]string

// oneOf is an answer that is one of several wire types.
type oneOf []any

// media is an answer that is no wire type.
type media struct {
	contentType string
	schema      *Schema
}

// The pydantic-style types of the slug surface's bad input (docs/errors.md).
const (
	tMissing  = "missing"
	tString   = "string_type"
	tBool     = "bool_type"
	tInt      = "int_type"
	tList     = "list_type"
	tEnum     = "enum"
	tDuration = "duration_type"
	tTime     = "datetime_type"
)

// operations is the table of every operation, by operationId.
var operations = map[string]operation{
	// The Elastic Cloud Organizations API (api/elastic).
	"list-organizations": {
		description: "orgd lists the caller's organizations, and every organization to a platform administrator.",
		answer:      elastic.OrganizationList{},
	},
	"get-organization": {
		answer: elastic.Organization{},
		errors: codes{404: {orgd.CodeOrgNotFound}},
	},
	"update-organization": {
		description: "A null or absent field is left as it is; an empty list clears one; a body that sets none changes nothing.",
		body:        elastic.OrganizationRequest{}, answer: elastic.Organization{},
		errors: codes{400: {orgd.CodeOrgInvalidName, orgd.CodeInvalidData}, 403: {orgd.CodeOrgInvalidAccess}, 404: {orgd.CodeOrgNotFound}},
	},
	"list-organization-invitations": {
		description: "orgd lists open invitations, expired ones included (with expired: true). " +
			"An organization admin sees an invitation that promises the owner role with an empty token: only owners may revoke, refresh or resend it.",
		query: append([]*Parameter{
			csvQuery("status", "orgd's filter: only invitations in one of these states, separated by commas, or all; open ones (pending and expired) when absent.",
				httpx.InvitationStates...),
			csvQuery("email_status", "orgd's filter: only invitations whose email is in one of these states, separated by commas.", orgd.EmailStatuses...),
		}, invitationFilters...),
		answer: elastic.OrganizationInvitations{},
		errors: codes{400: {orgd.CodeInvalidData}, 403: {orgd.CodeOrgInvalidAccess}, 404: {orgd.CodeOrgNotFound}},
	},
	"create-organization-invitations": {
		description: "All or none: a request with bad addresses is refused with one error per address. " +
			"When those errors are of different kinds (a bad address and an owner's invitation the caller may not refresh), " +
			"the answer is 400 and x-cloud-error-codes holds the first address's code, which may then be a 403 code. " +
			"An address with an open invitation gets it refreshed (a new token and expiry).",
		body: elastic.OrganizationInvitationRequest{}, status: 201, answer: elastic.OrganizationInvitations{},
		errors: codes{
			400: {orgd.CodeInviteInvalidMail, orgd.CodeInviteExpiry, orgd.CodeInviteDomain, orgd.CodeInvalidRole, orgd.CodeInvalidData,
				orgd.CodeAlreadyMember, orgd.CodeInviteExists, orgd.CodeMemberLimit, orgd.CodeRolesForbidden},
			403: {orgd.CodeOrgInvalidAccess, orgd.CodeRolesForbidden},
			404: {orgd.CodeOrgNotFound, orgd.CodeSenderNotMember},
			429: {orgd.CodeInviteRateLimit},
		},
	},
	"delete-organization-invitations": {
		description: "All or none: a token that is not an open invitation of the organization refuses the whole request.",
		answer:      emptyResponse{},
		errors: codes{400: {orgd.CodeInvalidData}, 403: {orgd.CodeOrgInvalidAccess, orgd.CodeRolesForbidden},
			404: {orgd.CodeOrgNotFound, orgd.CodeInviteNotFound}},
	},
	"get-organization-invitation": {
		answer: elastic.OrganizationInvitation{},
		errors: codes{404: {orgd.CodeInviteNotFound}},
	},
	"accept-organization-invitation": {
		answer: emptyResponse{},
		errors: codes{400: {orgd.CodeInviteExpired, orgd.CodeInviteUsed, orgd.CodeAlreadyMember}, 403: {orgd.CodeInviteMismatch},
			404: {orgd.CodeInviteNotFound}},
	},
	"list-organization-members": {
		query:  memberFilters,
		answer: elastic.OrganizationMemberships{},
		errors: codes{400: {orgd.CodeInvalidData}, 404: {orgd.CodeOrgNotFound}},
	},
	"delete-organization-memberships": {
		description: "All or none. Members may remove themselves.",
		query:       []*Parameter{flagQuery("force", "")},
		answer:      emptyResponse{},
		errors: codes{400: {orgd.CodeInvalidData, orgd.CodeLastOwner, orgd.CodeLastAdmin}, 403: {orgd.CodeOrgInvalidAccess, orgd.CodeRolesForbidden},
			404: {orgd.CodeOrgNotFound, orgd.CodeUserNotFound, orgd.CodeMembershipMissing}},
	},
	"add-role-assignments":    roleAssignments,
	"remove-role-assignments": roleAssignments,
	"get-api-keys": {
		description: "orgd lists the keys that still work.",
		answer:      elastic.APIKeysResponse{},
	},
	"create-api-key": {
		body: elastic.CreateAPIKeyRequest{}, status: 201, answer: elastic.APIKeyResponse{},
		errors: codes{400: {orgd.CodeKeyInvalid}},
	},
	"delete-api-keys": {
		description: "All or none.",
		body:        elastic.DeleteAPIKeysRequest{}, answer: emptyResponse{},
		errors: codes{400: {orgd.CodeInvalidData}, 404: {orgd.CodeKeyNotFound}},
	},
	"get-api-key": {
		answer: elastic.APIKeyResponse{},
		errors: codes{404: {orgd.CodeKeyNotFound}},
	},
	"delete-api-key": {
		answer: emptyResponse{},
		errors: codes{404: {orgd.CodeKeyNotFound}},
	},

	// The slug API (api/dreadnode).
	"health_check": {
		summary: "Check that orgd answers",
		answer:  slugHealth{},
	},
	"get_user": {
		summary: "Get the caller",
		answer:  dreadnode.User{},
	},
	"list_user_organizations": {
		summary: "List the organizations the caller is a member of",
		answer:  []dreadnode.Organization{},
	},
	"get_organization": {
		summary: "Get an organization",
		answer:  dreadnode.Organization{},
		errors:  codes{404: {orgd.CodeOrgNotFound}},
	},
	"update_organization": {
		summary: "Change an organization's name and settings",
		description: "An absent field is left as it is; null clears the description and is refused for the other fields; " +
			"a body that changes no value changes and records nothing.",
		body: slugOrganizationUpdate{}, answer: dreadnode.Organization{},
		errors: codes{403: {orgd.CodeOrgInvalidAccess}, 404: {orgd.CodeOrgNotFound},
			422: {tString, tBool, tInt, tList, orgd.CodeOrgInvalidName, orgd.CodeInvalidData}},
	},
	"list_organization_members": {
		summary: "List an organization's members",
		query:   memberFilters,
		answer:  []dreadnode.Member{},
		errors:  codes{404: {orgd.CodeOrgNotFound}, 422: {tEnum, tInt, tTime}},
	},
	"update_organization_member": {
		summary: "Set a member's organization role",
		body:    slugMemberUpdate{}, answer: dreadnode.Member{},
		errors: codes{403: {orgd.CodeOrgInvalidAccess, orgd.CodeRolesForbidden}, 404: {orgd.CodeOrgNotFound, orgd.CodeMembershipMissing},
			409: {orgd.CodeLastOwner, orgd.CodeLastAdmin}, 422: {tMissing, tEnum}},
	},
	"remove_organization_member": {
		summary: "Remove a member, or leave",
		answer:  dreadnode.MemberRemoval{},
		errors: codes{403: {orgd.CodeOrgInvalidAccess, orgd.CodeRolesForbidden},
			404: {orgd.CodeOrgNotFound, orgd.CodeUserNotFound, orgd.CodeMembershipMissing}, 409: {orgd.CodeLastOwner, orgd.CodeLastAdmin}},
	},
	"invite_to_organization": {
		summary:     "Send an invitation to join the organization",
		description: "An open invitation to the address is a conflict: resend it instead.",
		body:        slugInvitationRequest{}, answer: dreadnode.Invitation{},
		errors: codes{403: {orgd.CodeOrgInvalidAccess, orgd.CodeRolesForbidden}, 404: {orgd.CodeOrgNotFound, orgd.CodeSenderNotMember},
			409: {orgd.CodeAlreadyMember, orgd.CodeInviteExists, orgd.CodeMemberLimit},
			422: {tMissing, tString, tBool, tEnum, tDuration, orgd.CodeInviteInvalidMail, orgd.CodeInviteExpiry, orgd.CodeInviteDomain},
			429: {orgd.CodeInviteRateLimit}},
	},
	"list_organization_invitations": {
		summary: "List an organization's invitations",
		query: append([]*Parameter{
			csvQuery("status", "Only invitations in one of these states, separated by commas, or all; pending when absent.",
				"pending", "expired", "accepted", "declined", "revoked", "all"),
			csvQuery("email_status", "Only invitations whose email is in one of these states, separated by commas.", orgd.EmailStatuses...),
		}, invitationFilters...),
		answer: []dreadnode.Invitation{},
		errors: codes{403: {orgd.CodeOrgInvalidAccess}, 404: {orgd.CodeOrgNotFound}, 422: {tEnum, tInt, tTime}},
	},
	"revoke_invitation": {
		summary: "Revoke an invitation",
		answer:  dreadnode.Invitation{},
		errors: codes{403: {orgd.CodeOrgInvalidAccess, orgd.CodeRolesForbidden}, 404: {orgd.CodeOrgNotFound, orgd.CodeInviteNotFound},
			409: {orgd.CodeInviteUsed}},
	},
	"resend_invitation": {
		summary:     "Resend an invitation",
		description: "Issues a new token and expiry; the old token stops working.",
		body:        slugResendRequest{}, bodyOptional: true, answer: dreadnode.Invitation{},
		errors: codes{403: {orgd.CodeOrgInvalidAccess, orgd.CodeRolesForbidden}, 404: {orgd.CodeOrgNotFound, orgd.CodeInviteNotFound},
			409: {orgd.CodeInviteUsed, orgd.CodeInviteExists, orgd.CodeMemberLimit}, 422: {tBool, tDuration, orgd.CodeInviteExpiry},
			429: {orgd.CodeInviteRateLimit}},
	},
	"list_my_pending_invitations": {
		summary: "List all pending organization invitations for the current user.",
		answer:  []dreadnode.Invitation{},
	},
	"respond_to_invitation": {
		summary:     "Accept or decline an organization invitation.",
		description: "Accepting answers the new membership; declining answers the declined invitation.",
		body:        slugRespondRequest{}, answer: oneOf{dreadnode.Member{}, dreadnode.Invitation{}},
		errors: codes{400: {orgd.CodeInviteExpired}, 404: {orgd.CodeInviteNotFound}, 409: {orgd.CodeInviteUsed, orgd.CodeAlreadyMember},
			422: {tMissing, tBool}},
	},
	"list_api_keys": {
		summary: "List the caller's API keys that still work",
		answer:  []dreadnode.APIKey{},
	},
	"create_api_key": {
		summary: "Create an API key for the caller",
		body:    slugAPIKeyRequest{}, answer: dreadnode.APIKey{},
		errors: codes{422: {tMissing, tString, tDuration, orgd.CodeInvalidData}},
	},
	"revoke_self_api_key": {
		summary: "Revoke the API key of this request",
		answer:  dreadnode.APIKey{},
		errors:  codes{400: {orgd.CodeInvalidData}, 404: {orgd.CodeKeyNotFound}},
	},
	"create_webhook_endpoint": {
		summary: "Register an endpoint for the organization's events",
		description: "The answer shows the endpoint's signing secret, once. Deliveries are signed as the Standard Webhooks " +
			"specification says; see docs/webhooks.md.",
		body: slugWebhookRequest{}, answer: dreadnode.WebhookEndpoint{},
		errors: codes{403: {orgd.CodeOrgInvalidAccess}, 404: {orgd.CodeOrgNotFound}, 409: {orgd.CodeWebhookLimit},
			422: {tMissing, tString, tList, orgd.CodeWebhookURL, orgd.CodeWebhookEvent, orgd.CodeInvalidData}},
	},
	"list_webhook_endpoints": {
		summary: "List the organization's webhook endpoints and their latest delivery",
		answer:  []dreadnode.WebhookEndpoint{},
		errors:  codes{403: {orgd.CodeOrgInvalidAccess}, 404: {orgd.CodeOrgNotFound}},
	},
	"delete_webhook_endpoint": {
		summary: "Delete a webhook endpoint; its queued deliveries are dropped",
		answer:  dreadnode.WebhookEndpoint{},
		errors:  codes{403: {orgd.CodeOrgInvalidAccess}, 404: {orgd.CodeOrgNotFound, orgd.CodeWebhookNotFound}},
	},
	"revoke_api_key": {
		summary: "Revoke one of the caller's API keys",
		answer:  dreadnode.APIKey{},
		errors:  codes{404: {orgd.CodeKeyNotFound}},
	},
	"list_organization_audit_log": {
		summary: "Read an organization's audit log, newest first",
		query:   auditQuery,
		answer:  dreadnode.AuditPage{},
		errors:  codes{403: {orgd.CodeOrgInvalidAccess}, 404: {orgd.CodeOrgNotFound}, 422: {tInt, orgd.CodeInvalidData}},
	},
	"list_audit_log": {
		summary: "Read the whole audit log, newest first (platform administrators)",
		query:   auditQuery,
		answer:  dreadnode.AuditPage{},
		errors:  codes{403: {orgd.CodeOrgInvalidAccess}, 422: {tInt, orgd.CodeInvalidData}},
	},

	// This package's own routes.
	"get_openapi_document": {
		summary: "Get this OpenAPI document",
		answer:  media{"application/json", &Schema{Type: "object"}},
	},
	"get_api_docs": {
		summary: "Read this document as a web page",
		answer:  media{"text/html", nil},
	},
}

var roleAssignments = operation{
	description: "An assignment without organization_id applies to the user's only organization among the caller's. " +
		"A caller who shares no organization with the user gets invalid_target_user_id whatever the body.",
	query: []*Parameter{flagQuery("force", "orgd: lets a platform administrator demote the last owner or admin.")},
	body:  elastic.RoleAssignments{}, answer: emptyResponse{},
	errors: codes{400: {orgd.CodeInvalidData, orgd.CodeInvalidTarget, orgd.CodeInvalidRole, orgd.CodeLastOwner, orgd.CodeLastAdmin},
		403: {orgd.CodeRolesForbidden}},
}

// The filters and paging of the invitation and member lists (httpx/lists.go).
var (
	paging = []*Parameter{
		{Name: "limit", In: "query", Description: "Answer pages of at most this many, with the next page's cursor in Link and X-Next-Cursor.",
			Schema: &Schema{Type: "integer", Minimum: new(1), Maximum: new(orgd.MaxPageSize)}},
		{Name: "cursor", In: "query", Description: "The cursor of the page to answer, from X-Next-Cursor.", Schema: &Schema{Type: "string"}},
	}
	invitationFilters = append([]*Parameter{
		{Name: "email", In: "query", Description: "Only invitations to this address.", Schema: &Schema{Type: "string"}},
		{Name: "role", In: "query", Description: "Only invitations that promise this role.", Schema: &Schema{Type: "string", Enum: enum(orgd.Roles...)}},
		{Name: "inviter", In: "query", Description: "Only invitations made by this user (id or address).", Schema: &Schema{Type: "string"}},
		{Name: "created_after", In: "query", Description: "Only invitations made after this time.", Schema: &Schema{Type: "string", Format: "date-time"}},
		{Name: "created_before", In: "query", Description: "Only invitations made before this time.", Schema: &Schema{Type: "string", Format: "date-time"}},
	}, paging...)
	memberFilters = append([]*Parameter{
		{Name: "email", In: "query", Description: "Only the member with this address.", Schema: &Schema{Type: "string"}},
		{Name: "role", In: "query", Description: "Only members with this role.", Schema: &Schema{Type: "string", Enum: enum(orgd.Roles...)}},
		{Name: "joined_after", In: "query", Description: "Only members who joined after this time.", Schema: &Schema{Type: "string", Format: "date-time"}},
		{Name: "joined_before", In: "query", Description: "Only members who joined before this time.", Schema: &Schema{Type: "string", Format: "date-time"}},
	}, paging...)
)

var auditQuery = []*Parameter{
	{Name: "limit", In: "query", Description: "The most events to answer.",
		Schema: &Schema{Type: "integer", Minimum: new(1), Maximum: new(500), Default: 50}},
	{Name: "before", In: "query", Description: "Answer the events older than this one: the next_before of the previous page.",
		Schema: &Schema{Type: "string"}},
}

// flagQuery is a boolean query parameter, false when absent.
func flagQuery(name, description string) *Parameter {
	return &Parameter{Name: name, In: "query", Description: description, Schema: &Schema{Type: "boolean", Default: false}}
}

// csvQuery is a query parameter that takes one or more of values,
// separated by commas.
func csvQuery[T ~string](name, description string, values ...T) *Parameter {
	return &Parameter{Name: name, In: "query", Description: description, Style: "form", Explode: new(false),
		Schema: &Schema{Type: "array", Items: &Schema{Type: "string", Enum: enum(values...)}}}
}

func enum[T ~string](values ...T) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// pathDocs describes the path parameters of the slug surface (the Elastic
// surface's come from Elastic's document).
var pathDocs = map[string]string{
	"org":           "The organization's key (slug) or id.",
	"user_id":       "The user's id.",
	"invitation_id": "Invitation ID.",
	"key_id":        "The API key's id.",
	"webhook_id":    "The webhook endpoint's id.",
}

// csvParams are the path parameters that hold a comma-separated list.
var csvParams = map[string]bool{"invitation_tokens": true, "user_ids": true}
