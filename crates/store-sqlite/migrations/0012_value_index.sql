-- The value index: one posting per observable value of each stored object version, removed
-- with the version. O(values): no pair table. Not cached metadata: no trigger bumps
-- meta_version. Blocks are 16-byte big-endian ends (IPv4 in the low 4 bytes).
CREATE TABLE value_postings (
    object_seq INTEGER NOT NULL REFERENCES objects(seq) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    net_lo     BLOB,
    net_hi     BLOB,
    CHECK ((net_lo IS NULL) = (net_hi IS NULL))
) STRICT;
CREATE INDEX value_postings_by_value ON value_postings (kind, value);
CREATE INDEX value_postings_by_object ON value_postings (object_seq);
-- Addresses and blocks within a block.
CREATE INDEX value_postings_by_net ON value_postings (kind, net_lo) WHERE net_lo IS NOT NULL;
-- Blocks (not single addresses) that may contain an address: few, so a range scan is short.
CREATE INDEX value_postings_blocks ON value_postings (kind, net_lo, net_hi) WHERE net_lo <> net_hi;
