-- Tablium schema, version 6 (SQLite): every ledger account and transfer carries an asset.
--
-- `chips` is real money, `play` is play money; the two never meet: a transfer moves one asset
-- between two accounts of that asset (a trigger refuses anything else), and the ledger sums
-- to zero per asset. Every existing account and transfer is real money.
--
-- SQLite cannot change a table's UNIQUE constraint in place, so ledger_accounts is rebuilt
-- (the documented twelve-step way: the migration runs with foreign keys off and checks them
-- before it commits, persistence/sqlite.py). legacy_alter_table keeps the rename from
-- rewriting the triggers of ledger_transfers, which name ledger_accounts.

PRAGMA legacy_alter_table = ON;

CREATE TABLE ledger_accounts_by_asset (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    asset TEXT NOT NULL,
    balance BIGINT NOT NULL,
    reserved BIGINT NOT NULL CHECK (reserved >= 0),
    may_go_negative BOOLEAN NOT NULL,
    created_at_ms BIGINT NOT NULL,
    player_id INTEGER,
    UNIQUE (kind, owner, asset),
    -- The last line of defence: the rules refuse overdrafts before this ever fires.
    CHECK (may_go_negative OR balance >= reserved)
);
INSERT INTO ledger_accounts_by_asset (id, kind, owner, asset, balance, reserved,
    may_go_negative, created_at_ms, player_id)
    SELECT id, kind, owner, 'chips', balance, reserved, may_go_negative, created_at_ms, player_id
    FROM ledger_accounts;
DROP TABLE ledger_accounts;
ALTER TABLE ledger_accounts_by_asset RENAME TO ledger_accounts;

PRAGMA legacy_alter_table = OFF;

-- A table's escrow and a tournament's prize pool hold one asset for life: a buy-in of the
-- other asset finds this index in its way and is refused (wrong_asset), never given a second
-- pool beside the first.
CREATE UNIQUE INDEX ledger_accounts_one_asset_per_pool ON ledger_accounts (kind, owner)
    WHERE kind IN ('escrow', 'prize_pool');

ALTER TABLE ledger_transfers ADD COLUMN asset TEXT NOT NULL DEFAULT 'chips';

CREATE TRIGGER ledger_transfer_one_asset BEFORE INSERT ON ledger_transfers
WHEN (SELECT asset FROM ledger_accounts WHERE id = NEW.debit_account_id) IS NOT NEW.asset
    OR (SELECT asset FROM ledger_accounts WHERE id = NEW.credit_account_id) IS NOT NEW.asset
BEGIN
    SELECT RAISE(ABORT, 'ledger: a transfer moves one asset between accounts of that asset');
END;

CREATE TRIGGER ledger_transfer_asset_fixed BEFORE UPDATE OF asset ON ledger_transfers
BEGIN
    SELECT RAISE(ABORT, 'ledger: transfers are append-only');
END;

-- Player-to-player transfers per sender and UTC day (the operator's daily transfer limit).
ALTER TABLE player_daily_totals ADD COLUMN transferred BIGINT NOT NULL DEFAULT 0;
