-- The node's transparency log: entries, the stored hashes of their Merkle tree in the
-- comity-tlog layout, signed checkpoints, and the witness state. Appends hold the
-- date_clock row lock, so one process at a time derives the next index.
CREATE TABLE tlog_entries (
    idx   BIGINT PRIMARY KEY,
    entry BYTEA NOT NULL
);
CREATE TABLE tlog_hashes (
    idx  BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);
CREATE TABLE tlog_checkpoints (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL
);
-- The latest checkpoint this node cosigned, per peer log.
CREATE TABLE tlog_witnessed (
    origin TEXT PRIMARY KEY,
    size   BIGINT NOT NULL,
    root   BYTEA NOT NULL,
    note   TEXT NOT NULL
);
CREATE TABLE tlog_trusted (
    origin       TEXT PRIMARY KEY,
    verifier_key TEXT NOT NULL
);
