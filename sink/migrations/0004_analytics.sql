-- The analytics schema: what analysts may read. No record key, token or encoding appears in
-- any view; person and family ids are earlylink's own. Published aggregates apply small-number
-- suppression (counts below the threshold, default 10, shown as NULL) with secondary suppression
-- so that a total cannot reveal a suppressed cell.

ALTER TABLE records ADD COLUMN IF NOT EXISTS area text;

CREATE SCHEMA IF NOT EXISTS analytics;

-- The threshold: ALTER DATABASE <db> SET earlylink.small_number_threshold = '5' to change it.
CREATE OR REPLACE FUNCTION analytics.threshold() RETURNS int LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('earlylink.small_number_threshold', true), '')::int, 10)
$$;

CREATE OR REPLACE FUNCTION analytics.publish(n bigint) RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN n < analytics.threshold() THEN NULL ELSE n END
$$;

-- One row per person: role, family (the mother's person for a child whose mother is known),
-- area of the latest record.
CREATE OR REPLACE VIEW analytics.persons AS
WITH active AS (
  SELECT m.person_id, r.role, r.area, r.event_time, r.record_key
  FROM public.memberships m JOIN public.records r USING (record_key)
  WHERE r.state = 'ACTIVE'),
mothers AS (
  SELECT m.person_id AS child, min(mm.person_id) AS mother
  FROM public.record_relations rr
  JOIN public.memberships m ON m.record_key = rr.record_key
  JOIN public.memberships mm ON mm.record_key = rr.related_key
  WHERE rr.relationship = 'MOTHER' GROUP BY m.person_id)
SELECT a.person_id,
       CASE WHEN bool_or(a.role = 'CHILD') THEN 'CHILD' ELSE 'ADULT' END AS role,
       coalesce(min(mo.mother), a.person_id) AS family_id,
       (array_agg(a.area ORDER BY a.event_time DESC) FILTER (WHERE a.area IS NOT NULL))[1] AS area,
       count(*) AS records
FROM active a LEFT JOIN mothers mo ON mo.child = a.person_id
GROUP BY a.person_id;

-- Row level: every service contact of a linked person.
CREATE OR REPLACE VIEW analytics.contacts AS
SELECT p.person_id, p.family_id, p.role, c.source_system, c.service_code, c.activity_code,
       c.contact_type, c.contact_date, p.area
FROM public.service_contacts c
JOIN public.memberships m ON m.record_key = c.record_key
JOIN analytics.persons p ON p.person_id = m.person_id;

-- Unique beneficiaries per service and quarter beside the raw record count (the double
-- counting a quarterly upload would have made), suppressed.
CREATE OR REPLACE VIEW analytics.unique_beneficiaries AS
WITH base AS (
  SELECT c.service_code, date_trunc('quarter', c.contact_date)::date AS quarter,
         count(DISTINCT c.record_key) AS source_records,
         count(DISTINCT p.person_id) AS persons,
         count(DISTINCT p.person_id) FILTER (WHERE p.role = 'CHILD') AS children,
         count(DISTINCT p.family_id) AS families
  FROM public.service_contacts c
  JOIN public.memberships m ON m.record_key = c.record_key
  JOIN analytics.persons p ON p.person_id = m.person_id
  GROUP BY 1, 2),
ranked AS (
  SELECT b.*, b.persons < analytics.threshold() AS small,
         count(*) FILTER (WHERE b.persons < analytics.threshold())
           OVER (PARTITION BY b.quarter) AS smalls,
         row_number() OVER (PARTITION BY b.quarter, b.persons < analytics.threshold()
                            ORDER BY b.persons, b.service_code) AS rank_in_kind
  FROM base b)
SELECT service_code, quarter,
       CASE WHEN suppressed THEN NULL ELSE analytics.publish(source_records) END AS source_records,
       CASE WHEN suppressed THEN NULL ELSE persons END AS persons,
       CASE WHEN suppressed THEN NULL ELSE analytics.publish(children) END AS children,
       CASE WHEN suppressed THEN NULL ELSE analytics.publish(families) END AS families,
       suppressed
FROM (SELECT *, small OR (smalls = 1 AND NOT small AND rank_in_kind = 1) AS suppressed
      FROM ranked) x;

-- Reach by postcode district.
CREATE OR REPLACE VIEW analytics.reach_by_area AS
SELECT area, analytics.publish(count(*)) AS persons,
       analytics.publish(count(*) FILTER (WHERE role = 'CHILD')) AS children,
       analytics.publish(count(DISTINCT family_id)) AS families
FROM analytics.persons WHERE area IS NOT NULL GROUP BY area;

-- Which combinations of services families use.
CREATE OR REPLACE VIEW analytics.service_combinations AS
WITH per_family AS (
  SELECT family_id, array_agg(DISTINCT service_code ORDER BY service_code) AS services
  FROM analytics.contacts GROUP BY family_id)
SELECT array_to_string(services, ' + ') AS services, cardinality(services) AS service_count,
       analytics.publish(count(*)) AS families
FROM per_family GROUP BY services;

-- Journeys: each person's services in the order first used.
CREATE OR REPLACE VIEW analytics.journeys AS
WITH firsts AS (
  SELECT person_id, role, service_code, min(contact_date) AS first_contact
  FROM analytics.contacts GROUP BY 1, 2, 3)
SELECT person_id, role,
       array_to_string(array_agg(service_code ORDER BY first_contact, service_code), ' > ')
         AS journey,
       min(first_contact) AS started, max(first_contact) AS latest_new_service
FROM firsts GROUP BY person_id, role;

-- Outcome measures over time beside the services used before each measurement.
CREATE OR REPLACE VIEW analytics.outcomes AS
SELECT p.person_id, p.family_id, p.role, o.tool_code, o.domain, o.score, o.measured_on,
       (SELECT array_to_string(array_agg(DISTINCT c.service_code ORDER BY c.service_code), ', ')
        FROM analytics.contacts c
        WHERE c.person_id = p.person_id AND c.contact_date <= o.measured_on) AS services_before
FROM public.outcome_measures o
JOIN public.memberships m ON m.record_key = o.record_key
JOIN analytics.persons p ON p.person_id = m.person_id;

-- Data quality and linkage rate per source: what each service is held to account on.
CREATE OR REPLACE VIEW analytics.data_quality AS
WITH ledger AS (
  SELECT source_system, count(*) AS received,
         count(*) FILTER (WHERE outcome = 'PSEUDONYMISED') AS pseudonymised,
         count(*) FILTER (WHERE outcome = 'SUPPRESSED') AS consent_suppressed,
         count(*) FILTER (WHERE outcome = 'DEAD_LETTERED') AS dead_lettered,
         sum(cardinality(field_issues)) AS field_issues
  FROM public.ingest_ledger GROUP BY source_system),
sources_per_person AS (
  SELECT m.person_id, count(DISTINCT r.source_system) AS sources
  FROM public.memberships m JOIN public.records r USING (record_key)
  WHERE r.state = 'ACTIVE' GROUP BY m.person_id),
linkage AS (
  SELECT r.source_system, count(*) AS linked_records,
         avg((s.sources > 1)::int) AS linked_elsewhere
  FROM public.records r JOIN public.memberships m USING (record_key)
  JOIN sources_per_person s USING (person_id)
  WHERE r.state = 'ACTIVE' GROUP BY r.source_system)
-- (a source pseudonymising at source has no ledger rows here, only linkage figures)
SELECT source_system, l.received, l.pseudonymised, l.consent_suppressed, l.dead_lettered,
       l.field_issues, k.linked_records,
       round(k.linked_elsewhere::numeric, 3) AS share_linked_to_other_sources
FROM ledger l FULL JOIN linkage k USING (source_system);

-- Roles: analysts read the analytics schema only; processors write the graph.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'earlylink_analyst') THEN
    CREATE ROLE earlylink_analyst NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'earlylink_writer') THEN
    CREATE ROLE earlylink_writer NOLOGIN;
  END IF;
END $$;

GRANT USAGE ON SCHEMA analytics TO earlylink_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO earlylink_analyst;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics TO earlylink_analyst;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM earlylink_analyst;

GRANT USAGE ON SCHEMA public TO earlylink_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO earlylink_writer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO earlylink_writer;
