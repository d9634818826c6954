package orgd

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind classifies an Error. Each API surface maps a kind (and sometimes the
// code) to its own status code and envelope; the domain never speaks HTTP.
type Kind int

const (
	KindInternal        Kind = iota // a fault of orgd or its database; details are logged, never shown
	KindInvalid                     // the request is malformed or breaks a rule about its values
	KindUnauthenticated             // no usable credentials
	KindForbidden                   // authenticated, but not allowed
	KindNotFound                    // no such thing, or the caller may not know it exists
	KindConflict                    // the request collides with the current state
	KindRateLimited                 // too many requests; RetryAfter says when to try again
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindUnauthenticated:
		return "unauthenticated"
	case KindForbidden:
		return "forbidden"
	case KindNotFound:
		return "not_found"
	case KindConflict:
		return "conflict"
	case KindRateLimited:
		return "rate_limited"
	default:
		return "internal"
	}
}

// Stable error codes. They follow the Elastic Cloud naming, and the codes that
// Elastic defines keep their Elastic meaning; the others are orgd's own and are
// listed in docs/errors.md.
const (
	CodeInternal          = "root.internal"
	CodeInvalidData       = "root.invalid_data"
	CodeUnauthorized      = "root.unauthorized"
	CodeInvalidAuth       = "root.invalid_authentication"
	CodeNotFound          = "root.not_found"
	CodeMethodNotAllowed  = "root.method_not_allowed"
	CodeBodyTooLarge      = "root.request_too_large"
	CodeTooManyFailures   = "root.too_many_failed_attempts"
	CodeIdempotencyKey    = "root.invalid_idempotency_key"
	CodeIdempotencyReused = "root.idempotency_key_reused"
	CodeIdempotencyInUse  = "root.idempotency_key_in_use"
	CodeUserNotFound      = "user.not_found"
	CodeUserExists        = "user.already_exists"
	CodeEmailUnverified   = "user.email_unverified"
	CodeEmailMissing      = "user.email_missing"
	CodeIdentityConflict  = "user.identity_conflict"
	CodeOrgNotFound       = "organization.not_found"
	CodeOrgInvalidAccess  = "organization.invalid_access"
	CodeOrgInvalidName    = "organization.invalid_name"
	CodeOrgInvalidSlug    = "organization.invalid_slug"
	CodeOrgSlugTaken      = "organization.slug_already_exists"
	CodeInviteInvalidMail = "organization.invitation_invalid_email"
	CodeInviteExists      = "organization.invitation_already_exists"
	CodeAlreadyMember     = "organization.user_organization_already_belongs"
	CodeSenderNotMember   = "organization.user_organization_does_not_belong"
	CodeInviteRateLimit   = "organization.invitations_rate_limit_exceeded"
	CodeInviteNotFound    = "organization.invitation_not_found"
	CodeInviteExpired     = "organization.invitation_expired"
	CodeInviteUsed        = "organization.invitation_already_used"
	CodeInviteMismatch    = "organization.invitation_email_mismatch"
	CodeInviteDomain      = "organization.invitation_domain_not_allowed"
	CodeInviteExpiry      = "organization.invitation_invalid_expiry"
	CodeMemberLimit       = "organization.member_limit_exceeded"
	CodeMembershipMissing = "organization.membership_not_found"
	CodeLastOwner         = "organization.last_owner"
	CodeLastAdmin         = "organization.last_admin"
	CodeInvalidRole       = "role_assignments.invalid_role"
	CodeInvalidTarget     = "role_assignments.invalid_target_user_id"
	CodeRolesForbidden    = "role_assignments.unauthorized_role_assignments"
	CodeKeyNotFound       = "api_keys.key_not_found"
	CodeKeyInvalid        = "api_keys.invalid_input"
	CodeWebhookURL        = "webhook.invalid_url"
	CodeWebhookEvent      = "webhook.invalid_event"
	CodeWebhookNotFound   = "webhook.not_found"
	CodeWebhookLimit      = "webhook.limit_exceeded"
)

// Error is the one error type of orgd. Message is safe to show to the caller;
// Err (the cause) is for logs only.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	// Field names the offending part of the request in the domain's terms,
	// such as "emails[2]", "expires_in" or "role_assignments.organization[0].role_id".
	// Each surface translates it to its own wire names.
	Field string
	// Value is the offending value as the caller sent it, when it helps to
	// name it (an email address of a batch).
	Value string
	// RetryAfter is set on rate limits and cooldowns.
	RetryAfter time.Duration
	// Details holds one error per bad item when a request fails for several
	// reasons at once; the outer error summarises them.
	Details []*Error
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " (%s)", e.Field)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind and code with a formatted message.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ResourceNotFound is the answer to a path no operation serves.
func ResourceNotFound() *Error {
	return &Error{Kind: KindNotFound, Code: CodeNotFound, Message: "The requested resource was not found."}
}

// FieldError returns a KindInvalid error tied to a field of the request.
func FieldError(code, field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected failure. The caller sees a generic message; the
// cause is kept for the log.
func Internal(op string, err error) *Error {
	return &Error{Kind: KindInternal, Code: CodeInternal, Message: "An internal error occurred.", Err: fmt.Errorf("%s: %w", op, err)}
}

// AsError returns err as an *Error, turning anything else into an internal error.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal("unclassified", err)
}

// ErrorKind reports the kind of err, KindInternal for foreign errors.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrorCode reports the code of err, CodeInternal for foreign errors.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Common errors. They are values; callers must not modify them.
var (
	errOrgNotFound    = &Error{Kind: KindNotFound, Code: CodeOrgNotFound, Message: "Organization not found."}
	errInvalidAccess  = &Error{Kind: KindForbidden, Code: CodeOrgInvalidAccess, Message: "The current user does not have access to the requested organization."}
	errInviteNotFound = &Error{Kind: KindNotFound, Code: CodeInviteNotFound, Message: "Invitation not found."}
	errAlreadyMember  = &Error{Kind: KindConflict, Code: CodeAlreadyMember, Message: "User already belongs to organization."}
)

// ErrNotFound is returned by Store methods when a row does not exist. The
// service turns it into the right domain error.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by Store methods when a uniqueness rule of the
// database refused a write.
var ErrConflict = errors.New("conflict")
