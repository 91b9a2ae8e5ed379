-- Schema version 1 of the embedded store.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value ANY NOT NULL
) STRICT;

CREATE TABLE api_roots (
    name               TEXT PRIMARY KEY,
    title              TEXT NOT NULL,
    description        TEXT,
    max_content_length INTEGER NOT NULL
) STRICT;

CREATE TABLE collections (
    ckey        INTEGER PRIMARY KEY,
    api_root    TEXT NOT NULL REFERENCES api_roots(name),
    id          TEXT NOT NULL,
    title       TEXT NOT NULL,
    description TEXT,
    UNIQUE (api_root, id)
) STRICT;

-- One row per object version. `seq` is the row number used as pagination tie-breaker.
CREATE TABLE objects (
    seq          INTEGER PRIMARY KEY,
    ckey         INTEGER NOT NULL REFERENCES collections(ckey),
    id           TEXT NOT NULL,
    type         TEXT NOT NULL,
    version      TEXT NOT NULL,
    version_key  TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    date_added   INTEGER NOT NULL,
    is_first     INTEGER NOT NULL,
    is_last      INTEGER NOT NULL,
    json         TEXT NOT NULL
) STRICT;
-- Named so that id look-ups can insist on it (`INDEXED BY`): left to itself the planner
-- may walk a date index to satisfy ORDER BY and scan millions of rows.
CREATE UNIQUE INDEX objects_by_id ON objects (ckey, id, version_key);
CREATE INDEX objects_by_date ON objects (ckey, date_added);
CREATE INDEX objects_last_by_date ON objects (ckey, date_added) WHERE is_last = 1;
CREATE INDEX objects_first_by_date ON objects (ckey, date_added) WHERE is_first = 1;

CREATE TABLE statuses (
    id         TEXT PRIMARY KEY,
    api_root   TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    body       TEXT NOT NULL
) STRICT;
CREATE INDEX statuses_by_age ON statuses (created_us);

CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL
) STRICT;

CREATE TABLE grants (
    ckey      INTEGER NOT NULL REFERENCES collections(ckey),
    user_name TEXT NOT NULL REFERENCES users(name),
    can_read  INTEGER NOT NULL,
    can_write INTEGER NOT NULL,
    PRIMARY KEY (ckey, user_name)
) STRICT;
