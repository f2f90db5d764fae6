"""Building the SQLAlchemy engine for SQLite (one office, one file) or PostgreSQL (a server).

SQLite needs a few settings on every new connection to behave under a bot and a scheduler writing
at once: write-ahead logging so readers never block the writer, a busy timeout so a second writer
waits instead of failing, and foreign keys, which SQLite leaves off unless asked. The threads of
one process take turns to write through a lock (``storage.sqlite_gate``) rather than through
SQLite's sleeping busy handler.

Durability of a SQLite file in WAL mode (``sqlite_synchronous``, ``[database]`` in the config):
- ``"normal"`` (the default): a commit writes to the log without waiting for the disk; the log is
  synced at each checkpoint. SQLite's documented setting for WAL: the database cannot be
  corrupted, and nothing committed is lost when the program crashes or is killed; only the
  transactions committed since the last checkpoint may be lost on an operating-system crash or a
  power cut (the database is then as it was a moment earlier). A commit costs tens of
  microseconds instead of a disk flush (about 2 ms on an ordinary SSD), which is what lets the
  bot answer hundreds of messages a second;
- ``"full"``: every commit waits for the disk, so a committed transaction survives a power cut
  too. For a host without a battery-backed disk whose owners prefer that to speed.
A database that is not in WAL mode (``:memory:``) keeps SQLite's own default (FULL).
"""

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from storage.sqlite_gate import gated_connection

SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_SYNCHRONOUS = ("normal", "full")  # the choices of [database] sqlite_synchronous
DEFAULT_SQLITE_SYNCHRONOUS = "normal"

# Users paste URLs the way libpq and Heroku-style hosts print them; we only ship psycopg 3.
_POSTGRES_DRIVERS = {"postgresql", "postgres"}


def normalize_url(url: str) -> URL:
    """The URL SQLAlchemy should use: ``postgresql://`` and ``postgres://`` get psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in _POSTGRES_DRIVERS:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str, *, sqlite_synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS) -> Engine:
    """An engine for ``url``; for a SQLite file its folder is created and the pragmas set
    (``sqlite_synchronous``: "normal" or "full", see the module notes; PostgreSQL ignores it)."""
    if sqlite_synchronous not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"sqlite_synchronous must be one of {SQLITE_SYNCHRONOUS}")
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args: dict[str, Any] = {}
        if _is_file(parsed):  # a shared file: this engine's writers take turns (sqlite_gate)
            gate = gated_connection(threading.Lock(), SQLITE_BUSY_TIMEOUT_MS / 1000)
            connect_args["factory"] = gate
        _create_parent_folder(parsed)
        engine = create_engine(parsed, connect_args=connect_args)

        def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
            _set_sqlite_pragmas(dbapi_connection, sqlite_synchronous)

        event.listen(engine, "connect", set_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def _is_file(url: URL) -> bool:
    database = url.database
    return bool(database) and database != ":memory:" and not str(database).startswith("file:")


def _create_parent_folder(url: URL) -> None:
    if _is_file(url):
        Path(str(url.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _set_sqlite_pragmas(dbapi_connection: Any, synchronous: str) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        row = cursor.fetchone()
        if row is not None and str(row[0]).lower() == "wal":
            cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()
