-- Witnessing over envelopes: the cosignatures peers gave this node's checkpoints (one per
-- peer and size), and the alerts raised when witnessing met an inconsistency, with their
-- evidence (signed notes and proofs), each kept once.
CREATE TABLE tlog_cosignatures (
    witness     TEXT NOT NULL,
    size        BIGINT NOT NULL,
    checkpoint  TEXT NOT NULL,
    line        TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (witness, size)
);
CREATE INDEX tlog_cosignatures_size ON tlog_cosignatures (size);
CREATE TABLE witness_alerts (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     BIGINT NOT NULL,
    peer   TEXT NOT NULL,
    kind   TEXT NOT NULL,
    detail TEXT NOT NULL,
    ours   TEXT NOT NULL,
    theirs TEXT NOT NULL,
    proof  TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE
);
