-- The blockchain cashier (services/chain/): where the deposit watcher has read to, every
-- deposit it has seen, players' deposit references, withdrawal requests, the batches that
-- pay them and every transaction sent for a batch. Token amounts are uint256 on chain, so
-- they are stored as decimal TEXT; chips are BIGINT as everywhere else.

CREATE TABLE chain_cursors (
    chain_id BIGINT PRIMARY KEY,
    scanned_to BIGINT NOT NULL,      -- the last block whose logs are recorded
    scanned_hash TEXT NOT NULL,      -- its hash: a different one now means a reorganisation
    credited_to BIGINT NOT NULL,     -- the confirmation line of the last poll
    credited_hash TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE chain_controls (
    chain_id BIGINT PRIMARY KEY,
    withdrawals_paused BOOLEAN NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE chain_deposit_refs (
    reference TEXT PRIMARY KEY,      -- 0x + 64 hex digits, random
    player_id BIGINT NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE chain_deposits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chain_id BIGINT NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    block_hash TEXT NOT NULL,
    sender TEXT NOT NULL,
    reference TEXT NOT NULL,
    player_id BIGINT,                -- NULL: no player has this reference
    units TEXT NOT NULL,             -- token units the contract received
    chips BIGINT NOT NULL CHECK (chips >= 0),
    state TEXT NOT NULL CHECK (state IN
        ('new', 'pending', 'held', 'unmatched', 'too_small', 'reorged', 'credited')),
    hold_reason TEXT NOT NULL,
    transfer_id BIGINT,              -- the ledger transfer of this attempt
    attempt INTEGER NOT NULL,        -- +1 each time a vanished deposit comes back
    seen_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (chain_id, tx_hash, log_index)
);
CREATE INDEX chain_deposits_by_state ON chain_deposits (chain_id, state, block_number);
CREATE INDEX chain_deposits_by_player ON chain_deposits (player_id, id);

CREATE TABLE chain_batches (
    id BIGINT PRIMARY KEY,           -- the batch id the contract sees (random, used once)
    chain_id BIGINT NOT NULL,
    operator TEXT NOT NULL,
    nonce BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('signed', 'sent', 'confirmed', 'reverted', 'cancelled')),
    count INTEGER NOT NULL CHECK (count > 0),
    total_units TEXT NOT NULL,
    mined_tx TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (chain_id, operator, nonce)
);
CREATE INDEX chain_batches_by_state ON chain_batches (chain_id, state);

CREATE TABLE chain_batch_txs (
    tx_hash TEXT PRIMARY KEY,
    batch_id BIGINT NOT NULL REFERENCES chain_batches (id),
    kind TEXT NOT NULL CHECK (kind IN ('batch', 'cancel')),
    raw_tx TEXT NOT NULL,            -- signed, so that a restart can broadcast it again
    max_fee_wei TEXT NOT NULL,
    priority_fee_wei TEXT NOT NULL,
    sent_at_ms BIGINT NOT NULL
);
CREATE INDEX chain_batch_txs_by_batch ON chain_batch_txs (batch_id, sent_at_ms);

CREATE TABLE chain_withdrawals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chain_id BIGINT NOT NULL,
    player_id BIGINT NOT NULL,
    request_key TEXT NOT NULL UNIQUE, -- the player's idempotency key, as the ledger stores it
    address TEXT NOT NULL,
    chips BIGINT NOT NULL CHECK (chips > 0),
    units TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('requested', 'awaiting_approval', 'queued', 'batched',
        'paid', 'voided', 'rejected', 'refused')),
    transfer_id BIGINT,
    batch_id BIGINT REFERENCES chain_batches (id),
    reason TEXT NOT NULL,            -- why it was voided, rejected or refused
    -- FALSE while the ledger has not yet followed the state (post when paid, void when
    -- voided or rejected): a restart finishes these.
    ledger_done BOOLEAN NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX chain_withdrawals_by_state ON chain_withdrawals (chain_id, state, id);
CREATE INDEX chain_withdrawals_by_batch ON chain_withdrawals (batch_id);
CREATE INDEX chain_withdrawals_by_player ON chain_withdrawals (player_id, id);
CREATE INDEX chain_withdrawals_ledger_todo ON chain_withdrawals (chain_id, ledger_done);
