-- The public HTTP API's records (api/, docs/api.md).
--
-- api_sessions: sessions begun by a password login over the API. Their id is the sid of the
-- access tokens issued for them (the websocket accepts those tokens), so a revoked session is
-- also written to revoked_sessions. Rows are deleted a few at a time once expired.
-- api_refresh_tokens: every refresh token issued, stored as its SHA-256; a token is used once
-- (rotation), and a second use of one revokes its whole session (its "family").
-- api_keys: partners' keys, stored as their SHA-256, with scopes; revoked, never deleted.
-- api_idempotency: the first response to a POST with an Idempotency-Key, replayed to retries.

CREATE TABLE api_sessions (
    session_id TEXT PRIMARY KEY,
    player_id BIGINT NOT NULL,
    player TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    last_used_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT,
    revoked_reason TEXT,
    user_agent TEXT NOT NULL,
    address TEXT NOT NULL
);
CREATE INDEX api_sessions_by_player ON api_sessions (player_id, created_at_ms);
CREATE INDEX api_sessions_by_expiry ON api_sessions (expires_at_ms);

CREATE TABLE api_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES api_sessions (session_id) ON DELETE CASCADE,
    issued_at_ms BIGINT NOT NULL,
    used_at_ms BIGINT
);
CREATE INDEX api_refresh_tokens_by_session ON api_refresh_tokens (session_id, issued_at_ms);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    player_id BIGINT REFERENCES accounts (id),
    requests_per_min INTEGER NOT NULL CHECK (requests_per_min > 0),
    created_at_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at_ms BIGINT,
    last_used_at_ms BIGINT
);

CREATE TABLE api_idempotency (
    principal TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    location TEXT NOT NULL,
    body BLOB NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    PRIMARY KEY (principal, idempotency_key)
);
CREATE INDEX api_idempotency_by_expiry ON api_idempotency (expires_at_ms);
