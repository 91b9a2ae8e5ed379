-- Cooperation requests: the bytes of an attachment still to be queued for the other party
-- after the event that lists them, written in the event's transaction and removed once its
-- chunks are in the outbox (a crash in between leaves the row, and the node queues again).
CREATE TABLE request_transfers (
    request TEXT NOT NULL REFERENCES requests(id),
    sha256  TEXT NOT NULL,
    member  TEXT NOT NULL,
    PRIMARY KEY (request, sha256, member)
) STRICT;
