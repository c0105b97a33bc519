-- Identity changes are published from the graph's own history, as an outbox: the resolver
-- writes each merge, split and retirement in the batch's transaction, with the person it is
-- about (``subject``, the Kafka key) and that person's next sequence number, and publishes
-- the rows not yet published after the commit (and at start): at least once, in order per
-- person, so consumers can drop repeats and see gaps. Before this, changes were sent after
-- the commit, and a crash in between lost them.
ALTER TABLE identity_history ADD COLUMN IF NOT EXISTS subject text;
ALTER TABLE identity_history ADD COLUMN IF NOT EXISTS sequence bigint;
ALTER TABLE identity_history ADD COLUMN IF NOT EXISTS published_at timestamptz;

-- rows from before: the subject and sequence they would have had; taken as published (they
-- were sent, or lost, at the time)
UPDATE identity_history h SET subject = s.subject, sequence = s.sequence,
       published_at = coalesce(h.published_at, h.at)
FROM (SELECT id, coalesce(after_ids[1], before_ids[1]) AS subject,
             row_number() OVER (PARTITION BY coalesce(after_ids[1], before_ids[1]) ORDER BY id)
               AS sequence
      FROM identity_history WHERE subject IS NULL) s
WHERE h.id = s.id;

CREATE UNIQUE INDEX IF NOT EXISTS identity_history_subject_idx
    ON identity_history (subject, sequence);
CREATE INDEX IF NOT EXISTS identity_history_unpublished_idx
    ON identity_history (id) WHERE published_at IS NULL;
