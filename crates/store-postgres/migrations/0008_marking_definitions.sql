-- Marking definitions are read by every exit (what a marking reference means), so they
-- are found through their own small index, and adding or deleting one moves the counter
-- that servers' caches follow.
CREATE INDEX objects_marking_definitions ON objects (seq) WHERE type = 'marking-definition';
CREATE TRIGGER marking_definitions_insert_bump_meta_version AFTER INSERT ON objects
    FOR EACH ROW WHEN (NEW.type = 'marking-definition')
    EXECUTE FUNCTION comity_bump_meta_version();
CREATE TRIGGER marking_definitions_delete_bump_meta_version AFTER DELETE ON objects
    FOR EACH ROW WHEN (OLD.type = 'marking-definition')
    EXECUTE FUNCTION comity_bump_meta_version();
CREATE TRIGGER objects_truncate_bump_meta_version AFTER TRUNCATE ON objects
    FOR EACH STATEMENT EXECUTE FUNCTION comity_bump_meta_version();
