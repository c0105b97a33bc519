-- Key rotation while the stream runs (earlylink keys rotate). The key versions tokens are
-- made under are the store's state (the key_versions row of resolver_state): the
-- pseudonymiser reads that row alone, through a view, before every batch, and records which
-- versions its batches use, so that the rotation knows when nothing made under the old
-- version alone is still on its way. Neither gives it any other state of the resolver.
CREATE OR REPLACE VIEW key_versions AS
    SELECT value FROM resolver_state WHERE name = 'key_versions';

CREATE TABLE IF NOT EXISTS key_versions_confirmed (
    processor  text PRIMARY KEY,
    versions   text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'earlylink_pseudonymise') THEN
        GRANT SELECT ON key_versions TO earlylink_pseudonymise;
        GRANT SELECT, INSERT, UPDATE ON key_versions_confirmed TO earlylink_pseudonymise;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'earlylink_resolve') THEN
        GRANT SELECT ON key_versions TO earlylink_resolve;
    END IF;
END $$;
