-- Tablium schema, version 2 (PostgreSQL): the transfers table drives the balances.
--
-- Inserting a transfer, or moving a pending one to posted/voided, updates the two accounts in
-- the same statement, through this trigger. Nothing else writes balance or reserved, so the
-- balances are always the sum of the transfers (and the ledger sums to zero) by construction,
-- and a transfer costs one round trip instead of two.

ALTER TABLE ledger_accounts ADD COLUMN player_id BIGINT;
UPDATE ledger_accounts SET player_id = CAST(owner AS BIGINT) WHERE kind = 'wallet';

CREATE FUNCTION ledger_apply_transfer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.state = 'posted' THEN
            UPDATE ledger_accounts SET balance = balance - NEW.amount WHERE id = NEW.debit_account_id;
            UPDATE ledger_accounts SET balance = balance + NEW.amount WHERE id = NEW.credit_account_id;
        ELSIF NEW.state = 'pending' THEN
            UPDATE ledger_accounts SET reserved = reserved + NEW.amount WHERE id = NEW.debit_account_id;
        ELSE
            RAISE EXCEPTION 'ledger: a transfer cannot start %', NEW.state;
        END IF;
    ELSIF OLD.state = NEW.state THEN
        NULL;
    ELSIF OLD.state = 'pending' AND NEW.state = 'posted' THEN
        UPDATE ledger_accounts SET balance = balance - NEW.amount, reserved = reserved - NEW.amount
            WHERE id = NEW.debit_account_id;
        UPDATE ledger_accounts SET balance = balance + NEW.amount WHERE id = NEW.credit_account_id;
    ELSIF OLD.state = 'pending' AND NEW.state = 'voided' THEN
        UPDATE ledger_accounts SET reserved = reserved - NEW.amount WHERE id = NEW.debit_account_id;
    ELSE
        RAISE EXCEPTION 'ledger: transfer % cannot go % -> %', NEW.id, OLD.state, NEW.state;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER ledger_transfers_apply AFTER INSERT OR UPDATE OF state ON ledger_transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_apply_transfer();

-- Transfers are history: amounts and accounts never change after the fact.
CREATE FUNCTION ledger_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger: transfers are append-only (only state moves, pending -> final)';
END
$$;
CREATE TRIGGER ledger_transfers_no_rewrite BEFORE DELETE OR UPDATE OF amount, debit_account_id,
    credit_account_id, idempotency_key ON ledger_transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_rewrite();
