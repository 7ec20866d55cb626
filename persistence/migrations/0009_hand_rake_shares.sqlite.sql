-- Tablium schema, version 8: what each player paid of a hand's rake, and the hand's asset.
--
-- hand_players.rake_paid is the player's share of the hand's rake (poker/rake_shares.py:
-- weighted by what she put into the pots that were raked; the shares of a hand sum to its
-- rake). Rakeback and player statistics sum it per player and period (real money only).

ALTER TABLE hand_histories ADD COLUMN asset TEXT NOT NULL DEFAULT 'chips';
ALTER TABLE hand_players ADD COLUMN rake_paid BIGINT NOT NULL DEFAULT 0 CHECK (rake_paid >= 0);
