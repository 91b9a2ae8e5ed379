-- Object JSON stored compressed (zstd), with dictionaries trained on the node's own objects.
-- A dictionary is never changed or removed: rows written with it stay readable. Empty bytes
-- record a training that found nothing to learn. `trained_at` is the row count it was
-- trained at (the next training waits for growth from there).
CREATE TABLE dictionaries (
    id         INTEGER PRIMARY KEY,
    created    INTEGER NOT NULL,
    trained_at INTEGER NOT NULL,
    bytes      BLOB NOT NULL
) STRICT;
-- A row keeps its JSON either in `json` (rows written before this version, and objects that
-- compression would not make smaller) or as a zstd frame in `packed` with `json` empty;
-- `dictionary` names the dictionary the frame was written with (NULL: plain zstd).
-- Existing rows are not rewritten: adding nullable columns is instant at any size.
ALTER TABLE objects ADD COLUMN packed BLOB;
ALTER TABLE objects ADD COLUMN dictionary INTEGER REFERENCES dictionaries(id);
