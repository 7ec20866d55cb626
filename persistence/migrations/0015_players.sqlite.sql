-- The player service (docs/players.md): profiles, preferences, statistics, experience and
-- levels, achievements, leaderboard scores.
--
-- player_profiles: one row per account (create_account writes it; existing accounts get one
-- here). display_name_key is the display name folded (casefold), unique: no two players show
-- the same name. player_preferences: the player's choices as a JSON object (only keys that
-- differ from the defaults). player_stats: counters per player and stake key, added to hand
-- by hand (players/stats.py); player_stats_hands: the hands already counted (each once).
-- player_progress: experience and level; player_level_ups and player_achievements: when each
-- was reached. leaderboard_scores: per board and period (d2026-12-02, w2026-W49, m2026-12);
-- version counts the row's updates (Redis mirrors a row only forward).

CREATE TABLE player_profiles (
    player_id BIGINT PRIMARY KEY REFERENCES accounts (id),
    display_name TEXT NOT NULL,
    display_name_key TEXT NOT NULL UNIQUE,
    display_name_changed_at_ms BIGINT,
    avatar TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    bio TEXT NOT NULL DEFAULT '',
    updated_at_ms BIGINT NOT NULL
);
INSERT INTO player_profiles (player_id, display_name, display_name_key, updated_at_ms)
    SELECT id, name, name_folded, created_at_ms FROM accounts;

CREATE TABLE player_preferences (
    player_id BIGINT PRIMARY KEY REFERENCES accounts (id),
    preferences TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE player_stats (
    player_id BIGINT NOT NULL,
    asset TEXT NOT NULL,
    game TEXT NOT NULL,
    stake TEXT NOT NULL,
    hands BIGINT NOT NULL,
    vpip_hands BIGINT NOT NULL,
    pfr_hands BIGINT NOT NULL,
    three_bet_chances BIGINT NOT NULL,
    three_bet_hands BIGINT NOT NULL,
    postflop_bets_raises BIGINT NOT NULL,
    postflop_calls BIGINT NOT NULL,
    saw_flop_hands BIGINT NOT NULL,
    showdown_hands BIGINT NOT NULL,
    showdown_won_hands BIGINT NOT NULL,
    won_hands BIGINT NOT NULL,
    net_won BIGINT NOT NULL,
    rake_paid BIGINT NOT NULL,
    big_blinds_won_centi BIGINT NOT NULL,
    PRIMARY KEY (player_id, asset, game, stake)
);

CREATE TABLE player_stats_hands (
    hand_id TEXT PRIMARY KEY,
    applied_at_ms BIGINT NOT NULL
);

CREATE TABLE player_tournaments (
    player_id BIGINT NOT NULL,
    asset TEXT NOT NULL,
    entries BIGINT NOT NULL,
    cashes BIGINT NOT NULL,
    buy_ins_paid BIGINT NOT NULL,
    prizes_won BIGINT NOT NULL,
    best_finish BIGINT,
    points BIGINT NOT NULL,
    PRIMARY KEY (player_id, asset)
);

-- One row per finished tournament entry counted (each once).
CREATE TABLE player_tournament_results (
    tournament_id TEXT NOT NULL,
    player_id BIGINT NOT NULL,
    place INTEGER NOT NULL,
    prize BIGINT NOT NULL,
    points BIGINT NOT NULL,
    finished_at_ms BIGINT NOT NULL,
    PRIMARY KEY (tournament_id, player_id)
);

CREATE TABLE player_progress (
    player_id BIGINT PRIMARY KEY,
    xp BIGINT NOT NULL CHECK (xp >= 0),
    level INTEGER NOT NULL CHECK (level >= 1),
    hands BIGINT NOT NULL,
    won_hands BIGINT NOT NULL,
    showdown_won_hands BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE player_level_ups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    player_id BIGINT NOT NULL,
    level INTEGER NOT NULL,
    xp BIGINT NOT NULL,
    reached_at_ms BIGINT NOT NULL,
    cause TEXT NOT NULL
);
CREATE INDEX player_level_ups_by_player ON player_level_ups (player_id, id);

CREATE TABLE player_achievements (
    player_id BIGINT NOT NULL,
    code TEXT NOT NULL,
    earned_at_ms BIGINT NOT NULL,
    cause TEXT NOT NULL,
    PRIMARY KEY (player_id, code)
);

CREATE TABLE leaderboard_scores (
    board TEXT NOT NULL,
    period TEXT NOT NULL,
    player_id BIGINT NOT NULL,
    score BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (board, period, player_id)
);
CREATE INDEX leaderboard_scores_by_rank ON leaderboard_scores (board, period, score, player_id);
