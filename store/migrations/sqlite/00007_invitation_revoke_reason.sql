-- +goose Up
-- Why orgd revoked an invitation that no one revoked by hand: '' for a
-- revoke by hand (and for every invitation not revoked), 'address_is_member'
-- when its address, verified, became a member's. The invitation page tells
-- the holder of such a link that the address is a member, instead of
-- calling the link not valid.
ALTER TABLE invitations ADD COLUMN revoke_reason TEXT NOT NULL DEFAULT '';
-- Invitations revoked so before this column have the reason in the details
-- of their audit event (JSON with sorted keys, as orgd writes it).
UPDATE invitations SET revoke_reason = 'address_is_member'
WHERE status = 'revoked' AND id IN (
    SELECT target_id FROM audit_events
    WHERE action = 'invitation.revoked' AND target_type = 'invitation'
      AND details LIKE '%"reason":"the address is a member''s"%'
);

-- +goose Down
ALTER TABLE invitations DROP COLUMN revoke_reason;
