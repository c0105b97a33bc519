-- Each link is stored once, a < b. It was stored in both directions: twice the rows, and
-- twice the writes each time a link is made, re-weighed or undone (a quarter of the
-- resolver's database time). Lookups by either end use the primary key (a) and
-- match_edges_b_idx (b). A link stored one way only keeps that row, turned round. "a < b" is
-- by code point (COLLATE "C"), as the resolver orders a pair's keys, whatever the database's
-- collation.
INSERT INTO match_edges (a, b, weight, evidence, model_version)
    SELECT b, a, weight, evidence, model_version FROM match_edges
    WHERE a COLLATE "C" > b COLLATE "C"
    ON CONFLICT (a, b) DO NOTHING;
DELETE FROM match_edges WHERE a COLLATE "C" >= b COLLATE "C";

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'match_edges_once') THEN
        ALTER TABLE match_edges ADD CONSTRAINT match_edges_once
            CHECK (a COLLATE "C" < b COLLATE "C");
    END IF;
END $$;
