-- A message the resolver set aside, replayed once the resolver is mended (``earlylink
-- quarantine replay``): when, and where the replay went (topic:partition:offset). A replayed
-- row no longer counts as quarantined in the reconciliation (sink/quality.py); a replay the
-- resolver sets aside again is a row of its own, at its new position.
ALTER TABLE resolve_quarantine ADD COLUMN IF NOT EXISTS replayed_at timestamptz;
ALTER TABLE resolve_quarantine ADD COLUMN IF NOT EXISTS replayed_to text;
