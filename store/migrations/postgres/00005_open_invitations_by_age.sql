-- +goose Up
-- Pages of pending invitations, the default list of both APIs, in list
-- order: without it the planner may read every open invitation of the
-- organization through invitations_one_open and sort them to return 20
-- (seen on PostgreSQL before statistics exist: 13 ms instead of 0.07 ms
-- for a page of 20 among 10,000).
CREATE INDEX invitations_open_created ON invitations (org_id, created_at, id) WHERE status = 'open';

-- +goose Down
DROP INDEX invitations_open_created;
