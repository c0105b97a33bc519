"""Stage 2: resolve pseudonymised records into persons. Pure: no Kafka, no database.

block (``blocking``) -> compare (``comparisons``) -> score (``model``, ``score``) ->
cluster (``cluster``), with ``explain`` evidence on every link.
"""
