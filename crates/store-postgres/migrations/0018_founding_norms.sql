-- Governance: a norm adopted by the genesis document names the genesis (genesis--<UUID>)
-- where a later one names the proposal that decided it, so the column no longer
-- references gov_proposals (the code writes a proposal's id only once its outcome is
-- stored).
ALTER TABLE gov_norms DROP CONSTRAINT gov_norms_proposal_fkey;
