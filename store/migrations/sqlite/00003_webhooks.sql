-- +goose Up
-- Webhook endpoints: an organization's (org_id set) or the server's, which
-- receive every organization's events (org_id NULL). The signing secret is
-- sealed under the server key, bound to the row's id; never in clear. The
-- last_* columns and consecutive_failures describe the latest attempt.
CREATE TABLE webhook_endpoints (
    id                   TEXT    PRIMARY KEY,
    org_id               TEXT    REFERENCES organizations (id) ON DELETE CASCADE,
    url                  TEXT    NOT NULL,
    events               TEXT    NOT NULL DEFAULT '[]',
    description          TEXT    NOT NULL DEFAULT '',
    secret_sealed        TEXT    NOT NULL,
    created_at           INTEGER NOT NULL,
    last_attempt_at      INTEGER,
    last_success_at      INTEGER,
    last_status          INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT    NOT NULL DEFAULT '',
    consecutive_failures INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at);

-- When the expiry of an invitation's current issue was announced
-- (invitation.expired); a refresh clears it.
ALTER TABLE invitations ADD COLUMN expiry_announced_at INTEGER;
CREATE INDEX invitations_unannounced_expiry ON invitations (expires_at)
    WHERE status = 'open' AND expiry_announced_at IS NULL;

-- +goose Down
DROP INDEX invitations_unannounced_expiry;
ALTER TABLE invitations DROP COLUMN expiry_announced_at;
DROP TABLE webhook_endpoints;
