"""One writing transaction at a time among the connections of one SQLite engine, in turn.

SQLite lets one transaction write at a time; a second writer gets "busy" and SQLite's busy handler
puts it to sleep, in growing steps up to 100 ms, until the lock is free. With the bot's updates
handled in worker threads that sleeping makes the slow tail: the lock is free again after a few
milliseconds, but the waiter may sleep on for a hundred, and with several waiters some lose the
race again and again (a 4-thread benchmark had a p99 of 0.4–0.8 s and a maximum of 2–3 s).

Here the connections of one engine wait for each other on a lock instead: a connection takes the
gate just before its first writing statement (pysqlite opens the transaction there) and gives it
back when the transaction ends (commit, rollback, close). A waiter wakes the moment the gate is
free. Transactions that only read never take it (with WAL, readers never wait for a writer).
Other processes (the CLI, a second service) are still ordered by SQLite's own lock and busy
handler. The wait is bounded like SQLite's own: after the busy timeout the statement goes ahead
without the gate and SQLite decides, so a thread that writes on two connections at once (which
SQLite could not serve anyway) fails as it did before rather than hanging.
"""

import sqlite3
import threading
from collections.abc import Iterable
from typing import Any

# The statements that make pysqlite open a transaction (and SQLite take its write lock).
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


def _writes(sql: str) -> bool:
    return sql.lstrip()[:7].upper().startswith(_WRITES)


def gated_connection(gate: threading.Lock, timeout_s: float) -> type[sqlite3.Connection]:
    """A ``sqlite3.Connection`` class (``sqlite3.connect(factory=...)``) whose writing
    transactions hold ``gate`` from their first write to their end."""

    class GatedCursor(sqlite3.Cursor):
        def execute(self, sql: str, parameters: Any = (), /) -> "GatedCursor":
            if _writes(sql):
                _enter(self.connection)
            try:
                super().execute(sql, parameters)
            finally:
                _settle(self.connection)
            return self

        def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> "GatedCursor":
            if _writes(sql):
                _enter(self.connection)
            try:
                super().executemany(sql, seq_of_parameters)
            finally:
                _settle(self.connection)
            return self

    class GatedConnection(sqlite3.Connection):
        holds_gate = False

        def cursor(self, factory: Any = GatedCursor) -> Any:
            return super().cursor(factory)

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self.leave_gate()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self.leave_gate()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self.leave_gate()

        def enter_gate(self) -> None:
            if not self.holds_gate:
                self.holds_gate = gate.acquire(timeout=timeout_s)

        def leave_gate(self) -> None:
            if self.holds_gate:
                self.holds_gate = False
                gate.release()

    def _enter(connection: sqlite3.Connection) -> None:
        if isinstance(connection, GatedConnection):
            connection.enter_gate()

    def _settle(connection: sqlite3.Connection) -> None:
        # No transaction left open (a statement in autocommit, DDL, a failed BEGIN): nothing
        # holds SQLite's write lock, so the gate is given back at once.
        if not isinstance(connection, GatedConnection):
            return
        if connection.holds_gate and not connection.in_transaction:
            connection.leave_gate()

    return GatedConnection
