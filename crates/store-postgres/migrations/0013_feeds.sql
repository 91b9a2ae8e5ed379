-- Feed subscriptions: what an admin subscribed to and where its runs left off, and the
-- values a list feed's last run saw. Not cached metadata: no trigger bumps meta_version.
-- Names and values collate byte-wise, so lists order as in the embedded store.
CREATE TABLE feeds (
    name          TEXT COLLATE "C" PRIMARY KEY,
    kind          TEXT NOT NULL,
    url           TEXT NOT NULL,
    api_root      TEXT NOT NULL,
    collection    TEXT NOT NULL,
    interval_secs BIGINT NOT NULL CHECK (interval_secs > 0),
    settings      TEXT NOT NULL,
    secret        TEXT,
    created_at    BIGINT NOT NULL,
    cursor        TEXT,
    last_run      BIGINT,
    last_error    TEXT,
    failures      BIGINT NOT NULL CHECK (failures >= 0),
    next_run      BIGINT NOT NULL,
    runs          BIGINT NOT NULL CHECK (runs >= 0),
    failed_runs   BIGINT NOT NULL CHECK (failed_runs >= 0),
    objects       BIGINT NOT NULL CHECK (objects >= 0)
);

CREATE TABLE feed_values (
    feed    TEXT COLLATE "C" NOT NULL REFERENCES feeds(name),
    value   TEXT COLLATE "C" NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (feed, value)
);
