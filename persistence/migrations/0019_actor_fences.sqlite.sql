-- One owner per table across nodes (docs/scaling.md): the fencing epoch a node takes with
-- a table's lease in Redis (persistence/leases.py). Each take adds one to epoch; every
-- snapshot write of a fenced table checks, in its transaction, that the writer's epoch is
-- still the current one, so an owner paused past its lease cannot write after another node
-- took the table over. owner: the node that took the current epoch (for operators).
CREATE TABLE actor_fences (
    actor_id TEXT PRIMARY KEY,
    epoch BIGINT NOT NULL CHECK (epoch > 0),
    owner TEXT NOT NULL,
    taken_at_ms BIGINT NOT NULL
);
