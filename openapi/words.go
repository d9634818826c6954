package openapi

import (
	"slices"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/dreadnode"
)

// What reflection cannot know of the wire types: descriptions (beyond
// Elastic's, which come from its document), enumerations, and the request
// fields whose optionality the Go type does not show. Keys are
// "Schema.property"; TestWords fails for a key that names no property.

// schemaDocs describes the schemas Elastic's document does not.
var schemaDocs = map[string]string{
	"EmptyResponse":           "An empty object.",
	"BasicFailedReply":        "The error body of the Elastic surface: one element per error, the first one's code in x-cloud-error-codes.",
	"BasicFailedReplyElement": "One error.",
	"SlugOrganization":        "An organization as the caller sees it.",
	"SlugOrgOwner":            "An owner of an organization.",
	"SlugMember":              "Organization member response",
	"SlugMemberRemoval":       "The answer to the removal of a member.",
	"SlugInvitation":          "Organization invitation response. It never carries the token.",
	"SlugUser":                "The caller.",
	"SlugAPIKey":              "An API key of the caller.",
	"SlugAuditPage":           "A page of the audit log, newest first.",
	"SlugAuditEvent":          "One change recorded in the audit log.",
	"SlugAuditActor":          "Who made a change.",
	"SlugErrorEnvelope":       "Canonical API error envelope returned by the API.",
	"SlugErrorEntry":          "One problem of a request.",
	"SlugHealth":              "orgd answers.",
	"SlugOrganizationUpdate":  "The fields to change; an absent field is left as it is.",
	"SlugMemberUpdate":        "The member's new organization role.",
	"SlugInvitationRequest":   "Request to invite user to organization",
	"SlugResendRequest":       "How to resend an invitation; the body may be empty.",
	"SlugRespondRequest":      "Request to accept organization invitation",
	"SlugAPIKeyRequest":       "The key to create.",
	"SlugWebhookEndpoint":     "An endpoint that receives an organization's events, with the outcome of its latest delivery. The secret only in the answer to a create.",
	"SlugWebhookRequest":      "The endpoint to register: its https URL, the event types it wants (every type when absent, null or empty), a description (none when absent or null).",
	"OrganizationInvitations": "A list of organization invitations.",
}

// fieldDoc is what the document says of one property beyond its Go type.
type fieldDoc struct {
	Description string
	Enum        []any
	Format      string
	MinLength   int     // of a string; 0 for none
	Default     any     // of a request field, the value it takes when absent
	Schema      *Schema // replaces the schema derived from the Go type
}

// settableRoles are the roles the slug surface sets (api/dreadnode).
var settableRoles = enum(orgd.RoleOwner, orgd.RoleContributor, orgd.RoleReader)

var fieldDocs = map[string]fieldDoc{
	// orgd's additions to Elastic's types.
	"OrganizationInvitation.email_status": {Description: "orgd's addition: the state of the invitation's email.", Enum: enum(orgd.EmailStatuses...)},
	"OrganizationInvitation.email_error":  {Description: "orgd's addition: why the last attempt to send the email failed."},
	"ApiKeyResponse.last_used_at":         {Description: "orgd's addition: when the key was last used, to the minute."},
	"CreateApiKeyRequest.description": {Description: "API key description. Useful if there are multiple keys. " +
		"orgd answers one that is empty or only spaces as it answers a missing one.", MinLength: 1},

	"SlugOrganization.key":                {Description: "The organization's key (slug), used in paths."},
	"SlugOrganization.description":        {Description: "null when empty."},
	"SlugOrganization.max_members":        {Description: "The most members plus pending invitations; 0 for no limit."},
	"SlugOrganization.can_manage_members": {Description: "Whether the caller may manage members and invitations."},
	"SlugMember.id":                       {Description: "The user id."},
	"SlugMember.username":                 {Description: "The user's name, or the local part of the address for a user without one."},
	"SlugMember.role":                     {Description: "The member's strongest organization role.", Enum: enum(orgd.Roles...)},
	"SlugMemberRemoval.user_deleted":      {Description: "Always false: orgd never deletes a user."},
	"SlugInvitation.email":                {Description: "The address, as given."},
	"SlugInvitation.role":                 {Description: "Organization role", Enum: enum(orgd.Roles...)},
	"SlugInvitation.status": {Enum: enum(orgd.StatePending, orgd.StateAccepted, orgd.StateDeclined, orgd.StateExpired,
		orgd.StateRevoked)},
	"SlugInvitation.invited_by":   {Description: "The inviter's user id."},
	"SlugInvitation.responded_at": {Description: "When the invitation was accepted, declined or revoked."},
	"SlugInvitation.email_status": {Description: "The state of the invitation's email; logged when no SMTP server is configured.",
		Enum: enum(orgd.EmailStatuses...)},
	"SlugInvitation.email_error": {Description: "Why the last attempt to send the email failed."},
	"SlugInvitation.accept_url": {Description: "The invitation page's link, with the token: only in the answer to a create or " +
		"resend made with send_email false, for the caller to deliver."},
	"SlugAPIKey.prefix":         {Description: "The first characters of the key, to tell keys apart."},
	"SlugAPIKey.key":            {Description: "The key itself, only in the answer to a create; it is never shown again."},
	"SlugAPIKey.revoked_at":     {Description: "Revoked keys are not listed; a revoke answers the revoked key."},
	"SlugAuditEvent.surface":    {Description: "Where the change was made: elastic, slug, admin (the orgd admin command) or internal."},
	"SlugAuditEvent.request_id": {Description: "The id of the request that made the change (X-Request-Id)."},
	"SlugAuditEvent.action":     {Description: "What was done, such as invitation.created or member.removed."},
	"SlugAuditPage.next_before": {Description: "The before of the next page; null on the last page."},
	"SlugErrorEnvelope.code":    {Description: "HTTP status code"},
	"SlugErrorEnvelope.detail":  {Description: "Human-readable error message"},
	"SlugErrorEnvelope.type":    {Description: "Stable machine-readable error type", Enum: errorTypes()},
	"SlugErrorEnvelope.errors":  {Description: "One entry per problem."},
	"SlugErrorEntry.loc":        {Description: "Where the validation error occurred", Schema: &Schema{Type: "array", Items: &Schema{Type: []string{"string", "integer"}}}},
	"SlugErrorEntry.msg":        {Description: "Human-readable validation message"},
	"SlugErrorEntry.type":       {Description: "Machine-readable validation error type: orgd's error code, or a pydantic-style type for malformed input."},
	"SlugHealth.status":         {Schema: &Schema{Type: "string", Const: "ok"}},

	"SlugOrganizationUpdate.name":                   {Description: "The display name, 2 to 30 characters."},
	"SlugOrganizationUpdate.description":            {Description: "At most 1000 characters; null or empty clears it."},
	"SlugOrganizationUpdate.allow_external_invites": {Description: "Whether addresses outside allowed_email_domains may be invited."},
	"SlugOrganizationUpdate.max_members":            {Description: "0 for no limit; only platform administrators may change it (the value the organization has may be sent back by anyone who may update it)."},
	"SlugMemberUpdate.role":                         {Enum: settableRoles},
	"SlugInvitationRequest.email":                   {Description: "The address to invite."},
	"SlugInvitationRequest.role":                    {Description: "Organization role; reader when absent.", Enum: settableRoles, Default: "reader"},
	"SlugInvitationRequest.send_email":              {Description: "Send invitation email; true when absent.", Default: true},
	"SlugResendRequest.send_email":                  {Description: "Send invitation email; true when absent.", Default: true},
	"SlugRespondRequest.accept":                     {Description: "Accept or reject the invitation"},
	"SlugAPIKeyRequest.name":                        {Description: "A name for the key, not empty or only spaces.", MinLength: 1},
}

// requestRequired overrides whether a request must send a field, where the
// Go type says otherwise: a missing organization_id means the organization
// of the path, and a key without a description (or with null) is refused.
// A pointer field made required is not nullable.
var requestRequired = map[string]bool{
	"OrganizationRoleAssignment.organization_id": false,
	"DeploymentRoleAssignment.organization_id":   false,
	"ProjectRoleAssignment.organization_id":      false,
	"CreateApiKeyRequest.description":            true,
}

// requestNotNull lists the fields a request may leave out but not send as
// null, though their Go type says otherwise, as a pydantic model refuses
// None for a field typed `T = default` (docs/slug-api.md, "Null in request
// bodies"): the fields of the slug PATCH but description, which null
// clears, and the fields with a default. A nullable field (`T | None =
// None`: expires_in, a webhook's events and description) is not listed.
var requestNotNull = map[string]bool{
	"SlugOrganizationUpdate.name":                   true,
	"SlugOrganizationUpdate.allow_external_invites": true,
	"SlugOrganizationUpdate.allowed_email_domains":  true,
	"SlugOrganizationUpdate.max_members":            true,
	"SlugInvitationRequest.role":                    true,
	"SlugInvitationRequest.send_email":              true,
	"SlugResendRequest.send_email":                  true,
}

// errorTypes lists the `type` of every status of the slug surface.
func errorTypes() []any {
	var out []string
	for _, t := range dreadnode.ErrorTypes() {
		out = append(out, t)
	}
	slices.Sort(out)
	return enum(out...)
}
