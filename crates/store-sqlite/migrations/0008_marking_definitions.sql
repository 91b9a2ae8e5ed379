-- Marking definitions are read by every exit (what a marking reference means), so they
-- are found through their own small index, and adding or deleting one moves the counter
-- that servers' caches follow.
CREATE INDEX objects_marking_definitions ON objects (seq) WHERE type = 'marking-definition';
CREATE TRIGGER marking_definitions_insert_bumps_meta AFTER INSERT ON objects
WHEN NEW.type = 'marking-definition'
BEGIN UPDATE meta_version SET version = version + 1; END;
CREATE TRIGGER marking_definitions_delete_bumps_meta AFTER DELETE ON objects
WHEN OLD.type = 'marking-definition'
BEGIN UPDATE meta_version SET version = version + 1; END;
