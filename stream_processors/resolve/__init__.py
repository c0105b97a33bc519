"""Stage 2: resolve pseudonymised records into persons. Pure: no Kafka, no database.

plan (``batch``: a batch sorted by kind; ``plan``: which versions apply, consent, ends, the
typed rows to write) -> block (``blocking``) -> compare (``comparisons``) -> score (``model``,
``score``) -> cluster (``cluster``), with ``explain`` evidence on every link.
"""
