-- Feed subscriptions: what an admin subscribed to and where its runs left off, and the
-- values a list feed's last run saw. Not cached metadata: no trigger bumps meta_version.
CREATE TABLE feeds (
    name          TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    url           TEXT NOT NULL,
    api_root      TEXT NOT NULL,
    collection    TEXT NOT NULL,
    interval_secs INTEGER NOT NULL CHECK (interval_secs > 0),
    settings      TEXT NOT NULL,
    secret        TEXT,
    created_at    INTEGER NOT NULL,
    cursor        TEXT,
    last_run      INTEGER,
    last_error    TEXT,
    failures      INTEGER NOT NULL CHECK (failures >= 0),
    next_run      INTEGER NOT NULL,
    runs          INTEGER NOT NULL CHECK (runs >= 0),
    failed_runs   INTEGER NOT NULL CHECK (failed_runs >= 0),
    objects       INTEGER NOT NULL CHECK (objects >= 0)
) STRICT;

CREATE TABLE feed_values (
    feed    TEXT NOT NULL REFERENCES feeds(name),
    value   TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (feed, value)
) STRICT;
