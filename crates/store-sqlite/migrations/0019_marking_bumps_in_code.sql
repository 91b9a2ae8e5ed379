-- Adding or deleting a marking definition still moves the meta version, but the store's code
-- does it (once per write, see objects.rs) rather than a trigger on `objects`: a trigger makes
-- every object INSERT a multi-write statement, and SQLite then opens and closes a statement
-- journal for each one, which cost about a tenth of the writer's CPU on TAXII POST.
DROP TRIGGER marking_definitions_insert_bumps_meta;
DROP TRIGGER marking_definitions_delete_bumps_meta;
