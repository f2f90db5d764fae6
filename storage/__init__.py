"""Persistence: SQLModel tables, the queries the rest of nhacviec needs, and Alembic migrations.

Nothing is connected at import time; ``storage.engine.make_engine`` builds an engine from a URL.
"""
