-- Tablium schema, version 7: the limits a player sets on herself, and play-money refills.
--
-- Deposit and loss limits per day, per 7 days and per 30 days (rolling windows of UTC days,
-- counted in player_daily_totals), the table buy-in maximum, and a session time limit. A raise
-- waits 24 hours: pending_raises holds them as JSON, {"<limit>": {"value": N or null,
-- "effective_at_ms": T}}, applied from T on. A cool-off or self-exclusion is the exclusion_*
-- columns: while exclusion_until_ms is in the future the player may not deposit, buy in or
-- receive transfers in real money.

ALTER TABLE player_limits ADD COLUMN weekly_deposit_max BIGINT CHECK (weekly_deposit_max >= 0);
ALTER TABLE player_limits ADD COLUMN monthly_deposit_max BIGINT CHECK (monthly_deposit_max >= 0);
ALTER TABLE player_limits ADD COLUMN weekly_loss_max BIGINT CHECK (weekly_loss_max >= 0);
ALTER TABLE player_limits ADD COLUMN monthly_loss_max BIGINT CHECK (monthly_loss_max >= 0);
ALTER TABLE player_limits ADD COLUMN session_minutes_max BIGINT CHECK (session_minutes_max > 0);
ALTER TABLE player_limits ADD COLUMN pending_raises TEXT NOT NULL DEFAULT '{}';
ALTER TABLE player_limits ADD COLUMN exclusion_kind TEXT
    CHECK (exclusion_kind IN ('cool_off', 'self_exclusion'));
ALTER TABLE player_limits ADD COLUMN exclusion_since_ms BIGINT;
ALTER TABLE player_limits ADD COLUMN exclusion_until_ms BIGINT;

-- Play-money refills a player claimed: how many, and when the last one was. The row is
-- locked while a claim decides, so two claims at once make one refill.
CREATE TABLE play_money_claims (
    player_id BIGINT PRIMARY KEY,
    claims BIGINT NOT NULL CHECK (claims >= 0),
    last_claim_at_ms BIGINT
);
