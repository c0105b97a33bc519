"""Stream processors (faust-streaming): decode and validate, pseudonymise, then resolve.

Agents only decode, call pure functions and write; the linkage logic has no Kafka or database in it.
"""
