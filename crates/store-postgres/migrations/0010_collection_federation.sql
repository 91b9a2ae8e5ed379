-- Sharing a collection's objects with peers is an explicit admin choice (`comity collection
-- federate`), committed to the log: a collection made from now on is not federated. Every
-- plain collection that exists already was shared under the agreements before this
-- migration, so it stays federated (an upgrade changes nothing until an admin does).
ALTER TABLE collections ADD COLUMN federated BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE collections SET federated = TRUE WHERE view IS NULL AND origin IS NULL;
