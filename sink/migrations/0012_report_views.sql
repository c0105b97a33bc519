-- The partnership report's aggregates (`earlylink report`), for the analyst role: each count
-- below the threshold is NULL, with secondary suppression wherever a published total or a
-- sibling cell could give a hidden one back. Periods are whole quarters only: a function taking
-- any two dates would let anyone difference two nearly equal periods down to single days.

-- Reached in a period (whole quarters) and to its end: children, parents/carers, families,
-- persons, and the records a quarterly upload would have counted.
CREATE OR REPLACE FUNCTION analytics.reach_in_period(p_from date, p_to date)
RETURNS TABLE (measure text, in_period bigint, to_date bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE
  k int := analytics.threshold();
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_from > p_to
     OR p_from <> date_trunc('quarter', p_from)::date
     OR (p_to + 1) <> date_trunc('quarter', p_to + 1)::date THEN
    RAISE EXCEPTION 'a period is whole quarters: from the first day of one to the last day of one'
      USING ERRCODE = '22023';
  END IF;
  RETURN QUERY
  WITH reached AS (
    SELECT c.record_key, p.person_id, p.role, p.family_id, c.contact_date >= p_from AS in_period
    FROM public.service_contacts c
    JOIN public.memberships m ON m.record_key = c.record_key
    JOIN analytics.persons p ON p.person_id = m.person_id
    WHERE c.contact_date <= p_to),
  counts AS (
    SELECT w.span,
           count(DISTINCT r.person_id) FILTER (WHERE r.role = 'CHILD') AS children,
           count(DISTINCT r.person_id) FILTER (WHERE r.role = 'ADULT') AS adults,
           count(DISTINCT r.family_id) AS families,
           count(DISTINCT r.person_id) AS persons,
           count(DISTINCT r.record_key) AS records
    FROM (VALUES ('period'), ('to_date')) AS w(span)
    LEFT JOIN reached r ON w.span = 'to_date' OR r.in_period
    GROUP BY w.span),
  published AS (  -- children + parents/carers = persons: either small hides both
    SELECT span,
           CASE WHEN least(children, adults) < k THEN NULL ELSE children END AS children,
           CASE WHEN least(children, adults) < k THEN NULL ELSE adults END AS adults,
           analytics.publish(families) AS families, analytics.publish(persons) AS persons,
           analytics.publish(records) AS records
    FROM counts)
  SELECT v.measure,
         max(v.n) FILTER (WHERE p.span = 'period'), max(v.n) FILTER (WHERE p.span = 'to_date')
  FROM published p
  CROSS JOIN LATERAL (VALUES (1, 'children', p.children), (2, 'parents_carers', p.adults),
                             (3, 'families', p.families), (4, 'persons', p.persons),
                             (5, 'records', p.records)) AS v(ord, measure, n)
  GROUP BY v.measure, v.ord ORDER BY v.ord;
END $$;
REVOKE ALL ON FUNCTION analytics.reach_in_period(date, date) FROM PUBLIC;

-- Per service and quarter: persons new to the service that quarter, and returning ones. New +
-- returning = the persons of unique_beneficiaries, so a row is hidden whole when either is
-- small or that row is suppressed there.
CREATE OR REPLACE VIEW analytics.new_and_returning AS
WITH uses AS (
  SELECT DISTINCT c.service_code, date_trunc('quarter', c.contact_date)::date AS quarter,
         m.person_id
  FROM public.service_contacts c JOIN public.memberships m ON m.record_key = c.record_key),
firsts AS (
  SELECT service_code, person_id, min(quarter) AS first_quarter FROM uses GROUP BY 1, 2),
base AS (
  SELECT u.service_code, u.quarter,
         count(*) FILTER (WHERE u.quarter = f.first_quarter) AS new_persons,
         count(*) FILTER (WHERE u.quarter > f.first_quarter) AS returning_persons
  FROM uses u JOIN firsts f USING (service_code, person_id)
  GROUP BY 1, 2)
SELECT b.service_code, b.quarter,
       CASE WHEN hidden THEN NULL ELSE b.new_persons END AS new_persons,
       CASE WHEN hidden THEN NULL ELSE b.returning_persons END AS returning_persons,
       hidden AS suppressed
FROM base b
JOIN analytics.unique_beneficiaries ub USING (service_code, quarter),
     LATERAL (SELECT ub.suppressed OR least(b.new_persons, b.returning_persons)
                     < analytics.threshold() AS hidden) h;

-- Journeys as steps: which service persons meet first ('(start)' -> service) and which service
-- they take up next. Within each starting service, a lone hidden cell hides its next smallest
-- (the '(start)' row sums to the persons reached, which is published).
CREATE OR REPLACE VIEW analytics.journey_steps AS
WITH firsts AS (
  SELECT m.person_id, c.service_code, min(c.contact_date) AS first_contact
  FROM public.service_contacts c JOIN public.memberships m ON m.record_key = c.record_key
  GROUP BY 1, 2),
ordered AS (
  SELECT person_id, service_code,
         lag(service_code) OVER (PARTITION BY person_id ORDER BY first_contact, service_code)
           AS previous
  FROM firsts),
base AS (
  SELECT coalesce(previous, '(start)') AS from_service, service_code AS to_service,
         count(*) AS persons
  FROM ordered GROUP BY 1, 2),
k AS (SELECT analytics.threshold() AS k),
flagged AS (
  SELECT b.*, k.k,
         count(*) FILTER (WHERE b.persons < k.k) OVER (PARTITION BY b.from_service) AS smalls,
         row_number() OVER (PARTITION BY b.from_service, b.persons < k.k
                            ORDER BY b.persons, b.to_service) AS rank
  FROM base b, k)
SELECT from_service, to_service,
       CASE WHEN persons < k OR (smalls = 1 AND rank = 1) THEN NULL ELSE persons END AS persons
FROM flagged;

-- Outcome measures per tool, domain and quarter: how many, and their mean (hidden together
-- when few).
CREATE OR REPLACE VIEW analytics.outcome_trends AS
SELECT o.tool_code, coalesce(o.domain, '') AS domain,
       date_trunc('quarter', o.measured_on)::date AS quarter,
       analytics.publish(count(*)) AS measures,
       CASE WHEN count(*) < analytics.threshold() THEN NULL
            ELSE round(avg(o.score)::numeric, 1) END AS mean_score
FROM public.outcome_measures o JOIN public.memberships m ON m.record_key = o.record_key
GROUP BY 1, 2, 3;

-- Outcome measures per tool beside each service the person had used before the measurement
-- (association, not effect).
CREATE OR REPLACE VIEW analytics.outcomes_by_service AS
WITH measured AS (
  SELECT o.tool_code, o.score, o.measured_on, m.person_id
  FROM public.outcome_measures o JOIN public.memberships m ON m.record_key = o.record_key),
beside AS (
  SELECT DISTINCT ms.tool_code, ms.score, ms.measured_on, ms.person_id, c.service_code
  FROM measured ms
  JOIN public.memberships m2 ON m2.person_id = ms.person_id
  JOIN public.service_contacts c ON c.record_key = m2.record_key
                                AND c.contact_date <= ms.measured_on)
SELECT tool_code, service_code, analytics.publish(count(*)) AS measures,
       CASE WHEN count(*) < analytics.threshold() THEN NULL
            ELSE round(avg(score)::numeric, 1) END AS mean_score
FROM beside GROUP BY 1, 2;

-- The league table a commissioner acts on: per source, submissions, timeliness, completeness of
-- each identifying field (bits of ingest_ledger.fields_present, in the order of
-- stream_processors/pseudonymise/validate.FIELDS), rejections, consent suppressions, linkage.
CREATE OR REPLACE VIEW analytics.data_quality_league AS
WITH ledger AS (
  SELECT source_system, count(*) AS received,
         count(*) FILTER (WHERE outcome = 'DEAD_LETTERED') AS rejected,
         count(*) FILTER (WHERE outcome = 'SUPPRESSED') AS consent_suppressed,
         sum(cardinality(field_issues)) AS field_issues,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
             coalesce(raw_timestamp, processed_at) - event_time) / 86400.0) AS median_delay_days,
         count(*) FILTER (WHERE event_type = 'PersonRecord' AND outcome = 'PSEUDONYMISED')
           AS person_records,
         array_agg(fields_present) FILTER (WHERE event_type = 'PersonRecord'
                                           AND outcome = 'PSEUDONYMISED') AS masks
  FROM public.ingest_ledger GROUP BY source_system),
share AS (
  SELECT l.*,
         (SELECT array_agg(avg_bit ORDER BY bit) FROM (
            SELECT b.bit, avg(((mask & (1 << b.bit)) <> 0)::int) AS avg_bit
            FROM generate_series(0, 6) AS b(bit), unnest(l.masks) AS mask GROUP BY b.bit) s)
           AS completeness
  FROM ledger l),
k AS (SELECT analytics.threshold() AS k)
SELECT s.source_system,
       analytics.publish(s.received) AS received,
       CASE WHEN s.received < k.k THEN NULL ELSE round(s.median_delay_days::numeric, 1) END
         AS median_days_to_submit,
       analytics.publish(s.person_records) AS person_records,
       CASE WHEN s.person_records < k.k THEN NULL ELSE round(s.completeness[1], 3) END
         AS nhs_number_coverage,
       CASE WHEN s.person_records < k.k THEN NULL ELSE round(s.completeness[3], 3) END
         AS given_names_complete,
       CASE WHEN s.person_records < k.k THEN NULL ELSE round(s.completeness[4], 3) END
         AS family_name_complete,
       CASE WHEN s.person_records < k.k THEN NULL ELSE round(s.completeness[5], 3) END
         AS date_of_birth_complete,
       CASE WHEN s.person_records < k.k THEN NULL ELSE round(s.completeness[6], 3) END
         AS postcode_complete,
       CASE WHEN s.person_records < k.k THEN NULL ELSE round(s.completeness[7], 3) END
         AS address_complete,
       analytics.publish(s.rejected) AS rejected,
       analytics.publish(s.field_issues) AS field_issues,
       analytics.publish(s.consent_suppressed) AS consent_suppressed,
       CASE WHEN s.person_records < k.k THEN NULL ELSE dq.share_linked_to_other_sources END
         AS share_linked_to_other_sources
FROM share s CROSS JOIN k
LEFT JOIN analytics.data_quality dq USING (source_system);

-- Rejections and field issues per source by reason; within a source and kind a lone hidden
-- cell hides its next smallest (the league table publishes their totals).
CREATE OR REPLACE VIEW analytics.rejections_by_reason AS
WITH base AS (
  SELECT source_system, 'rejected' AS kind, reason AS code, count(*) AS n
  FROM public.ingest_ledger WHERE outcome = 'DEAD_LETTERED' GROUP BY 1, 2, 3
  UNION ALL
  SELECT source_system, 'field issue', issue, count(*)
  FROM public.ingest_ledger, unnest(field_issues) AS issue GROUP BY 1, 2, 3),
k AS (SELECT analytics.threshold() AS k),
flagged AS (
  SELECT b.*, k.k,
         count(*) FILTER (WHERE b.n < k.k) OVER (PARTITION BY b.source_system, b.kind) AS smalls,
         row_number() OVER (PARTITION BY b.source_system, b.kind, b.n < k.k
                            ORDER BY b.n, b.code) AS rank
  FROM base b, k)
SELECT source_system, kind, code,
       CASE WHEN n < k OR (smalls = 1 AND rank = 1) THEN NULL ELSE n END AS messages
FROM flagged;

GRANT SELECT ON analytics.new_and_returning, analytics.journey_steps, analytics.outcome_trends,
                analytics.outcomes_by_service, analytics.data_quality_league,
                analytics.rejections_by_reason
  TO earlylink_analyst, earlylink_researcher;
GRANT EXECUTE ON FUNCTION analytics.reach_in_period(date, date)
  TO earlylink_analyst, earlylink_researcher;
