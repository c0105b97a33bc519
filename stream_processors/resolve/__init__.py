"""Stage 2: resolve pseudonymised records into persons. Pure: no Kafka, no database.

plan (``batch``: a batch sorted by kind; ``plan``: which versions apply, consent, ends, the
typed rows to write) -> block (``blocking``) -> compare (``comparisons``) -> score (``model``,
``score``: every link keeps its levels as evidence) -> cluster (``cluster``, under the
constraints of ``constraints.cannot_link``). Around them: ``train`` (u and m), ``cache`` (decoded
records), ``pairwise`` and ``diagnose`` (quality against a truth, misses by cause).
"""
