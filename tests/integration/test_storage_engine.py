"""The engine settings and the aware-datetime column type, on both databases."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, col, select

from storage.engine import make_engine, normalize_url
from storage.models import KeyValue, Task

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://postgres@db:5432/nv", "postgresql+psycopg://postgres@db:5432/nv"),
        ("postgres://u:p%40ss@db/nv", "postgresql+psycopg://u:p%40ss@db/nv"),
        ("postgresql+psycopg://u@db/nv", "postgresql+psycopg://u@db/nv"),
        ("sqlite:///data/nv.db", "sqlite:///data/nv.db"),
    ],
)
def test_urls_get_the_psycopg_driver(given: str, expected: str) -> None:
    assert normalize_url(given).render_as_string(hide_password=False) == expected


def test_sqlite_engine_creates_the_folder_and_sets_pragmas_on_every_connection(
    tmp_path: Path,
) -> None:
    path = tmp_path / "deep" / "er" / "nhacviec.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        assert path.parent.is_dir()
        first, second = engine.connect(), engine.connect()  # two pooled connections
        for connection in (first, second):
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
            # synchronous 1 is NORMAL: with WAL, commits do not wait for the disk one by one.
            assert pragmas == {
                "journal_mode": "wal",
                "synchronous": 1,
                "busy_timeout": 5000,
                "foreign_keys": 1,
            }
        first.close()
        second.close()
    finally:
        engine.dispose()


def test_sqlite_synchronous_full_is_kept_when_asked(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'full.db'}", sqlite_synchronous="full")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


def test_an_in_memory_database_keeps_sqlites_default_synchronous() -> None:
    # No write-ahead log in memory: NORMAL is only SQLite's safe setting with one.
    engine = make_engine("sqlite://")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "memory"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        engine.dispose()


def test_an_unknown_synchronous_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sqlite_synchronous"):
        make_engine(f"sqlite:///{tmp_path / 'x.db'}", sqlite_synchronous="off")


@pytest.mark.postgres
def test_a_plain_postgresql_url_connects_through_psycopg(postgres_url: str) -> None:
    plain = normalize_url(postgres_url).set(drivername="postgresql")
    engine = make_engine(plain.render_as_string(hide_password=False))
    try:
        assert engine.dialect.driver == "psycopg"
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 1, 8, 8, 0, tzinfo=HANOI),
        datetime(2024, 1, 8, 1, 0, tzinfo=UTC),
        datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_aware_datetimes_come_back_as_the_same_instant_in_utc(
    session: Session, moment: datetime
) -> None:
    session.add(KeyValue(key="k", value="v", updated_at=moment))
    session.commit()
    session.expunge_all()

    stored = session.exec(select(KeyValue)).one()
    assert stored.updated_at == moment
    assert stored.updated_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(KeyValue(key="k", value="v", updated_at=datetime(2024, 1, 8, 8, 0)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_comparisons_in_sql_respect_time_zones(session: Session) -> None:
    # 08:00 in Hà Nội is 01:00 UTC: it must sort before 02:00 UTC, not after it.
    session.add(KeyValue(key="morning", value="", updated_at=datetime(2024, 1, 8, 8, tzinfo=HANOI)))
    session.add(KeyValue(key="later", value="", updated_at=datetime(2024, 1, 8, 2, tzinfo=UTC)))
    session.commit()

    cutoff = datetime(2024, 1, 8, 8, 30, tzinfo=HANOI)
    before = session.exec(select(KeyValue.key).where(col(KeyValue.updated_at) <= cutoff)).all()
    ordered = session.exec(select(KeyValue.key).order_by(col(KeyValue.updated_at))).all()
    assert before == ["morning"]
    assert ordered == ["morning", "later"]


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(Task(plan_id=999, number="1", title="orphan"))
    with pytest.raises(IntegrityError):
        session.flush()
