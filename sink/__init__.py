"""PostgreSQL: migrations, the transactional writer, analytics views and queries.

psycopg lives here and nowhere else in the data flow.
"""
