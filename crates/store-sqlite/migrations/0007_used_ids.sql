-- Ids of signed one-time requests already answered (catch-up pulls), kept until they can
-- no longer be fresh, so that a captured request is refused by every process of the node.
CREATE TABLE used_ids (
    id         TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX used_ids_by_expiry ON used_ids (expires_at);
