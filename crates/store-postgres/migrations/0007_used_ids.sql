-- Ids of signed one-time requests already answered (catch-up pulls), kept until they can
-- no longer be fresh, so that a captured request is refused by every process of the node.
CREATE TABLE used_ids (
    id         TEXT COLLATE "C" PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX used_ids_by_expiry ON used_ids (expires_at);
