-- The load tool's insert limit in pgbench: one autocommit one-row INSERT,
-- the unit the issue's targets for writes are written in.
\set r random(1, 1000000000000000)
INSERT INTO pgbench_limit_insert (id, worker, email, created_at) VALUES (CAST(:client_id AS text) || '-' || CAST(:r AS text), :client_id, 'row@example.com', 1);
