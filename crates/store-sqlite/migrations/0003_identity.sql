-- API tokens (only the SHA-256 of each secret), the registry of members and agreements
-- (documents the node interprets, kept as given), and policy views on collections.
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    label         TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    member        TEXT,
    secret_sha256 BLOB NOT NULL CHECK (length(secret_sha256) = 32),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER
) STRICT;

CREATE TABLE registry (
    kind       TEXT NOT NULL CHECK (kind IN ('member', 'agreement')),
    id         TEXT NOT NULL,
    status     TEXT NOT NULL,
    document   TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;

-- A policy view's JSON description; NULL for an ordinary collection.
ALTER TABLE collections ADD COLUMN view TEXT;
