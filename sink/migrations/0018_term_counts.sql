-- How many records hold each counted name token (term_holders' rows per token), kept by the
-- resolver in its batch transaction by the difference each batch makes, so that weighing a
-- common name reads one row instead of counting its holders. A token no record holds has no
-- row (a withdrawn person's name leaves no trace here). Built from term_holders once. No CHECK
-- on holders: an upsert's proposed row carries the difference, which may be negative.
CREATE TABLE IF NOT EXISTS term_counts (
    token    bytea   PRIMARY KEY,
    holders  integer NOT NULL
);

INSERT INTO term_counts (token, holders)
    SELECT token, count(*) FROM term_holders GROUP BY token
    ON CONFLICT (token) DO UPDATE SET holders = EXCLUDED.holders;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'earlylink_resolve') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON term_counts TO earlylink_resolve;
    END IF;
END $$;
