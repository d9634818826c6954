-- +goose Up
-- Why orgd revoked an invitation that no one revoked by hand: '' for a
-- revoke by hand (and for every invitation not revoked), 'address_is_member'
-- when its address, verified, became a member's. The invitation page tells
-- the holder of such a link that the address is a member, instead of
-- calling the link not valid. The reasons of invitations revoked before
-- this column are filled in by the next migration, in a transaction of its
-- own, so that this one holds its lock on invitations (PostgreSQL's ACCESS
-- EXCLUSIVE, for ALTER TABLE) only for the moment of adding the column, not
-- for a scan of the whole audit log.
ALTER TABLE invitations ADD COLUMN revoke_reason TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE invitations DROP COLUMN revoke_reason;
