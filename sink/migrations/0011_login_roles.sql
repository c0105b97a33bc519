-- Least privilege for the processes (a review found the processors, the status page and the
-- CLI all connected as the superuser): one login role per job, none a superuser, none able to
-- create roles or databases, each granted only what it does. Passwords are set by
-- `earlylink db migrate` from the settings (earlylink/credentials.py), never written here.
DO $$
DECLARE
  login text;
BEGIN
  FOREACH login IN ARRAY ARRAY['earlylink_pseudonymise', 'earlylink_resolve',
                               'earlylink_analyst_login', 'earlylink_researcher_login'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login) THEN
      EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS',
                     login);
    END IF;
  END LOOP;
END $$;

GRANT earlylink_analyst TO earlylink_analyst_login;
GRANT earlylink_researcher TO earlylink_researcher_login;
-- the status page each stage serves shows the data_quality aggregate (as earlylink_analyst)
GRANT earlylink_analyst TO earlylink_pseudonymise, earlylink_resolve;
GRANT USAGE ON SCHEMA public TO earlylink_pseudonymise, earlylink_resolve;

-- the pseudonymiser: its ledger and offsets, the register of sources
GRANT SELECT, INSERT ON ingest_ledger TO earlylink_pseudonymise;
GRANT SELECT, INSERT, UPDATE ON stream_offsets TO earlylink_pseudonymise;
GRANT SELECT ON sources TO earlylink_pseudonymise;

-- the resolver: the identity graph and its offsets
GRANT SELECT, INSERT, UPDATE, DELETE ON records, block_keys, match_edges, memberships,
      persons, person_aliases, record_relations, service_contacts, outcome_measures,
      resolve_quarantine TO earlylink_resolve;
GRANT SELECT, INSERT, UPDATE ON identity_history, stream_offsets TO earlylink_resolve;
GRANT USAGE ON SEQUENCE identity_history_id_seq, audit_log_id_seq TO earlylink_resolve;
-- the audit log: appended to, never changed or emptied (by anyone but the owner)
REVOKE ALL ON audit_log FROM earlylink_writer, earlylink_pseudonymise, earlylink_resolve;
GRANT SELECT, INSERT ON audit_log TO earlylink_resolve;
-- lag (both stages' offsets) on the status pages
GRANT SELECT ON stream_offsets TO earlylink_resolve, earlylink_pseudonymise;

-- the researcher's audited queries: through a function, so it can add audit rows and nothing else
CREATE OR REPLACE FUNCTION analytics.audit_row_level_query(detail text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  INSERT INTO public.audit_log (action, reason, actor) VALUES ('ROW_LEVEL_QUERY', detail, session_user)
$$;
REVOKE ALL ON FUNCTION analytics.audit_row_level_query(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.audit_row_level_query(text) TO earlylink_researcher;
