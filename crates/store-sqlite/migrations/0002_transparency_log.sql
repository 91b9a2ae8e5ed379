-- The node's transparency log: entries, the stored hashes of their Merkle tree in the
-- comity-tlog (Go sumdb/tlog) layout, signed checkpoints, and the witness state.
CREATE TABLE tlog_entries (
    idx   INTEGER PRIMARY KEY,
    entry BLOB NOT NULL
) STRICT;
CREATE TABLE tlog_hashes (
    idx  INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
) STRICT;
CREATE TABLE tlog_checkpoints (
    size INTEGER PRIMARY KEY,
    note TEXT NOT NULL
) STRICT;
-- The latest checkpoint this node cosigned, per peer log.
CREATE TABLE tlog_witnessed (
    origin TEXT PRIMARY KEY,
    size   INTEGER NOT NULL,
    root   BLOB NOT NULL,
    note   TEXT NOT NULL
) STRICT;
CREATE TABLE tlog_trusted (
    origin       TEXT PRIMARY KEY,
    verifier_key TEXT NOT NULL
) STRICT;
