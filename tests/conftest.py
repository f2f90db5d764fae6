"""Database fixtures: each test asking for ``engine`` or ``session`` runs on SQLite and PostgreSQL.

Each backend is migrated once per test session (SQLite: a file under pytest's tmp dir; PostgreSQL:
a schema of its own, so parallel runs and other developers never meet) and emptied before every
test. PostgreSQL is found through NHACVIEC_TEST_POSTGRES_URL (default: the local ``test``
database); when it is unreachable the PostgreSQL cases are skipped locally and fail in CI
(CI=true), where a silently skipped half of the suite would hide bugs.
"""

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.engine import make_engine, normalize_url
from storage.migrate import upgrade

POSTGRES_URL_ENV = "NHACVIEC_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA_PREFIX = "nhacviec_test_"
STALE_SCHEMA_SECONDS = 24 * 3600  # schemas left behind by killed runs are dropped after a day

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@dataclass(frozen=True)
class Database:
    backend: str  # "sqlite" or "postgresql"
    url: str
    engine: Engine


def postgres_base_url() -> str:
    return os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL


def _require_postgres() -> Engine:
    """An engine on the PostgreSQL test database, or skip (locally) / fail (CI) saying why."""
    url = normalize_url(postgres_base_url())
    admin = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with admin.connect():
            pass
    except OperationalError as exc:
        admin.dispose()
        reason = (
            f"PostgreSQL unreachable at {url.render_as_string(hide_password=True)}: "
            f"{str(exc.orig).strip()}. Start it or set {POSTGRES_URL_ENV}."
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return admin


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose connections work in a new, empty schema, dropped afterwards."""
    admin = _require_postgres()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    schema = f"{SCHEMA_PREFIX}{int(time.time())}_{worker}_{uuid4().hex[:8]}"
    try:
        with admin.begin() as connection:
            _drop_stale_schemas(connection)
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = normalize_url(postgres_base_url()).update_query_dict(
            {"options": f"-csearch_path={schema}"}
        )
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def _drop_stale_schemas(connection: Connection) -> None:
    names = connection.execute(
        text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :prefix"),
        {"prefix": SCHEMA_PREFIX + "%"},
    ).scalars()
    for name in list(names):
        created = re.match(rf"{SCHEMA_PREFIX}(\d+)_", name)
        if created and time.time() - int(created.group(1)) > STALE_SCHEMA_SECONDS:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(scope="session", params=BACKENDS)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One migrated database per backend for the whole test session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'nhacviec.db'}"
        yield from _migrated("sqlite", url)
        return
    with postgres_schema() as url:
        yield from _migrated("postgresql", url)


def _migrated(backend: str, url: str) -> Iterator[Database]:
    engine = make_engine(url)
    try:
        upgrade(url, engine=engine)
        yield Database(backend, url, engine)
    finally:
        engine.dispose()


@pytest.fixture
def engine(database: Database) -> Engine:
    """The session's database for ``backend``, emptied (ids restarting at 1) for this test."""
    # DELETE beats TRUNCATE on tables this small (no exclusive locks, no new files).
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with database.engine.begin() as connection:
        for table in tables:
            connection.exec_driver_sql(f'DELETE FROM "{table.name}"')
        if database.backend == "postgresql":
            for table in tables:
                if "id" in table.columns:
                    connection.execute(
                        text("SELECT setval(pg_get_serial_sequence(:t, 'id'), 1, false)"),
                        {"t": table.name},
                    )
    return database.engine


@pytest.fixture
def backend(database: Database) -> str:
    return database.backend


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as opened:
        yield opened


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL test database URL, once it is known to answer."""
    _require_postgres().dispose()
    return postgres_base_url()


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database, never migrated, for this test only."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh' / 'nhacviec.db'}"
        return
    with postgres_schema() as url:
        yield url
