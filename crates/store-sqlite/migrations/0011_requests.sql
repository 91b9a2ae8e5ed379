-- Cooperation requests: a header per request (what lists and filters read) and the signed
-- events of its history, in order. Not cached metadata: no trigger bumps meta_version.
CREATE TABLE requests (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    requester  TEXT NOT NULL,
    requested  TEXT NOT NULL,
    state      TEXT NOT NULL,
    emergency  INTEGER NOT NULL CHECK (emergency IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    due_at     INTEGER,
    events     INTEGER NOT NULL CHECK (events >= 0),
    document   TEXT NOT NULL
) STRICT;
-- Lists are newest first, ties by id; each filter narrows by its own index.
CREATE INDEX requests_by_update ON requests (updated_at DESC, id DESC);
CREATE INDEX requests_by_requester ON requests (requester, updated_at DESC, id DESC);
CREATE INDEX requests_by_requested ON requests (requested, updated_at DESC, id DESC);
CREATE INDEX requests_by_kind ON requests (kind, updated_at DESC, id DESC);
CREATE INDEX requests_by_state ON requests (state, updated_at DESC, id DESC);
CREATE INDEX requests_by_due ON requests (due_at) WHERE due_at IS NOT NULL;

-- Event n of a request, once: the primary key refuses a second event at the same place.
CREATE TABLE request_events (
    request TEXT NOT NULL REFERENCES requests(id),
    n       INTEGER NOT NULL CHECK (n >= 1),
    actor   TEXT NOT NULL,
    act     TEXT NOT NULL,
    at      INTEGER NOT NULL,
    sha256  TEXT NOT NULL,
    json    TEXT NOT NULL,
    PRIMARY KEY (request, n)
) STRICT;
