-- Tablium schema, version 11: the outbox of domain events (docs/events.md).
--
-- Every domain event is a row here, written in the same transaction as the change it
-- describes, so an event exists if and only if its change committed. The relay
-- (persistence/relay.py) publishes pending rows in id order and stamps relayed_at_ms only
-- after the broker confirmed them; pruning deletes relayed rows only.
--
-- sequence: the event's place within its aggregate (player:42, table:t1, transfer:7), from
-- 1 without gaps. Units of work take it from outbox_sequences (the row lock orders two
-- writers of one aggregate: the second waits for the first to commit, so id order and
-- sequence order agree within an aggregate). A transfer's events need no counter: its
-- creation is 1 and its one resolution (pending -> posted or voided) is 2.
--
-- processed_events: a consumer's record of the events it applied, written in the same
-- transaction as its own change (services/events.py): each event is applied at most once.

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: a pruned id is never reused
    event_type TEXT NOT NULL,
    schema_version INTEGER NOT NULL CHECK (schema_version > 0),
    aggregate TEXT NOT NULL,
    sequence BIGINT NOT NULL CHECK (sequence > 0),
    at_ms BIGINT NOT NULL,
    payload TEXT NOT NULL,                 -- JSON
    relayed_at_ms BIGINT,                  -- NULL: pending
    UNIQUE (aggregate, sequence)
);
CREATE INDEX outbox_pending ON outbox (id) WHERE relayed_at_ms IS NULL;

CREATE TABLE outbox_sequences (
    aggregate TEXT PRIMARY KEY,
    last_sequence BIGINT NOT NULL
);

CREATE TABLE processed_events (
    consumer TEXT NOT NULL,
    event_id BIGINT NOT NULL,
    processed_at_ms BIGINT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

-- Wallet transfers (docs/events.md: transfer.*), whatever path wrote them: a batch, the
-- one-statement shortcut, an audited adjustment, a resolve.
CREATE TRIGGER outbox_transfer_created AFTER INSERT ON ledger_transfers
BEGIN
  INSERT INTO outbox (event_type, schema_version, aggregate, sequence, at_ms, payload)
    VALUES (CASE NEW.state WHEN 'pending' THEN 'transfer.pending' ELSE 'transfer.posted' END,
            1, 'transfer:' || NEW.id, 1, NEW.created_at_ms, json_object('transfer_id', NEW.id, 'key', NEW.idempotency_key, 'kind', NEW.kind, 'asset', NEW.asset, 'amount', NEW.amount, 'debit_kind', NEW.debit_kind, 'debit_owner', NEW.debit_owner, 'credit_kind', NEW.credit_kind, 'credit_owner', NEW.credit_owner, 'memo', NEW.memo, 'state', NEW.state));
END;

CREATE TRIGGER outbox_transfer_resolved AFTER UPDATE OF state ON ledger_transfers
WHEN OLD.state = 'pending' AND NEW.state <> 'pending'
BEGIN
  INSERT INTO outbox (event_type, schema_version, aggregate, sequence, at_ms, payload)
    VALUES ('transfer.' || NEW.state, 1, 'transfer:' || NEW.id, 2, NEW.updated_at_ms,
            json_object('transfer_id', NEW.id, 'key', NEW.idempotency_key, 'kind', NEW.kind, 'asset', NEW.asset, 'amount', NEW.amount, 'debit_kind', NEW.debit_kind, 'debit_owner', NEW.debit_owner, 'credit_kind', NEW.credit_kind, 'credit_owner', NEW.credit_owner, 'memo', NEW.memo, 'state', NEW.state));
END;

-- The chain cashier (docs/chain.md): a deposit credited (again after a reorg: a new event),
-- a withdrawal requested and paid.
CREATE TRIGGER outbox_deposit_credited AFTER UPDATE OF state ON chain_deposits
WHEN NEW.state = 'credited' AND OLD.state <> 'credited'
BEGIN
  INSERT INTO outbox_sequences (aggregate, last_sequence) VALUES ('deposit:' || NEW.id, 1)
    ON CONFLICT (aggregate) DO UPDATE SET last_sequence = last_sequence + 1;
  INSERT INTO outbox (event_type, schema_version, aggregate, sequence, at_ms, payload)
    VALUES ('deposit.credited', 1, 'deposit:' || NEW.id,
            (SELECT last_sequence FROM outbox_sequences WHERE aggregate = 'deposit:' || NEW.id),
            NEW.updated_at_ms, json_object('deposit_id', NEW.id, 'chain_id', NEW.chain_id, 'player_id', NEW.player_id, 'chips', NEW.chips, 'units', NEW.units, 'tx_hash', NEW.tx_hash, 'transfer_id', NEW.transfer_id, 'attempt', NEW.attempt));
END;

CREATE TRIGGER outbox_withdrawal_requested AFTER INSERT ON chain_withdrawals
BEGIN
  INSERT INTO outbox_sequences (aggregate, last_sequence) VALUES ('withdrawal:' || NEW.id, 1)
    ON CONFLICT (aggregate) DO UPDATE SET last_sequence = last_sequence + 1;
  INSERT INTO outbox (event_type, schema_version, aggregate, sequence, at_ms, payload)
    VALUES ('withdrawal.requested', 1, 'withdrawal:' || NEW.id,
            (SELECT last_sequence FROM outbox_sequences WHERE aggregate = 'withdrawal:' || NEW.id),
            NEW.created_at_ms, json_object('withdrawal_id', NEW.id, 'chain_id', NEW.chain_id, 'player_id', NEW.player_id, 'chips', NEW.chips, 'units', NEW.units, 'address', NEW.address, 'batch_id', NEW.batch_id, 'transfer_id', NEW.transfer_id));
END;

CREATE TRIGGER outbox_withdrawal_paid AFTER UPDATE OF state ON chain_withdrawals
WHEN NEW.state = 'paid' AND OLD.state <> 'paid'
BEGIN
  INSERT INTO outbox_sequences (aggregate, last_sequence) VALUES ('withdrawal:' || NEW.id, 1)
    ON CONFLICT (aggregate) DO UPDATE SET last_sequence = last_sequence + 1;
  INSERT INTO outbox (event_type, schema_version, aggregate, sequence, at_ms, payload)
    VALUES ('withdrawal.paid', 1, 'withdrawal:' || NEW.id,
            (SELECT last_sequence FROM outbox_sequences WHERE aggregate = 'withdrawal:' || NEW.id),
            NEW.updated_at_ms, json_object('withdrawal_id', NEW.id, 'chain_id', NEW.chain_id, 'player_id', NEW.player_id, 'chips', NEW.chips, 'units', NEW.units, 'address', NEW.address, 'batch_id', NEW.batch_id, 'transfer_id', NEW.transfer_id));
END;
