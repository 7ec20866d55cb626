-- Tablium schema, version 4 (PostgreSQL): a transfer in one round trip.
--
-- The ledger's rules (services/ledger.py) run in Python, on account values the caller already
-- holds (persistence/ledger_single.py keeps them from earlier transfers). This function applies
-- the transfer only if those values still hold, so the rules saw exactly what is written. It
-- is one statement: no BEGIN, no COMMIT, no second round trip. Otherwise it writes nothing and
-- says why: 'changed' (here are the current values: check again), or 'locked_path' (the key is
-- taken, a player has limits, an account is missing: the caller runs the full transaction).
--
-- The accounts are locked in id order, like every other ledger write, so nothing deadlocks. A
-- key already taken is left to the full transaction (a retry or a conflict, as it decides):
-- the insert's ON CONFLICT finds it, committed or not, without a lookup of its own.

CREATE FUNCTION ledger_transfer_if_unchanged(
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
    IF d.id IS NULL OR c.id IS NULL
        OR EXISTS (SELECT 1 FROM player_limits l WHERE l.player_id IN (d.player_id, c.player_id)
            AND (l.daily_deposit_max IS NOT NULL OR l.daily_loss_max IS NOT NULL
                 OR l.table_buy_in_max IS NOT NULL))
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
        memo, created_at_ms, updated_at_ms)
    VALUES (p_key, p_content_hash, p_kind, d.id, c.id, d.kind, d.owner, c.kind, c.owner,
        p_amount, p_state, p_memo, p_now_ms, p_now_ms)
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
