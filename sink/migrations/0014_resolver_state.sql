-- What the stored blocking index was built with. Blocking keys come from the linkage
-- configuration's rules (they used to be tokens made by the pseudonymiser): when the rules a
-- resolver runs differ from the ones recorded here, it rebuilds every active record's keys
-- before its first batch, or new records would never meet the stored ones.
CREATE TABLE IF NOT EXISTS resolver_state (
    name  text PRIMARY KEY,
    value text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'earlylink_resolve') THEN
        GRANT SELECT, INSERT, UPDATE ON resolver_state TO earlylink_resolve;
    END IF;
END $$;
