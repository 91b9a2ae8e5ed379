-- Federation: a durable outbox per peer, the journal of envelopes received from peers,
-- and the member whose shared objects a collection receives.

-- The last seq given to each peer: bumped inside the pushing transaction, so seqs run
-- 1, 2, … per peer without gaps or repeats, whichever process pushes.
CREATE TABLE outbox_counters (
    peer     TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
) STRICT;

CREATE TABLE outbox (
    peer            TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    id              TEXT NOT NULL,
    kind            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    body            TEXT NOT NULL,
    delivered_at    INTEGER,
    receipt         TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    PRIMARY KEY (peer, seq),
    UNIQUE (peer, id)
) STRICT;
-- What is left to deliver, per peer in seq order.
CREATE INDEX outbox_pending ON outbox (peer, seq) WHERE delivered_at IS NULL;

-- One row per envelope received; a retry is answered from here with the same receipt.
CREATE TABLE inbox (
    sender      TEXT NOT NULL,
    id          TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('delivered', 'refused')),
    reason      TEXT,
    receipt     TEXT NOT NULL,
    PRIMARY KEY (sender, id)
) STRICT;
-- One envelope per sequence number and sender: concurrent envelopes claiming the same
-- number cannot both be recorded.
CREATE UNIQUE INDEX inbox_by_seq ON inbox (sender, seq);

-- The member (`identity--…`) whose shared objects the collection receives; NULL for a
-- collection of this node's own.
ALTER TABLE collections ADD COLUMN origin TEXT;
