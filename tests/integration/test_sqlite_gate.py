"""The threads of one process take turns to write to a SQLite file (storage.sqlite_gate)."""

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, select

from storage.engine import make_engine
from storage.models import KeyValue
from storage.sqlite_gate import gated_connection

AT = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)


@pytest.fixture
def file_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    SQLModel.metadata.create_all(engine, tables=[KeyValue.__table__])  # type: ignore[list-item]
    yield engine
    engine.dispose()


def _holds_gate(session: Session) -> bool:
    raw = session.connection().connection.dbapi_connection
    return bool(getattr(raw, "holds_gate", None))


def test_a_write_holds_the_gate_until_commit_or_rollback_and_a_read_never_takes_it(
    file_engine: Engine,
) -> None:
    with Session(file_engine) as session:
        session.exec(select(KeyValue)).all()
        assert not _holds_gate(session)
        session.add(KeyValue(key="a", value="1", updated_at=AT))
        session.flush()
        assert _holds_gate(session)
        session.commit()
        assert not _holds_gate(session)
        session.add(KeyValue(key="b", value="2", updated_at=AT))
        session.flush()
        assert _holds_gate(session)
        session.rollback()
        assert not _holds_gate(session)
        assert session.exec(select(KeyValue.key)).all() == ["a"]


def test_threads_writing_at_once_all_commit(file_engine: Engine) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(25):
                with Session(file_engine) as session:
                    session.add(KeyValue(key=f"{n}-{i}", value="x", updated_at=AT))
                    session.flush()
                    session.exec(select(func.count()).select_from(KeyValue)).one()
                    session.commit()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(file_engine) as session:
        assert session.exec(select(func.count()).select_from(KeyValue)).one() == 100


def test_a_gate_held_too_long_lets_the_write_go_ahead_without_it(tmp_path: Path) -> None:
    gate = threading.Lock()
    connection = sqlite3.connect(tmp_path / "x.db", factory=gated_connection(gate, timeout_s=0.01))
    try:
        connection.cursor().execute("CREATE TABLE t (x INTEGER)")
        assert not gate.locked()  # DDL outside a transaction is committed at once: no lock kept
        connection.cursor().execute("INSERT INTO t VALUES (0)")
        assert gate.locked()  # a transaction is open until the commit
        connection.commit()
        assert not gate.locked()
        gate.acquire()  # someone else's write transaction that does not end
        connection.cursor().execute("INSERT INTO t VALUES (1)")
        connection.commit()  # went ahead after the timeout, and releases nothing it did not take
        assert gate.locked()
        gate.release()
        assert connection.cursor().execute("SELECT count(*) FROM t").fetchone() == (2,)
    finally:
        connection.close()


def test_an_in_memory_database_has_no_gate() -> None:
    engine = make_engine("sqlite://")
    try:
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert not hasattr(raw, "holds_gate")
    finally:
        engine.dispose()
