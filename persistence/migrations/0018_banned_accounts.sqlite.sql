-- Banned accounts, found without reading every account: leaderboards leave banned players
-- out of each rank by counting those ranked above (persistence/players.py rank_of), and the
-- Redis mirror loads its banned set from them (docs/players.md). Few rows: a partial index.
CREATE INDEX accounts_banned ON accounts (id) WHERE banned;
