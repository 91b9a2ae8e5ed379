-- A counter bumped by every change to what servers cache in memory (API roots,
-- collections, users, grants, tokens, the registry), so that a cache is known to be
-- current with one read of one row, whichever process made the change.
CREATE TABLE meta_version (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    version  BIGINT NOT NULL
);
INSERT INTO meta_version (only_row, version) VALUES (TRUE, 1);

CREATE FUNCTION comity_bump_meta_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE meta_version SET version = version + 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER api_roots_bump_meta_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_roots
    FOR EACH STATEMENT EXECUTE FUNCTION comity_bump_meta_version();
CREATE TRIGGER collections_bump_meta_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON collections
    FOR EACH STATEMENT EXECUTE FUNCTION comity_bump_meta_version();
CREATE TRIGGER users_bump_meta_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION comity_bump_meta_version();
CREATE TRIGGER grants_bump_meta_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grants
    FOR EACH STATEMENT EXECUTE FUNCTION comity_bump_meta_version();
CREATE TRIGGER api_tokens_bump_meta_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION comity_bump_meta_version();
CREATE TRIGGER registry_bump_meta_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON registry
    FOR EACH STATEMENT EXECUTE FUNCTION comity_bump_meta_version();
