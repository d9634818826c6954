-- +goose NO TRANSACTION
-- +goose Up
-- Users of an OpenID Connect issuer: the link from (issuer, subject) to a
-- user, and whether a user's address is verified. Only verified addresses
-- are unique: an unverified address proves nothing, so it must not keep the
-- person who does control it from getting their own user.
--
-- SQLite cannot drop the UNIQUE of users.email_norm, so the table is rebuilt
-- the way SQLite documents it (https://sqlite.org/lang_altertable.html#otheralter):
-- with foreign keys off, or dropping the old table would delete every API
-- key and membership through ON DELETE CASCADE. PRAGMA foreign_keys has no
-- effect inside a transaction, hence NO TRANSACTION and an explicit one.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE users_new (
    id             TEXT    PRIMARY KEY,
    email          TEXT    NOT NULL,
    email_norm     TEXT    NOT NULL,
    -- Existing users were made by orgd admin or the invitation page: verified.
    email_verified INTEGER NOT NULL DEFAULT 1,
    name           TEXT    NOT NULL DEFAULT '',
    platform_admin INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
) STRICT;
INSERT INTO users_new (id, email, email_norm, email_verified, name, platform_admin, created_at)
    SELECT id, email, email_norm, 1, name, platform_admin, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE UNIQUE INDEX users_verified_email ON users (email_norm) WHERE email_verified;

-- One user per subject of an issuer, and one subject of an issuer per user.
CREATE TABLE user_identities (
    issuer     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject),
    UNIQUE (user_id, issuer)
) STRICT;
COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
-- Unverified users cannot keep their addresses under a unique email_norm;
-- they go first, while foreign keys still cascade.
DELETE FROM users WHERE NOT email_verified;
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
DROP TABLE user_identities;
CREATE TABLE users_old (
    id             TEXT    PRIMARY KEY,
    email          TEXT    NOT NULL,
    email_norm     TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL DEFAULT '',
    platform_admin INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
) STRICT;
INSERT INTO users_old (id, email, email_norm, name, platform_admin, created_at)
    SELECT id, email, email_norm, name, platform_admin, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
COMMIT;
PRAGMA foreign_keys = ON;
