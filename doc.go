// Package orgd is the domain of the orgd service: organizations, their
// members and invitations, the one catalog of roles, the error model, and the
// business rules (create or refresh, expiry, accept, limits, who may do what).
//
// The rules run in Service over the small Store interface; the packages
// store (SQLite and PostgreSQL), api/elastic and api/dreadnode (the two HTTP
// surfaces) and cmd/orgd (the binary) only translate to and from it.
package orgd
