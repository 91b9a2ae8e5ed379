-- Governance: proposals as tabled (their signed text), the ballots received on each
-- (refusal NULL when admitted), the outcome of each, every version of the rules and of
-- every norm. Not cached metadata: no trigger bumps meta_version.
CREATE TABLE gov_proposals (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    proposer  TEXT NOT NULL,
    tabled_at INTEGER NOT NULL,
    deadline  INTEGER NOT NULL,
    sha256    TEXT NOT NULL,
    json      TEXT NOT NULL
) STRICT;
CREATE INDEX gov_proposals_by_tabling ON gov_proposals (tabled_at DESC, id DESC);
CREATE INDEX gov_proposals_by_deadline ON gov_proposals (deadline, id);

-- A text once per proposal; rowid keeps the order received.
CREATE TABLE gov_ballots (
    proposal    TEXT NOT NULL REFERENCES gov_proposals(id),
    sha256      TEXT NOT NULL,
    member      TEXT,
    received_at INTEGER NOT NULL,
    refusal     TEXT,
    json        TEXT NOT NULL,
    UNIQUE (proposal, sha256)
) STRICT;

CREATE TABLE gov_outcomes (
    proposal    TEXT PRIMARY KEY REFERENCES gov_proposals(id),
    decision    TEXT NOT NULL,
    digest      TEXT NOT NULL,
    counted_at  INTEGER NOT NULL,
    executed_at INTEGER,
    json        TEXT NOT NULL
) STRICT;

CREATE TABLE gov_rules (
    version  INTEGER PRIMARY KEY CHECK (version >= 1),
    json     TEXT NOT NULL,
    proposal TEXT REFERENCES gov_proposals(id),
    at       INTEGER NOT NULL
) STRICT;

CREATE TABLE gov_norms (
    norm     TEXT NOT NULL,
    version  INTEGER NOT NULL CHECK (version >= 1),
    texts    TEXT NOT NULL,
    repealed INTEGER NOT NULL CHECK (repealed IN (0, 1)),
    proposal TEXT NOT NULL REFERENCES gov_proposals(id),
    at       INTEGER NOT NULL,
    PRIMARY KEY (norm, version)
) STRICT;
