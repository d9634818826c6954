-- +goose Up
-- Every API key has a name, by which its user tells it from their other
-- keys when one must be revoked: the domain has refused an empty name, or
-- one only of spaces, since names were required, but keys made before may
-- have one. They are named after their visible prefix, which their user
-- sees beside the name, "unnamed key orgd_1a2b3c4d". "Only spaces" is what
-- the domain trims (Go's unicode.IsSpace): the characters of the U&''
-- literal below. The UPDATE locks only the rows it changes.
UPDATE api_keys SET name = 'unnamed key ' || prefix
WHERE btrim(name, U&'\0009\000A\000B\000C\000D\0020\0085\00A0\1680\2000\2001\2002\2003\2004\2005\2006\2007\2008\2009\200A\2028\2029\202F\205F\3000') = '';

-- +goose Down
-- Nothing to undo: the names given are names like any other.
SELECT 1;
