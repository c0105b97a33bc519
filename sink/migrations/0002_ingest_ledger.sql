-- One row per message taken off the raw topic, keyed by its position (so replays are no-ops):
-- what happened to it (pseudonymised, consent-suppressed, dead-lettered with a reason), with
-- envelope facts and data-quality facts only. No identifier of any person is stored here.
CREATE TABLE IF NOT EXISTS ingest_ledger (
    topic            text        NOT NULL,
    kafka_partition  int         NOT NULL,
    kafka_offset     bigint      NOT NULL,
    outcome          text        NOT NULL CHECK (outcome IN ('PSEUDONYMISED', 'SUPPRESSED', 'DEAD_LETTERED')),
    reason           text,
    event_id         uuid,
    source_system    text        NOT NULL,
    event_type       text,
    event_time       timestamptz,
    raw_timestamp    timestamptz,
    fields_present   smallint    NOT NULL DEFAULT 0,
    field_issues     text[]      NOT NULL DEFAULT '{}',
    processed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, kafka_partition, kafka_offset)
);
CREATE INDEX IF NOT EXISTS ingest_ledger_source_time_idx ON ingest_ledger (source_system, processed_at);

-- The first slice's receipt ledger is superseded by ingest_ledger.
DROP TABLE IF EXISTS event_receipts;
