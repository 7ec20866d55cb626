-- Tablium schema, version 2 (SQLite): the transfers table drives the balances.
--
-- Inserting a transfer, or moving a pending one to posted/voided, updates the two accounts in
-- the same statement, through these triggers. Nothing else writes balance or reserved, so the
-- balances are always the sum of the transfers (and the ledger sums to zero) by construction.

ALTER TABLE ledger_accounts ADD COLUMN player_id INTEGER;
UPDATE ledger_accounts SET player_id = CAST(owner AS INTEGER) WHERE kind = 'wallet';

CREATE TRIGGER ledger_transfer_inserted_posted AFTER INSERT ON ledger_transfers
WHEN NEW.state = 'posted'
BEGIN
    UPDATE ledger_accounts SET balance = balance - NEW.amount WHERE id = NEW.debit_account_id;
    UPDATE ledger_accounts SET balance = balance + NEW.amount WHERE id = NEW.credit_account_id;
END;

CREATE TRIGGER ledger_transfer_inserted_pending AFTER INSERT ON ledger_transfers
WHEN NEW.state = 'pending'
BEGIN
    UPDATE ledger_accounts SET reserved = reserved + NEW.amount WHERE id = NEW.debit_account_id;
END;

CREATE TRIGGER ledger_transfer_inserted_final BEFORE INSERT ON ledger_transfers
WHEN NEW.state NOT IN ('posted', 'pending')
BEGIN
    SELECT RAISE(ABORT, 'ledger: a transfer cannot start voided');
END;

CREATE TRIGGER ledger_transfer_posted AFTER UPDATE OF state ON ledger_transfers
WHEN OLD.state = 'pending' AND NEW.state = 'posted'
BEGIN
    UPDATE ledger_accounts SET balance = balance - NEW.amount, reserved = reserved - NEW.amount
        WHERE id = NEW.debit_account_id;
    UPDATE ledger_accounts SET balance = balance + NEW.amount WHERE id = NEW.credit_account_id;
END;

CREATE TRIGGER ledger_transfer_voided AFTER UPDATE OF state ON ledger_transfers
WHEN OLD.state = 'pending' AND NEW.state = 'voided'
BEGIN
    UPDATE ledger_accounts SET reserved = reserved - NEW.amount WHERE id = NEW.debit_account_id;
END;

CREATE TRIGGER ledger_transfer_bad_transition BEFORE UPDATE OF state ON ledger_transfers
WHEN OLD.state <> NEW.state AND OLD.state <> 'pending'
BEGIN
    SELECT RAISE(ABORT, 'ledger: only a pending transfer changes state');
END;

-- Transfers are history: amounts and accounts never change after the fact.
CREATE TRIGGER ledger_transfer_no_rewrite BEFORE UPDATE OF amount, debit_account_id,
    credit_account_id, idempotency_key ON ledger_transfers
BEGIN
    SELECT RAISE(ABORT, 'ledger: transfers are append-only');
END;

CREATE TRIGGER ledger_transfer_no_delete BEFORE DELETE ON ledger_transfers
BEGIN
    SELECT RAISE(ABORT, 'ledger: transfers are append-only');
END;
