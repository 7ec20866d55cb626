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
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- never reused
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
-- one-statement shortcut (ledger_transfer_if_unchanged), an audited adjustment, a resolve.
CREATE FUNCTION outbox_transfer_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO outbox (event_type, schema_version, aggregate, sequence, at_ms, payload)
      VALUES (CASE NEW.state WHEN 'pending' THEN 'transfer.pending' ELSE 'transfer.posted' END,
              1, 'transfer:' || NEW.id, 1, NEW.created_at_ms, json_build_object('transfer_id', NEW.id, 'key', NEW.idempotency_key, 'kind', NEW.kind, 'asset', NEW.asset, 'amount', NEW.amount, 'debit_kind', NEW.debit_kind, 'debit_owner', NEW.debit_owner, 'credit_kind', NEW.credit_kind, 'credit_owner', NEW.credit_owner, 'memo', NEW.memo, 'state', NEW.state)::text);
  ELSIF OLD.state = 'pending' AND NEW.state <> 'pending' THEN
    INSERT INTO outbox (event_type, schema_version, aggregate, sequence, at_ms, payload)
      VALUES ('transfer.' || NEW.state, 1, 'transfer:' || NEW.id, 2, NEW.updated_at_ms,
              json_build_object('transfer_id', NEW.id, 'key', NEW.idempotency_key, 'kind', NEW.kind, 'asset', NEW.asset, 'amount', NEW.amount, 'debit_kind', NEW.debit_kind, 'debit_owner', NEW.debit_owner, 'credit_kind', NEW.credit_kind, 'credit_owner', NEW.credit_owner, 'memo', NEW.memo, 'state', NEW.state)::text);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_transfer_event AFTER INSERT OR UPDATE OF state ON ledger_transfers
  FOR EACH ROW EXECUTE FUNCTION outbox_transfer_event();

-- The chain cashier (docs/chain.md): a deposit credited (again after a reorg: a new event),
-- a withdrawal requested and paid.
CREATE FUNCTION outbox_deposit_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE seq BIGINT;
BEGIN
  IF NEW.state = 'credited' AND OLD.state <> 'credited' THEN
  INSERT INTO outbox_sequences (aggregate, last_sequence) VALUES ('deposit:' || NEW.id, 1)
    ON CONFLICT (aggregate) DO UPDATE SET last_sequence = outbox_sequences.last_sequence + 1
    RETURNING last_sequence INTO seq;
  INSERT INTO outbox (event_type, schema_version, aggregate, sequence, at_ms, payload)
    VALUES ('deposit.credited', 1, 'deposit:' || NEW.id, seq, NEW.updated_at_ms, json_build_object('deposit_id', NEW.id, 'chain_id', NEW.chain_id, 'player_id', NEW.player_id, 'chips', NEW.chips, 'units', NEW.units, 'tx_hash', NEW.tx_hash, 'transfer_id', NEW.transfer_id, 'attempt', NEW.attempt)::text);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_deposit_event AFTER UPDATE OF state ON chain_deposits
  FOR EACH ROW EXECUTE FUNCTION outbox_deposit_event();

CREATE FUNCTION outbox_withdrawal_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE seq BIGINT;
BEGIN
  IF TG_OP = 'INSERT' THEN
  INSERT INTO outbox_sequences (aggregate, last_sequence) VALUES ('withdrawal:' || NEW.id, 1)
    ON CONFLICT (aggregate) DO UPDATE SET last_sequence = outbox_sequences.last_sequence + 1
    RETURNING last_sequence INTO seq;
  INSERT INTO outbox (event_type, schema_version, aggregate, sequence, at_ms, payload)
    VALUES ('withdrawal.requested', 1, 'withdrawal:' || NEW.id, seq, NEW.created_at_ms, json_build_object('withdrawal_id', NEW.id, 'chain_id', NEW.chain_id, 'player_id', NEW.player_id, 'chips', NEW.chips, 'units', NEW.units, 'address', NEW.address, 'batch_id', NEW.batch_id, 'transfer_id', NEW.transfer_id)::text);
  ELSIF NEW.state = 'paid' AND OLD.state <> 'paid' THEN
  INSERT INTO outbox_sequences (aggregate, last_sequence) VALUES ('withdrawal:' || NEW.id, 1)
    ON CONFLICT (aggregate) DO UPDATE SET last_sequence = outbox_sequences.last_sequence + 1
    RETURNING last_sequence INTO seq;
  INSERT INTO outbox (event_type, schema_version, aggregate, sequence, at_ms, payload)
    VALUES ('withdrawal.paid', 1, 'withdrawal:' || NEW.id, seq, NEW.updated_at_ms, json_build_object('withdrawal_id', NEW.id, 'chain_id', NEW.chain_id, 'player_id', NEW.player_id, 'chips', NEW.chips, 'units', NEW.units, 'address', NEW.address, 'batch_id', NEW.batch_id, 'transfer_id', NEW.transfer_id)::text);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_withdrawal_event AFTER INSERT OR UPDATE OF state ON chain_withdrawals
  FOR EACH ROW EXECUTE FUNCTION outbox_withdrawal_event();
