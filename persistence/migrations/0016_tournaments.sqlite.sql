-- Tournaments (actors/tournament.py, persistence/tournaments.py; docs/tournaments.md).
--
-- tournaments: one row per tournament a director created. ``spec`` is the director's
-- TournamentSpec (msgpack), ``core`` the rules core's snapshot (poker.tournament.Tournament
-- .snapshot(); NULL until the first step), ``live`` the live system's own state (msgpack:
-- the level clock's elapsed play time, whether it is paused, payouts still owed). Each step
-- rewrites the row in one transaction with its domain events; ``version`` counts the steps.
-- ``state`` and the listed columns are the lobby's view (registering, running, finished,
-- cancelled).

CREATE TABLE tournaments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('sng', 'mtt')),
    state TEXT NOT NULL CHECK (state IN ('registering', 'running', 'finished', 'cancelled')),
    asset TEXT NOT NULL,
    spec BLOB NOT NULL,
    core BLOB,
    live BLOB,
    version BIGINT NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE INDEX tournaments_by_state ON tournaments (state, id);
