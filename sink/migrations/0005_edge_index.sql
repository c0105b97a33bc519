-- Edges touching a changed record are deleted by either end; without an index on b that
-- delete scanned the whole table every batch (cost grew with the store).
CREATE INDEX IF NOT EXISTS match_edges_b_idx ON match_edges (b);
