-- Club tournaments (docs/clubs.md "Club tournaments"): a tournament created by a club's owner
-- or manager belongs to the club for life (its spec names the club too). The directory writes
-- the row in the transaction that creates the tournament; rakeback reads it to count the
-- tournament's fees (entry_fee transfers, keys tournament:<id>:...) as the club's.
CREATE TABLE club_tournaments (
    tournament_id BIGINT PRIMARY KEY,
    club_id BIGINT NOT NULL REFERENCES clubs (id),
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX club_tournaments_by_club ON club_tournaments (club_id);
