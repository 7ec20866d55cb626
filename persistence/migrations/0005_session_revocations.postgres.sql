-- Sessions ended by logout or by a ban: their tokens are refused, across restarts and on every
-- node. A row is needed only while a token of the session could still be valid
-- (expires_at_ms); expired rows are deleted a few at a time as new ones arrive.

CREATE TABLE revoked_sessions (
    session_id TEXT PRIMARY KEY,
    player TEXT NOT NULL,
    revoked_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions (expires_at_ms);
