-- A counter bumped by every change to what servers cache in memory (API roots,
-- collections, users, grants, tokens, the registry), so that a cache is known to be
-- current with one read of one row, whichever process made the change.
CREATE TABLE meta_version (
    only    INTEGER PRIMARY KEY CHECK (only = 0),
    version INTEGER NOT NULL
) STRICT;
INSERT INTO meta_version (only, version) VALUES (0, 1);
CREATE TRIGGER api_roots_insert_bumps_meta AFTER INSERT ON api_roots
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER api_roots_update_bumps_meta AFTER UPDATE ON api_roots
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER api_roots_delete_bumps_meta AFTER DELETE ON api_roots
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER collections_insert_bumps_meta AFTER INSERT ON collections
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER collections_update_bumps_meta AFTER UPDATE ON collections
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER collections_delete_bumps_meta AFTER DELETE ON collections
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER users_insert_bumps_meta AFTER INSERT ON users
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER users_update_bumps_meta AFTER UPDATE ON users
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER users_delete_bumps_meta AFTER DELETE ON users
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER grants_insert_bumps_meta AFTER INSERT ON grants
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER grants_update_bumps_meta AFTER UPDATE ON grants
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER grants_delete_bumps_meta AFTER DELETE ON grants
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER api_tokens_insert_bumps_meta AFTER INSERT ON api_tokens
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER api_tokens_update_bumps_meta AFTER UPDATE ON api_tokens
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER api_tokens_delete_bumps_meta AFTER DELETE ON api_tokens
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER registry_insert_bumps_meta AFTER INSERT ON registry
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER registry_update_bumps_meta AFTER UPDATE ON registry
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER registry_delete_bumps_meta AFTER DELETE ON registry
BEGIN UPDATE meta_version SET version = version + 1; END;
