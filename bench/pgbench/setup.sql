-- The rows the pgbench scripts beside this file need, in a database that
-- `orgd migrate` has created: one organization with its owner.
INSERT INTO users (id, email, email_norm, created_at) VALUES ('u1', 'owner@example.com', 'owner@example.com', 1);
INSERT INTO organizations (id, slug, name, created_at, updated_at) VALUES ('org1', 'org1', 'Org 1', 1, 1);
INSERT INTO memberships (org_id, user_id, role, member_since) VALUES ('org1', 'u1', 'owner', 1);
-- The table of insert.sql, as the load tool's insert limit makes it.
CREATE TABLE pgbench_limit_insert (id TEXT PRIMARY KEY, worker INTEGER NOT NULL, email TEXT NOT NULL, created_at BIGINT NOT NULL);
