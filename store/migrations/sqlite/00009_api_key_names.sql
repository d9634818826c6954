-- +goose Up
-- Every API key has a name, by which its user tells it from their other
-- keys when one must be revoked: the domain has refused an empty name, or
-- one only of spaces, since names were required, but keys made before may
-- have one. They are named after their visible prefix, which their user
-- sees beside the name, "unnamed key orgd_1a2b3c4d". "Only spaces" is what
-- the domain trims (Go's unicode.IsSpace): the characters of char(...)
-- below. The UPDATE locks only the rows it changes.
UPDATE api_keys SET name = 'unnamed key ' || prefix
WHERE trim(name, char(9, 10, 11, 12, 13, 32, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197,
    8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288)) = '';

-- +goose Down
-- Nothing to undo: the names given are names like any other.
SELECT 1;
