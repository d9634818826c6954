-- +goose Up
-- Invitations revoked because their address became a member's before
-- migration 00007 added revoke_reason have the reason only in the details
-- of their audit event (JSON with sorted keys, as orgd writes it). This
-- reads the whole audit log; the UPDATE locks only the rows it changes,
-- revoked invitations, which nothing else writes.
UPDATE invitations SET revoke_reason = 'address_is_member'
WHERE status = 'revoked' AND id IN (
    SELECT target_id FROM audit_events
    WHERE action = 'invitation.revoked' AND target_type = 'invitation'
      AND details LIKE '%"reason":"the address is a member''s"%'
);

-- +goose Down
-- Nothing to undo: 00007's Down drops the column.
SELECT 1;
