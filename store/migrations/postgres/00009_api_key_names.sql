-- +goose Up
-- Every API key has a name, by which its user tells it from their other
-- keys when one must be revoked: the domain has refused an empty name, or
-- one only of spaces, since names were required, but keys made before may
-- have one. They are named after their visible prefix, which their user
-- sees beside the name, "unnamed key orgd_1a2b3c4d". "Only spaces" is what
-- the domain trims (strings.TrimSpace, Go's unicode.IsSpace): the 25
-- characters whose UTF-8 is listed below.
--
-- The database's encoding need not be UTF8, and a literal of a character
-- the encoding lacks (U&'\3000' in LATIN1; any but ASCII in SQL_ASCII)
-- fails the migration, even in a branch of a DO block that does not run.
-- So the spaces are listed as UTF-8 bytes, and each matched in both forms
-- a name may hold it in:
--  - converted into the database's encoding, as a connection whose
--    client_encoding is UTF8 writes it; a space the encoding lacks, or
--    every space where it has no conversion from UTF8 (MULE_INTERNAL), is
--    in no such name (the database refuses it) and is left out;
--  - its bytes taken as characters of the database's encoding, as orgd
--    writes it by default: pgx leaves client_encoding at the database's,
--    and LATIN1 or SQL_ASCII keeps the bytes of any UTF-8 unconverted;
--    bytes the encoding refuses (EUC_JP) are in no such name.
-- In UTF8 both forms are the character itself. A name matches when it is
-- a run of these, whole (a regular expression; btrim's set of single
-- characters would take U+201A, bytes e2 80 9a, each also a byte of a
-- space, for spaces), so the match is exact for every name orgd wrote with
-- its defaults. A name written converted whose bytes happen to be spaces'
-- UTF-8 (in LATIN1: U+00C2 then a no-break space) is taken for spaces too.
-- The UPDATE locks only the rows it changes.
-- +goose StatementBegin
DO $$
DECLARE
    utf8 bytea[] := ARRAY[
        decode('09', 'hex'), decode('0a', 'hex'), decode('0b', 'hex'), decode('0c', 'hex'),
        decode('0d', 'hex'), decode('20', 'hex'), decode('c285', 'hex'), decode('c2a0', 'hex'),
        decode('e19a80', 'hex'), decode('e28080', 'hex'), decode('e28081', 'hex'),
        decode('e28082', 'hex'), decode('e28083', 'hex'), decode('e28084', 'hex'),
        decode('e28085', 'hex'), decode('e28086', 'hex'), decode('e28087', 'hex'),
        decode('e28088', 'hex'), decode('e28089', 'hex'), decode('e2808a', 'hex'),
        decode('e280a8', 'hex'), decode('e280a9', 'hex'), decode('e280af', 'hex'),
        decode('e2819f', 'hex'), decode('e38080', 'hex')];
    spaces text[] := '{}';
    c bytea;
BEGIN
    FOREACH c IN ARRAY utf8 LOOP
        BEGIN
            spaces := spaces || convert_from(c, 'UTF8');
        EXCEPTION WHEN untranslatable_character OR undefined_function THEN
        END;
        BEGIN
            spaces := spaces || convert_from(c, current_setting('server_encoding'));
        EXCEPTION WHEN character_not_in_repertoire THEN
        END;
    END LOOP;
    UPDATE api_keys SET name = 'unnamed key ' || prefix
    WHERE name ~ ('^(?:' || array_to_string(spaces, '|') || ')*$');
END
$$;
-- +goose StatementEnd

-- +goose Down
-- Nothing to undo: the names given are names like any other.
SELECT 1;
