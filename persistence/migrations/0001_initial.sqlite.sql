-- Tablium schema, version 1 (SQLite). Times are integer milliseconds since the epoch (UTC)
-- so that the same queries run on both backends; chips are BIGINT, never floating point.

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    banned BOOLEAN NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE snapshots (
    actor_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    version BIGINT NOT NULL CHECK (version > 0),
    data BLOB NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX snapshots_by_kind ON snapshots (kind, actor_id);

CREATE TABLE hand_histories (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hand_id TEXT NOT NULL UNIQUE,
    table_id TEXT NOT NULL,
    game TEXT NOT NULL,
    started_at_ms BIGINT NOT NULL,
    ended_at_ms BIGINT NOT NULL,
    pot_total BIGINT NOT NULL CHECK (pot_total >= 0),
    rake BIGINT NOT NULL CHECK (rake >= 0),
    players TEXT NOT NULL,  -- JSON list of {player_id, seat, net}
    phh TEXT NOT NULL
);
CREATE INDEX hand_histories_by_table ON hand_histories (table_id, seq);

CREATE TABLE hand_players (
    player_id BIGINT NOT NULL,
    hand_seq BIGINT NOT NULL REFERENCES hand_histories (seq),
    PRIMARY KEY (player_id, hand_seq)
);

CREATE TABLE ledger_accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    balance BIGINT NOT NULL,
    reserved BIGINT NOT NULL CHECK (reserved >= 0),
    may_go_negative BOOLEAN NOT NULL,
    created_at_ms BIGINT NOT NULL,
    UNIQUE (kind, owner),
    -- The last line of defence: the rules refuse overdrafts before this ever fires.
    CHECK (may_go_negative OR balance >= reserved)
);

CREATE TABLE ledger_transfers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    content_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    debit_account_id BIGINT NOT NULL REFERENCES ledger_accounts (id),
    credit_account_id BIGINT NOT NULL REFERENCES ledger_accounts (id),
    debit_kind TEXT NOT NULL,
    debit_owner TEXT NOT NULL,
    credit_kind TEXT NOT NULL,
    credit_owner TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    state TEXT NOT NULL CHECK (state IN ('pending', 'posted', 'voided')),
    memo TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    CHECK (debit_account_id <> credit_account_id)
);
CREATE INDEX ledger_transfers_by_debit ON ledger_transfers (debit_account_id, id);
CREATE INDEX ledger_transfers_by_credit ON ledger_transfers (credit_account_id, id);

CREATE TABLE player_limits (
    player_id BIGINT PRIMARY KEY,
    daily_deposit_max BIGINT CHECK (daily_deposit_max >= 0),
    daily_loss_max BIGINT CHECK (daily_loss_max >= 0),
    table_buy_in_max BIGINT CHECK (table_buy_in_max >= 0),
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE player_daily_totals (
    player_id BIGINT NOT NULL,
    day BIGINT NOT NULL,  -- UTC days since the epoch
    deposited BIGINT NOT NULL,
    net_loss BIGINT NOT NULL,
    PRIMARY KEY (player_id, day)
);
