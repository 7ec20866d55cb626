-- Lobby analytics (services/lobby_analytics.py, docs/operations.md): one row per game
-- (asset, variant, stakes "1/2") and sample (a minute by default). tables..hands_per_hour
-- are the lobby's figures at at_ms; opened/closed count the tables that appeared or left
-- since the previous sample; seat_waits/seat_wait_ms_sum the seat waits that ended since.
-- Rows older than the retention (90 days) are deleted by the sampler.
CREATE TABLE lobby_samples (
    at_ms BIGINT NOT NULL,
    asset TEXT NOT NULL,
    variant TEXT NOT NULL,
    stakes TEXT NOT NULL,
    tables INTEGER NOT NULL,
    seats INTEGER NOT NULL,
    seated INTEGER NOT NULL,
    waiting INTEGER NOT NULL,
    hands_per_hour INTEGER NOT NULL,
    opened INTEGER NOT NULL,
    closed INTEGER NOT NULL,
    seat_waits INTEGER NOT NULL,
    seat_wait_ms_sum BIGINT NOT NULL,
    PRIMARY KEY (at_ms, asset, variant, stakes)
);
