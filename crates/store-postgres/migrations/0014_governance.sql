-- Governance: proposals as tabled (their signed text), the ballots received on each
-- (refusal NULL when admitted), the outcome of each, every version of the rules and of
-- every norm. Not cached metadata: no trigger bumps meta_version.
CREATE TABLE gov_proposals (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    proposer  TEXT NOT NULL,
    tabled_at BIGINT NOT NULL,
    deadline  BIGINT NOT NULL,
    sha256    TEXT NOT NULL,
    json      TEXT NOT NULL
);
CREATE INDEX gov_proposals_by_tabling ON gov_proposals (tabled_at DESC, id DESC);
CREATE INDEX gov_proposals_by_deadline ON gov_proposals (deadline, id);

-- A text once per proposal; n keeps the order received.
CREATE TABLE gov_ballots (
    n           BIGSERIAL PRIMARY KEY,
    proposal    TEXT NOT NULL REFERENCES gov_proposals(id),
    sha256      TEXT NOT NULL,
    member      TEXT,
    received_at BIGINT NOT NULL,
    refusal     TEXT,
    json        TEXT NOT NULL,
    UNIQUE (proposal, sha256)
);

CREATE TABLE gov_outcomes (
    proposal    TEXT PRIMARY KEY REFERENCES gov_proposals(id),
    decision    TEXT NOT NULL,
    digest      TEXT NOT NULL,
    counted_at  BIGINT NOT NULL,
    executed_at BIGINT,
    json        TEXT NOT NULL
);

CREATE TABLE gov_rules (
    version  BIGINT PRIMARY KEY CHECK (version >= 1),
    json     TEXT NOT NULL,
    proposal TEXT REFERENCES gov_proposals(id),
    at       BIGINT NOT NULL
);

CREATE TABLE gov_norms (
    norm     TEXT NOT NULL,
    version  BIGINT NOT NULL CHECK (version >= 1),
    texts    TEXT NOT NULL,
    repealed BOOLEAN NOT NULL,
    proposal TEXT NOT NULL REFERENCES gov_proposals(id),
    at       BIGINT NOT NULL,
    PRIMARY KEY (norm, version)
);
