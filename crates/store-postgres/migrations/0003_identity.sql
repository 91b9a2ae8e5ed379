-- API tokens (only the SHA-256 of each secret), the registry of members and agreements
-- (documents the node interprets, kept as given), and policy views on collections.
-- Ids collate byte-wise, so listings order as in the embedded store.
CREATE TABLE api_tokens (
    id            TEXT COLLATE "C" PRIMARY KEY,
    label         TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    member        TEXT,
    secret_sha256 BYTEA NOT NULL CHECK (octet_length(secret_sha256) = 32),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    revoked_at    BIGINT
);

CREATE TABLE registry (
    kind       TEXT NOT NULL CHECK (kind IN ('member', 'agreement')),
    id         TEXT COLLATE "C" NOT NULL,
    status     TEXT NOT NULL,
    document   TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);

-- A policy view's JSON description; NULL for an ordinary collection.
ALTER TABLE collections ADD COLUMN view TEXT;
