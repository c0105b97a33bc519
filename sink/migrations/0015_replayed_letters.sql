-- A dead letter replayed (``earlylink deadletter replay``) comes back on its topic with a
-- ``replayed-from`` header naming the letter: its ledger row records that position, so the
-- reconciliation shows how many messages were replays and which dead letters were replayed.
ALTER TABLE ingest_ledger ADD COLUMN IF NOT EXISTS replayed_from text;
CREATE INDEX IF NOT EXISTS ingest_ledger_event_idx ON ingest_ledger (event_id)
    WHERE event_id IS NOT NULL;
