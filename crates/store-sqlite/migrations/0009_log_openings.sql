-- The openings of version 2 log entries: what each salted commitment hides (actor,
-- subject, hash and salt), kept under the entry's index, the scope that may read it (an
-- object's collection, `api_root/id`; empty for the node's own acts) and its subject.
CREATE TABLE tlog_openings (
    idx     INTEGER PRIMARY KEY REFERENCES tlog_entries(idx),
    scope   TEXT NOT NULL,
    subject TEXT NOT NULL,
    opening BLOB NOT NULL
) STRICT;
CREATE INDEX tlog_openings_by_subject ON tlog_openings (scope, subject);
