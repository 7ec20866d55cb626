-- Clubs and rakeback (services/clubs.py, services/rakeback.py; docs/clubs.md, docs/rakeback.md).
--
-- clubs: a club, found by its short code; its rakeback deal (basis points of its rake) and
-- its members' tier table (JSON; NULL: the club pays no tiers). club_members: one row per
-- member (role owner/manager/agent/member, her agent, an agent's commission rate); leaving
-- deletes it. club_bans: banned players cannot join again. club_invitations and
-- club_join_requests: pending only (accepted, declined, approved or rejected ones are
-- deleted). club_tables: tables that belong to a club (the table actors register them when
-- a table config carries a club_id); rake of their hands is the club's.
--
-- rakeback_periods: one row per (scope, period) once a distribution froze it ("paying"),
-- "closed" once every transfer is made. rakeback_accruals: what each player (rakeback) and
-- agent (commission) is owed for the period, frozen when the period is; only its transfer_id
-- is written later, once. Both refuse rewrites (triggers below).

CREATE TABLE clubs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    join_policy TEXT NOT NULL CHECK (join_policy IN ('open', 'approval', 'invitation')),
    owner_id BIGINT NOT NULL,
    rakeback_deal_bp INTEGER NOT NULL DEFAULT 0 CHECK (rakeback_deal_bp BETWEEN 0 AND 10000),
    tiers_json TEXT,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE club_members (
    club_id BIGINT NOT NULL REFERENCES clubs (id),
    player_id BIGINT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'agent', 'member')),
    agent_id BIGINT,
    commission_bp INTEGER NOT NULL DEFAULT 0 CHECK (commission_bp BETWEEN 0 AND 10000),
    joined_at_ms BIGINT NOT NULL,
    PRIMARY KEY (club_id, player_id)
);
CREATE INDEX club_members_by_player ON club_members (player_id);

CREATE TABLE club_bans (
    club_id BIGINT NOT NULL REFERENCES clubs (id),
    player_id BIGINT NOT NULL,
    banned_by BIGINT NOT NULL,
    banned_at_ms BIGINT NOT NULL,
    PRIMARY KEY (club_id, player_id)
);

CREATE TABLE club_invitations (
    club_id BIGINT NOT NULL REFERENCES clubs (id),
    player_id BIGINT NOT NULL,
    invited_by BIGINT NOT NULL,
    agent_id BIGINT,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (club_id, player_id)
);
CREATE INDEX club_invitations_by_player ON club_invitations (player_id);

CREATE TABLE club_join_requests (
    club_id BIGINT NOT NULL REFERENCES clubs (id),
    player_id BIGINT NOT NULL,
    agent_id BIGINT,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (club_id, player_id)
);

CREATE TABLE club_tables (
    table_id TEXT PRIMARY KEY,
    club_id BIGINT NOT NULL REFERENCES clubs (id),
    registered_at_ms BIGINT NOT NULL
);
CREATE INDEX club_tables_by_club ON club_tables (club_id);

-- Rakeback reads the hands that ended in a period: hand_histories_by_end (0013) serves it.

CREATE TABLE rakeback_periods (
    scope TEXT NOT NULL,
    period TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('paying', 'closed')),
    from_ms BIGINT NOT NULL,
    to_ms BIGINT NOT NULL,
    program_json TEXT NOT NULL,
    rake_cash BIGINT NOT NULL,
    rake_tournament BIGINT NOT NULL,
    funding_cash BIGINT NOT NULL,
    funding_tournament BIGINT NOT NULL,
    paid BIGINT NOT NULL,
    house_kept BIGINT NOT NULL,
    payer_kept BIGINT NOT NULL,
    frozen_at_ms BIGINT NOT NULL,
    closed_at_ms BIGINT,
    PRIMARY KEY (scope, period)
);

CREATE TABLE rakeback_accruals (
    scope TEXT NOT NULL,
    period TEXT NOT NULL,
    beneficiary_id BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('rakeback', 'commission')),
    rake_cash BIGINT NOT NULL,
    rake_tournament BIGINT NOT NULL,
    points BIGINT NOT NULL,
    status INTEGER NOT NULL,
    paid_tier INTEGER NOT NULL,
    rate_bp INTEGER NOT NULL,
    amount_cash BIGINT NOT NULL,
    amount_tournament BIGINT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    remainder_units BIGINT NOT NULL,
    next_status INTEGER NOT NULL,
    agent_id BIGINT,
    members INTEGER NOT NULL,
    transfer_id BIGINT,
    PRIMARY KEY (scope, period, beneficiary_id, kind),
    FOREIGN KEY (scope, period) REFERENCES rakeback_periods (scope, period)
);
CREATE INDEX rakeback_accruals_by_beneficiary ON rakeback_accruals (beneficiary_id, period);

-- A frozen period never changes: its figures are written once; the only later writes are
-- state paying -> closed, and each accrual's transfer_id, NULL -> the transfer that paid it.
CREATE TRIGGER rakeback_periods_no_delete BEFORE DELETE ON rakeback_periods
BEGIN
    SELECT RAISE(ABORT, 'rakeback periods and accruals are frozen');
END;
CREATE TRIGGER rakeback_periods_frozen BEFORE UPDATE ON rakeback_periods
WHEN OLD.state = 'closed' OR NEW.state <> 'closed'
    OR OLD.scope IS NOT NEW.scope OR OLD.period IS NOT NEW.period
    OR OLD.from_ms IS NOT NEW.from_ms OR OLD.to_ms IS NOT NEW.to_ms
    OR OLD.program_json IS NOT NEW.program_json OR OLD.rake_cash IS NOT NEW.rake_cash
    OR OLD.rake_tournament IS NOT NEW.rake_tournament
    OR OLD.funding_cash IS NOT NEW.funding_cash
    OR OLD.funding_tournament IS NOT NEW.funding_tournament OR OLD.paid IS NOT NEW.paid
    OR OLD.house_kept IS NOT NEW.house_kept OR OLD.payer_kept IS NOT NEW.payer_kept
    OR OLD.frozen_at_ms IS NOT NEW.frozen_at_ms
BEGIN
    SELECT RAISE(ABORT, 'a frozen rakeback period changes only from paying to closed');
END;
CREATE TRIGGER rakeback_accruals_no_delete BEFORE DELETE ON rakeback_accruals
BEGIN
    SELECT RAISE(ABORT, 'rakeback periods and accruals are frozen');
END;
CREATE TRIGGER rakeback_accruals_frozen BEFORE UPDATE ON rakeback_accruals
WHEN OLD.transfer_id IS NOT NULL OR NEW.transfer_id IS NULL
    OR OLD.scope IS NOT NEW.scope OR OLD.period IS NOT NEW.period
    OR OLD.beneficiary_id IS NOT NEW.beneficiary_id OR OLD.kind IS NOT NEW.kind
    OR OLD.rake_cash IS NOT NEW.rake_cash OR OLD.rake_tournament IS NOT NEW.rake_tournament
    OR OLD.points IS NOT NEW.points OR OLD.status IS NOT NEW.status
    OR OLD.paid_tier IS NOT NEW.paid_tier OR OLD.rate_bp IS NOT NEW.rate_bp
    OR OLD.amount_cash IS NOT NEW.amount_cash
    OR OLD.amount_tournament IS NOT NEW.amount_tournament OR OLD.amount IS NOT NEW.amount
    OR OLD.remainder_units IS NOT NEW.remainder_units
    OR OLD.next_status IS NOT NEW.next_status OR OLD.agent_id IS NOT NEW.agent_id
    OR OLD.members IS NOT NEW.members
BEGIN
    SELECT RAISE(ABORT, 'a frozen rakeback accrual only gets its transfer, once');
END;
