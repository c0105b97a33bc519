-- The receipt ledger: one row per event taken off the raw topic, envelope only (no identifiers).
-- It is what the reconciliation counts "received" from, per source.
CREATE TABLE IF NOT EXISTS event_receipts (
    event_id        uuid PRIMARY KEY,
    source_system   text        NOT NULL,
    event_type      text        NOT NULL,
    schema_version  int         NOT NULL,
    event_time      timestamptz NOT NULL,
    topic           text        NOT NULL,
    kafka_partition int         NOT NULL,
    kafka_offset    bigint      NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS event_receipts_source_idx ON event_receipts (source_system, event_time);

-- Consumer offsets committed in the same transaction as the writes they cover.
CREATE TABLE IF NOT EXISTS stream_offsets (
    consumer_group  text   NOT NULL,
    topic           text   NOT NULL,
    kafka_partition int    NOT NULL,
    next_offset     bigint NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, kafka_partition)
);
