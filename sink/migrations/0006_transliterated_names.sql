-- How many of a record's names were written in another script (Cyrillic, Arabic, Chinese ...)
-- and transliterated to Latin letters before normalising: a data-quality count per source.
ALTER TABLE ingest_ledger ADD COLUMN IF NOT EXISTS transliterated smallint NOT NULL DEFAULT 0;
