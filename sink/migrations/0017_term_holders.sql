-- The resolver's own term counts (stream_processors.resolve.terms): which active records hold
-- each name token a comparison level adjusts by, so that a model without a table of term
-- frequencies (the shipped one) weighs a common name as common. Tokens are digests of the
-- kind and the keyed name token, like the blocking index beside it; the same roles read it.
CREATE TABLE IF NOT EXISTS term_holders (
    token       bytea NOT NULL,
    record_key  text  NOT NULL,
    PRIMARY KEY (token, record_key)
);
CREATE INDEX IF NOT EXISTS term_holders_record_idx ON term_holders (record_key);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'earlylink_resolve') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON term_holders TO earlylink_resolve;
    END IF;
END $$;
