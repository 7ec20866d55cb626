-- Tablium schema, version 11: staff reviews of integrity flags, and hands by end time.
--
-- The flags themselves are computed from the hand histories on request (poker/integrity,
-- services/integrity.py); a review is what staff decided about one flag id, which names a pair
-- (and, for chip dumping, a direction) forever: "dumping:chips:12:34", "collusion:chips:12:34".
-- Every change of a review is in the audit log, in the change's own transaction.

CREATE TABLE integrity_reviews (
    flag_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('dumping', 'collusion')),
    status TEXT NOT NULL CHECK (status IN ('dismissed', 'confirmed')),
    reason TEXT NOT NULL,
    reviewed_by TEXT NOT NULL,
    banned_player_id BIGINT,  -- the player banned from this flag, when staff did
    updated_at_ms BIGINT NOT NULL
);

-- The reports read a period of hands (ended_at_ms in [from, to)).
CREATE INDEX hand_histories_by_end ON hand_histories (ended_at_ms, seq);
