-- +goose Up
-- Times are unix microseconds (UTC) in both engines, so that one SQL text
-- serves both and ordering is exact. Lists are JSON arrays as text.
CREATE TABLE organizations (
    id                     TEXT    PRIMARY KEY,
    slug                   TEXT    NOT NULL UNIQUE,
    name                   TEXT    NOT NULL,
    description            TEXT    NOT NULL DEFAULT '',
    is_active              INTEGER NOT NULL DEFAULT 1,
    disk_usage_alerts      INTEGER NOT NULL DEFAULT 1,
    notification_domains   TEXT    NOT NULL DEFAULT '[]',
    billing_contacts       TEXT    NOT NULL DEFAULT '[]',
    operational_contacts   TEXT    NOT NULL DEFAULT '[]',
    allow_external_invites INTEGER NOT NULL DEFAULT 1,
    allowed_email_domains  TEXT    NOT NULL DEFAULT '[]',
    max_members            INTEGER NOT NULL DEFAULT 500,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id             TEXT    PRIMARY KEY,
    email          TEXT    NOT NULL,
    email_norm     TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL DEFAULT '',
    platform_admin INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
) STRICT;

-- API keys are stored as a SHA-256 hash and a short visible prefix.
CREATE TABLE api_keys (
    id           TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL DEFAULT '',
    prefix       TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX api_keys_user ON api_keys (user_id);

-- role is the strongest organization role in role_assignments ('' for none);
-- the domain computes it on every write so that owners and admins can be counted.
CREATE TABLE memberships (
    org_id           TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role             TEXT    NOT NULL DEFAULT '',
    role_assignments TEXT    NOT NULL DEFAULT '{}',
    member_since     INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
) STRICT;
CREATE INDEX memberships_user ON memberships (user_id);
CREATE INDEX memberships_role ON memberships (org_id, role);
CREATE INDEX memberships_joined ON memberships (org_id, member_since, user_id);

-- Tokens are stored as a SHA-256 hash (look-ups) and sealed under the server
-- key (the Elastic API lists them to administrators); never in clear.
CREATE TABLE invitations (
    id               TEXT    PRIMARY KEY,
    org_id           TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email            TEXT    NOT NULL,
    email_norm       TEXT    NOT NULL,
    inviter_id       TEXT    REFERENCES users (id) ON DELETE SET NULL,
    role_assignments TEXT    NOT NULL DEFAULT '{}',
    role             TEXT    NOT NULL DEFAULT '', -- the strongest organization role promised, for filters
    status           TEXT    NOT NULL CHECK (status IN ('open', 'accepted', 'declined', 'revoked')),
    token_hash       TEXT    NOT NULL UNIQUE,
    token_sealed     TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    issued_at        INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    responded_at     INTEGER,
    accepted_user_id TEXT,
    -- The delivery of the invitation email: not_requested, queued, sent or failed.
    email_status     TEXT    NOT NULL DEFAULT 'not_requested',
    email_error      TEXT    NOT NULL DEFAULT ''
) STRICT;
-- One live invitation per organization and address.
CREATE UNIQUE INDEX invitations_one_open ON invitations (org_id, email_norm) WHERE status = 'open';
CREATE INDEX invitations_org_created ON invitations (org_id, created_at, id);
CREATE INDEX invitations_org_issued ON invitations (org_id, issued_at);
CREATE INDEX invitations_open_email ON invitations (email_norm) WHERE status = 'open';

-- The audit log: every change, written in the transaction of the change.
-- org_id has no foreign key so that the history outlives what it describes.
CREATE TABLE audit_events (
    id            TEXT    PRIMARY KEY,
    at            INTEGER NOT NULL,
    org_id        TEXT    NOT NULL DEFAULT '',
    actor_user_id TEXT    NOT NULL DEFAULT '',
    actor_key_id  TEXT    NOT NULL DEFAULT '',
    actor         TEXT    NOT NULL DEFAULT '',
    surface       TEXT    NOT NULL DEFAULT '',
    request_id    TEXT    NOT NULL DEFAULT '',
    action        TEXT    NOT NULL,
    target_type   TEXT    NOT NULL DEFAULT '',
    target_id     TEXT    NOT NULL DEFAULT '',
    details       TEXT    NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_events_org ON audit_events (org_id, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE invitations;
DROP TABLE memberships;
DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE organizations;
