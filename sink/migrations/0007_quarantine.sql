-- Poison messages cost one message, not a processor (stream_processors.isolate): what a stage
-- could not write after its retries is set aside here with its position and reason.

-- The pseudonymiser: a ledger row that could not be written becomes a QUARANTINED row (the
-- message itself is on the dead-letter topic).
ALTER TABLE ingest_ledger DROP CONSTRAINT IF EXISTS ingest_ledger_outcome_check;
ALTER TABLE ingest_ledger ADD CONSTRAINT ingest_ledger_outcome_check
    CHECK (outcome IN ('PSEUDONYMISED', 'SUPPRESSED', 'DEAD_LETTERED', 'QUARANTINED'));

-- The resolver: a pseudonymised message it could not decode or write. Its payload holds tokens
-- and encodings only (no identifier), kept so that a mended resolver can replay it.
CREATE TABLE IF NOT EXISTS resolve_quarantine (
    topic            text        NOT NULL,
    kafka_partition  int         NOT NULL,
    kafka_offset     bigint      NOT NULL,
    event_id         uuid,
    source_system    text,
    event_type       text,
    reason           text        NOT NULL,
    payload          bytea       NOT NULL,
    quarantined_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, kafka_partition, kafka_offset)
);
CREATE INDEX IF NOT EXISTS resolve_quarantine_event_idx ON resolve_quarantine (event_id);

-- A replayed batch wrote its withdrawals and retractions to the audit log again: one row per
-- action and event from now on.
DELETE FROM audit_log a USING audit_log b
 WHERE a.id > b.id AND a.action = b.action AND a.event_id = b.event_id
   AND a.record_key IS NOT DISTINCT FROM b.record_key;
CREATE UNIQUE INDEX IF NOT EXISTS audit_log_event_idx ON audit_log (action, event_id, record_key);
