"""Building the SQLAlchemy engine for SQLite (one office, one file) or PostgreSQL (a server).

SQLite needs a few settings on every new connection to behave under a bot and a scheduler writing
at once: write-ahead logging so readers never block the writer, a busy timeout so a second writer
waits instead of failing, and foreign keys, which SQLite leaves off unless asked.
"""

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

SQLITE_BUSY_TIMEOUT_MS = 5000

# Users paste URLs the way libpq and Heroku-style hosts print them; we only ship psycopg 3.
_POSTGRES_DRIVERS = {"postgresql", "postgres"}


def normalize_url(url: str) -> URL:
    """The URL SQLAlchemy should use: ``postgresql://`` and ``postgres://`` get psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in _POSTGRES_DRIVERS:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for a SQLite file its folder is created and the pragmas set."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        _create_parent_folder(parsed)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def _create_parent_folder(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()
