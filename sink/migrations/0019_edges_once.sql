-- Each link is stored once, a < b. It was stored in both directions: twice the rows, and
-- twice the writes each time a link is made, re-weighed or undone (a quarter of the
-- resolver's database time). Lookups by either end use the primary key (a) and
-- match_edges_b_idx (b). A link stored one way only keeps that row, turned round.
INSERT INTO match_edges (a, b, weight, evidence, model_version)
    SELECT b, a, weight, evidence, model_version FROM match_edges WHERE a > b
    ON CONFLICT (a, b) DO NOTHING;
DELETE FROM match_edges WHERE a >= b;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'match_edges_once') THEN
        ALTER TABLE match_edges ADD CONSTRAINT match_edges_once CHECK (a < b);
    END IF;
END $$;
