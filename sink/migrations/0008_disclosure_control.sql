-- Disclosure control that holds against the analyst (a review lowered the threshold with a
-- session SET, and recomputed suppressed aggregates from the row-level views):
--  * the small-number threshold lives in a table only the owner can change, read through a
--    SECURITY DEFINER function (a session setting no longer counts);
--  * earlylink_analyst reads the aggregate views only, each with primary and secondary
--    suppression; the row-level views (persons, contacts, journeys, outcomes) are granted to
--    earlylink_researcher, whose queries through earlylink are audited.

CREATE TABLE IF NOT EXISTS disclosure_settings (
    name   text PRIMARY KEY,
    value  int  NOT NULL CHECK (value >= 1)
);
-- a threshold set the old way (ALTER DATABASE ... SET earlylink.small_number_threshold) carries over
INSERT INTO disclosure_settings (name, value)
VALUES ('small_number_threshold',
        coalesce(nullif(current_setting('earlylink.small_number_threshold', true), '')::int, 10))
ON CONFLICT (name) DO NOTHING;
REVOKE ALL ON disclosure_settings FROM PUBLIC;

CREATE OR REPLACE FUNCTION analytics.threshold() RETURNS int
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT coalesce((SELECT value FROM public.disclosure_settings
                   WHERE name = 'small_number_threshold'), 10)
$$;
REVOKE ALL ON FUNCTION analytics.threshold() FROM PUBLIC;

-- Reach by postcode district: each column suppressed below the threshold, and when a column
-- has exactly one such cell, its next smallest cell too.
CREATE OR REPLACE VIEW analytics.reach_by_area AS
WITH base AS (
  SELECT area, count(*) AS persons, count(*) FILTER (WHERE role = 'CHILD') AS children,
         count(DISTINCT family_id) AS families
  FROM analytics.persons WHERE area IS NOT NULL GROUP BY area),
k AS (SELECT analytics.threshold() AS k),
flagged AS (
  SELECT b.*,
         count(*) FILTER (WHERE b.persons < k.k) OVER () AS p_smalls,
         row_number() OVER (PARTITION BY b.persons < k.k ORDER BY b.persons, b.area) AS p_rank,
         count(*) FILTER (WHERE b.children < k.k) OVER () AS c_smalls,
         row_number() OVER (PARTITION BY b.children < k.k ORDER BY b.children, b.area) AS c_rank,
         count(*) FILTER (WHERE b.families < k.k) OVER () AS f_smalls,
         row_number() OVER (PARTITION BY b.families < k.k ORDER BY b.families, b.area) AS f_rank,
         k.k
  FROM base b, k)
SELECT area,
       CASE WHEN persons < k OR (p_smalls = 1 AND p_rank = 1) THEN NULL ELSE persons END
         AS persons,
       CASE WHEN children < k OR (c_smalls = 1 AND c_rank = 1) THEN NULL ELSE children END
         AS children,
       CASE WHEN families < k OR (f_smalls = 1 AND f_rank = 1) THEN NULL ELSE families END
         AS families
FROM flagged;

-- Which combinations of services families use, suppressed the same way.
CREATE OR REPLACE VIEW analytics.service_combinations AS
WITH per_family AS (
  SELECT family_id, array_agg(DISTINCT service_code ORDER BY service_code) AS services
  FROM analytics.contacts GROUP BY family_id),
base AS (
  SELECT services, count(*) AS families FROM per_family GROUP BY services),
k AS (SELECT analytics.threshold() AS k),
flagged AS (
  SELECT b.*, count(*) FILTER (WHERE b.families < k.k) OVER () AS smalls,
         row_number() OVER (PARTITION BY b.families < k.k
                            ORDER BY b.families, array_to_string(b.services, ' + ')) AS rank,
         k.k
  FROM base b, k)
SELECT array_to_string(services, ' + ') AS services, cardinality(services) AS service_count,
       CASE WHEN families < k OR (smalls = 1 AND rank = 1) THEN NULL ELSE families END
         AS families
FROM flagged;

-- who did what: the database login of each audited action (a researcher's query, a processor's
-- withdrawal)
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS actor text NOT NULL DEFAULT session_user;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'earlylink_researcher') THEN
    CREATE ROLE earlylink_researcher NOLOGIN;
  END IF;
END $$;

-- the analyst: aggregates only
REVOKE ALL ON ALL TABLES IN SCHEMA analytics FROM earlylink_analyst;
GRANT SELECT ON analytics.unique_beneficiaries, analytics.reach_by_area,
                analytics.service_combinations, analytics.data_quality TO earlylink_analyst;
GRANT EXECUTE ON FUNCTION analytics.threshold(), analytics.publish(bigint) TO earlylink_analyst;
REVOKE ALL ON disclosure_settings FROM earlylink_analyst, earlylink_writer;

-- the researcher: every view, row level included
GRANT USAGE ON SCHEMA analytics TO earlylink_researcher;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO earlylink_researcher;
GRANT EXECUTE ON FUNCTION analytics.threshold(), analytics.publish(bigint)
  TO earlylink_researcher;
