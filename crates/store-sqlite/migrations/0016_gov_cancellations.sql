-- Governance: a proposal canceled by its proposer while pending, with the signed
-- cancellation as received. At most one per proposal.
CREATE TABLE gov_cancellations (
    proposal TEXT PRIMARY KEY REFERENCES gov_proposals(id),
    member   TEXT NOT NULL,
    at       INTEGER NOT NULL,
    sha256   TEXT NOT NULL,
    json     TEXT NOT NULL
) STRICT;
