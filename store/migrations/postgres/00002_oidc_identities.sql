-- +goose Up
-- Users of an OpenID Connect issuer: the link from (issuer, subject) to a
-- user, and whether a user's address is verified. Only verified addresses
-- are unique: an unverified address proves nothing, so it must not keep the
-- person who does control it from getting their own user.
-- Existing users were made by orgd admin or the invitation page: verified.
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users DROP CONSTRAINT users_email_norm_key;
CREATE UNIQUE INDEX users_verified_email ON users (email_norm) WHERE email_verified;

-- One user per subject of an issuer, and one subject of an issuer per user.
CREATE TABLE user_identities (
    issuer     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (issuer, subject),
    UNIQUE (user_id, issuer)
);

-- +goose Down
DROP TABLE user_identities;
-- Unverified users cannot keep their addresses under a unique email_norm.
DELETE FROM users WHERE NOT email_verified;
DROP INDEX users_verified_email;
ALTER TABLE users ADD CONSTRAINT users_email_norm_key UNIQUE (email_norm);
ALTER TABLE users DROP COLUMN email_verified;
