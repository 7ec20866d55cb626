-- Tablium schema, version 6 (PostgreSQL): every ledger account and transfer carries an asset.
--
-- `chips` is real money, `play` is play money; the two never meet: a transfer moves one asset
-- between two accounts of that asset (a trigger refuses anything else), and the ledger sums
-- to zero per asset. Every existing account and transfer is real money.

ALTER TABLE ledger_accounts ADD COLUMN asset TEXT NOT NULL DEFAULT 'chips';
ALTER TABLE ledger_accounts ALTER COLUMN asset DROP DEFAULT;  -- every insert names its asset
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_owner_key;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_owner_asset_key
    UNIQUE (kind, owner, asset);

-- A table's escrow and a tournament's prize pool hold one asset for life: a buy-in of the
-- other asset finds this index in its way and is refused (wrong_asset), never given a second
-- pool beside the first.
CREATE UNIQUE INDEX ledger_accounts_one_asset_per_pool ON ledger_accounts (kind, owner)
    WHERE kind IN ('escrow', 'prize_pool');

ALTER TABLE ledger_transfers ADD COLUMN asset TEXT NOT NULL DEFAULT 'chips';
ALTER TABLE ledger_transfers ALTER COLUMN asset DROP DEFAULT;

CREATE FUNCTION ledger_check_asset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ledger_accounts WHERE id = NEW.debit_account_id
                   AND asset = NEW.asset)
        OR NOT EXISTS (SELECT 1 FROM ledger_accounts WHERE id = NEW.credit_account_id
                       AND asset = NEW.asset)
    THEN
        RAISE EXCEPTION 'ledger: a transfer moves one asset between accounts of that asset';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER ledger_transfers_one_asset BEFORE INSERT ON ledger_transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_check_asset();
CREATE TRIGGER ledger_transfers_asset_fixed BEFORE UPDATE OF asset ON ledger_transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_rewrite();

-- Player-to-player transfers per sender and UTC day (the operator's daily transfer limit).
ALTER TABLE player_daily_totals ADD COLUMN transferred BIGINT NOT NULL DEFAULT 0;

-- The one-round-trip transfer (migration 0004) writes the accounts' asset, and leaves every
-- transfer of a player who has a row in player_limits (limits, a waiting raise, a cool-off or
-- self-exclusion) to the full unit of work, which reads that row and the player's totals.
CREATE OR REPLACE FUNCTION ledger_transfer_if_unchanged(
    p_key TEXT, p_content_hash TEXT, p_kind TEXT, p_debit_id BIGINT, p_credit_id BIGINT,
    p_amount BIGINT, p_state TEXT, p_memo TEXT, p_now_ms BIGINT,
    p_debit_balance BIGINT, p_debit_reserved BIGINT,
    p_credit_balance BIGINT, p_credit_reserved BIGINT,
    p_total_players BIGINT[], p_total_days BIGINT[], p_total_deposited BIGINT[],
    p_total_net_loss BIGINT[]
) RETURNS TABLE (
    outcome TEXT, transfer_id BIGINT, debit_balance BIGINT, debit_reserved BIGINT,
    credit_balance BIGINT, credit_reserved BIGINT
) LANGUAGE plpgsql AS $$
DECLARE
    d ledger_accounts%ROWTYPE;
    c ledger_accounts%ROWTYPE;
    new_id BIGINT;
BEGIN
    IF p_debit_id < p_credit_id THEN
        SELECT * INTO d FROM ledger_accounts WHERE id = p_debit_id FOR UPDATE;
        SELECT * INTO c FROM ledger_accounts WHERE id = p_credit_id FOR UPDATE;
    ELSE
        SELECT * INTO c FROM ledger_accounts WHERE id = p_credit_id FOR UPDATE;
        SELECT * INTO d FROM ledger_accounts WHERE id = p_debit_id FOR UPDATE;
    END IF;
    IF d.id IS NULL OR c.id IS NULL OR d.asset <> c.asset
        OR EXISTS (SELECT 1 FROM player_limits l WHERE l.player_id IN (d.player_id, c.player_id))
    THEN
        RETURN QUERY SELECT 'locked_path', NULL::BIGINT, d.balance, d.reserved, c.balance,
            c.reserved;
        RETURN;
    END IF;
    IF (d.balance, d.reserved, c.balance, c.reserved) IS DISTINCT FROM
        (p_debit_balance, p_debit_reserved, p_credit_balance, p_credit_reserved)
    THEN
        RETURN QUERY SELECT 'changed', NULL::BIGINT, d.balance, d.reserved, c.balance,
            c.reserved;
        RETURN;
    END IF;
    INSERT INTO ledger_transfers (idempotency_key, content_hash, kind, debit_account_id,
        credit_account_id, debit_kind, debit_owner, credit_kind, credit_owner, amount, state,
        memo, created_at_ms, updated_at_ms, asset)
    VALUES (p_key, p_content_hash, p_kind, d.id, c.id, d.kind, d.owner, c.kind, c.owner,
        p_amount, p_state, p_memo, p_now_ms, p_now_ms, d.asset)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id INTO new_id;
    IF new_id IS NULL THEN
        RETURN QUERY SELECT 'locked_path', NULL::BIGINT, d.balance, d.reserved, c.balance,
            c.reserved;
        RETURN;
    END IF;
    IF cardinality(p_total_players) > 0 THEN
        INSERT INTO player_daily_totals (player_id, day, deposited, net_loss)
            SELECT * FROM unnest(p_total_players, p_total_days, p_total_deposited,
                p_total_net_loss)
            ON CONFLICT (player_id, day) DO UPDATE SET
                deposited = player_daily_totals.deposited + excluded.deposited,
                net_loss = player_daily_totals.net_loss + excluded.net_loss;
    END IF;
    -- The values after the trigger moved the amounts: the caller's next transfer starts here.
    RETURN QUERY SELECT 'applied', new_id, a.balance, a.reserved, b.balance, b.reserved
        FROM ledger_accounts a, ledger_accounts b WHERE a.id = d.id AND b.id = c.id;
END
$$;
