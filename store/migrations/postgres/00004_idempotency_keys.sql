-- +goose Up
-- The answers to requests made with an Idempotency-Key (docs/idempotency.md),
-- per user and key. A row is written in the transaction of the request's
-- changes, so it exists exactly when they do. The key is kept as its
-- SHA-256; the answer, which may hold a new API key or invitation tokens, is
-- sealed under the server key. Expired rows are ignored, then deleted.
CREATE TABLE idempotency_keys (
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key_hash    TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    answer      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    PRIMARY KEY (user_id, key_hash)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
