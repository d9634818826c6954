-- A transaction shaped like orgd's create of one invitation with the load
-- tool's settings (limits off): the statements orgd sends (traced with
-- log_statement=all), on orgd's tables and indexes, with rows of about
-- orgd's sizes. Simplified: the invitee look-up returns fewer columns, and
-- River's job is one VALUES row where River unnests arrays. Run with
-- -M prepared, as pgx prepares orgd's statements. (pgbench reads :name as a
-- variable anywhere, string literals included, so the text columns below
-- hold JSON-sized text with = for : and the job's arguments are built.)
\set r random(1, 1000000000000000)
BEGIN;
SELECT o.id, o.slug, o.name, o.description, o.is_active, o.disk_usage_alerts, o.notification_domains, o.billing_contacts, o.operational_contacts, o.allow_external_invites, o.allowed_email_domains, o.max_members, o.created_at, o.updated_at, m.user_id, m.role, m.role_assignments, m.member_since, u.email, u.name, u.platform_admin FROM organizations o LEFT JOIN memberships m ON m.org_id = o.id AND m.user_id = :usr LEFT JOIN users u ON u.id = m.user_id WHERE o.id = :org;
SELECT 'i', i.id, i.email_norm, i.role_assignments, i.token_hash, i.issued_at FROM invitations i WHERE i.org_id || '' = :org AND i.status = 'open' AND i.email_norm IN ('a' || CAST(:r AS text)) UNION ALL SELECT 'm', '', u.email_norm, '{}', '', 0 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id || '' = :org AND u.email_verified AND u.email_norm IN ('a' || CAST(:r AS text));
INSERT INTO invitations (id, org_id, email, email_norm, inviter_id, role_assignments, role, status, token_hash, token_sealed, created_at, issued_at, expires_at, email_status, email_error) VALUES ('i' || CAST(:r AS text), :org, 'a@example.com', 'a' || CAST(:r AS text), :usr, '{"organization"=[{"role_id"="organization-admin","organization_id"="org1"}]}', 'admin', 'open', 'h' || CAST(:r AS text), 'sealed-token-of-about-ninety-characters-sealed-token-of-about-ninety-characters-sealed', 1, 1, 9000000000000000, 'queued', '');
INSERT INTO river_job (args, kind, max_attempts, priority, queue, state, tags) VALUES (jsonb_build_object('invitation_id', '0193b2c4-aaaa-bbbb-cccc-ddddeeeeffff', 'token_hash', 'abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd'), 'invitation_email', 25, 1, 'email', 'available', '{}') RETURNING id;
WITH audit AS (INSERT INTO audit_events (id, at, org_id, actor_user_id, actor_key_id, actor, surface, request_id, action, target_type, target_id, details) VALUES ('e' || CAST(:r AS text), 1, :org, :usr, 'key', 'owner@example.com', 'elastic', 'request-id', 'invitation.created', 'invitation', 'i' || CAST(:r AS text), '{"email"="a@example.com","role"="admin","send_email"=true}')) SELECT id, org_id, url, events FROM webhook_endpoints WHERE org_id = 'org1' OR org_id IS NULL ORDER BY created_at, id;
COMMIT;
