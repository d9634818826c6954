-- The two statements of orgd's list of one page of invitations (first page,
-- no filter): the access check's read of the organization and membership,
-- then the page, of open invitations as the Elastic surface lists by
-- default. Run with -M prepared, -D lim=21 (a page of 20 reads 21 rows to
-- know whether there is a next page) and -D now=2.
SELECT o.id, o.slug, o.name, o.description, o.is_active, o.disk_usage_alerts, o.notification_domains, o.billing_contacts, o.operational_contacts, o.allow_external_invites, o.allowed_email_domains, o.max_members, o.created_at, o.updated_at, m.user_id, m.role, m.role_assignments, m.member_since, u.email, u.name, u.platform_admin FROM organizations o LEFT JOIN memberships m ON m.org_id = o.id AND m.user_id = :usr LEFT JOIN users u ON u.id = m.user_id WHERE o.id = :org;
SELECT i.id, i.org_id, i.email, i.email_norm, i.inviter_id, i.role_assignments, i.role, i.status, i.token_hash, i.token_sealed, i.created_at, i.issued_at, i.expires_at, i.responded_at, i.accepted_user_id, i.email_status, i.email_error, o.slug, o.name, COALESCE(u.email, ''), COALESCE(u.name, '') FROM invitations i JOIN organizations o ON o.id = i.org_id LEFT JOIN users u ON u.id = i.inviter_id WHERE i.org_id = :org AND ((i.status = 'open' AND i.expires_at > :now) OR (i.status = 'open' AND i.expires_at <= :now)) ORDER BY i.created_at, i.id LIMIT :lim;
