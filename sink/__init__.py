"""PostgreSQL: migrations, the transactional writers, the graph's reads and writes, analytics
views and queries, typed rows (``rows``).

psycopg lives here and nowhere else in the data flow: callers outside catch
``connection.ConnectionLost`` rather than psycopg's class. Outside sink/ only the local stack's
server administration (``earlylink/stack/postgres.py``: roles, databases) and ``core.settings``'
connection-string building (``psycopg.conninfo``) use psycopg; benchmarks set up their
databases with it.
"""
