-- Federation: a durable outbox per peer, the journal of envelopes received from peers,
-- and the member whose shared objects a collection receives. Peer, sender and envelope
-- ids collate byte-wise, so listings order as in the embedded store.

-- The last seq given to each peer: its row is locked by the upsert of every pushing
-- transaction, so seqs run 1, 2, … per peer without gaps or repeats across processes.
CREATE TABLE outbox_counters (
    peer     TEXT COLLATE "C" PRIMARY KEY,
    last_seq BIGINT NOT NULL
);

CREATE TABLE outbox (
    peer            TEXT COLLATE "C" NOT NULL,
    seq             BIGINT NOT NULL,
    id              TEXT COLLATE "C" NOT NULL,
    kind            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    body            TEXT NOT NULL,
    delivered_at    BIGINT,
    receipt         TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    PRIMARY KEY (peer, seq),
    UNIQUE (peer, id)
);
-- What is left to deliver, per peer in seq order.
CREATE INDEX outbox_pending ON outbox (peer, seq) WHERE delivered_at IS NULL;

-- One row per envelope received; a retry is answered from here with the same receipt.
CREATE TABLE inbox (
    sender      TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    seq         BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('delivered', 'refused')),
    reason      TEXT,
    receipt     TEXT NOT NULL,
    PRIMARY KEY (sender, id)
);
-- One envelope per sequence number and sender: concurrent envelopes claiming the same
-- number cannot both be recorded.
CREATE UNIQUE INDEX inbox_by_seq ON inbox (sender, seq);

-- The member (`identity--…`) whose shared objects the collection receives; NULL for a
-- collection of this node's own.
ALTER TABLE collections ADD COLUMN origin TEXT;
