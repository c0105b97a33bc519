-- The data-quality league with the town's completeness (PersonRecord v3's `locality`, bit 128
-- of the pseudonymiser's field mask, which the ledger has kept since v3 but no view showed):
-- how many of a source's records carry the town the locality comparison reads. The 0013 view
-- with one more column, at the end (a view that is replaced keeps its columns in order).

CREATE OR REPLACE VIEW analytics.data_quality_league AS
WITH marked AS (
  SELECT l.*, (event_type = 'PersonRecord' AND outcome = 'PSEUDONYMISED') AS person
  FROM public.ingest_ledger l),
share AS (
  SELECT source_system, count(*) AS received,
         count(*) FILTER (WHERE outcome = 'DEAD_LETTERED') AS rejected,
         count(*) FILTER (WHERE outcome = 'SUPPRESSED') AS consent_suppressed,
         sum(cardinality(field_issues)) AS field_issues,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
             coalesce(raw_timestamp, processed_at) - event_time) / 86400.0) AS median_delay_days,
         count(*) FILTER (WHERE person) AS person_records,
         avg(((fields_present & 1) <> 0)::int) FILTER (WHERE person) AS nhs_number_coverage,
         avg(((fields_present & 4) <> 0)::int) FILTER (WHERE person) AS given_names_complete,
         avg(((fields_present & 8) <> 0)::int) FILTER (WHERE person) AS family_name_complete,
         avg(((fields_present & 16) <> 0)::int) FILTER (WHERE person) AS date_of_birth_complete,
         avg(((fields_present & 32) <> 0)::int) FILTER (WHERE person) AS postcode_complete,
         avg(((fields_present & 64) <> 0)::int) FILTER (WHERE person) AS address_complete,
         avg(((fields_present & 128) <> 0)::int) FILTER (WHERE person) AS locality_complete
  FROM marked GROUP BY source_system),
k AS (SELECT analytics.threshold() AS k)
SELECT s.source_system,
       analytics.publish(s.received) AS received,
       CASE WHEN s.received < k.k THEN NULL ELSE round(s.median_delay_days::numeric, 1) END
         AS median_days_to_submit,
       analytics.publish(s.person_records) AS person_records,
       CASE WHEN s.person_records < k.k THEN NULL ELSE round(s.nhs_number_coverage, 3) END AS nhs_number_coverage,
       CASE WHEN s.person_records < k.k THEN NULL ELSE round(s.given_names_complete, 3) END AS given_names_complete,
       CASE WHEN s.person_records < k.k THEN NULL ELSE round(s.family_name_complete, 3) END AS family_name_complete,
       CASE WHEN s.person_records < k.k THEN NULL ELSE round(s.date_of_birth_complete, 3) END AS date_of_birth_complete,
       CASE WHEN s.person_records < k.k THEN NULL ELSE round(s.postcode_complete, 3) END AS postcode_complete,
       CASE WHEN s.person_records < k.k THEN NULL ELSE round(s.address_complete, 3) END AS address_complete,
       analytics.publish(s.rejected) AS rejected,
       analytics.publish(s.field_issues) AS field_issues,
       analytics.publish(s.consent_suppressed) AS consent_suppressed,
       CASE WHEN s.person_records < k.k THEN NULL ELSE dq.share_linked_to_other_sources END
         AS share_linked_to_other_sources,
       CASE WHEN s.person_records < k.k THEN NULL ELSE round(s.locality_complete, 3) END
         AS locality_complete
FROM share s CROSS JOIN k
LEFT JOIN analytics.data_quality dq USING (source_system);
