-- Governance: a norm adopted by the genesis document names the genesis (genesis--<UUID>)
-- where a later one names the proposal that decided it, so the column no longer
-- references gov_proposals (the code writes a proposal's id only once its outcome is
-- stored). SQLite changes a constraint by rebuilding the table.
CREATE TABLE gov_norms_new (
    norm     TEXT NOT NULL,
    version  INTEGER NOT NULL CHECK (version >= 1),
    texts    TEXT NOT NULL,
    repealed INTEGER NOT NULL CHECK (repealed IN (0, 1)),
    proposal TEXT NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (norm, version)
) STRICT;
INSERT INTO gov_norms_new (norm, version, texts, repealed, proposal, at)
    SELECT norm, version, texts, repealed, proposal, at FROM gov_norms;
DROP TABLE gov_norms;
ALTER TABLE gov_norms_new RENAME TO gov_norms;
