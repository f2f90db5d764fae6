"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from storage.engine import make_engine
from storage.migrate import HEAD, current, downgrade, head_revision, upgrade

TABLES = {
    "agency",
    "agency_group",
    "assignment",
    "chat_throttle",
    "contact",
    "delivery_attempt",
    "group_member",
    "inbound_event",
    "inbound_message",
    "invite",
    "key_value",
    "plan",
    "progress_report",
    "reminder",
    "sent_message",
    "status_change",
    "task",
}


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_the_head_known_without_alembic_is_the_newest_script() -> None:
    # storage.migrate.HEAD must name the revision you add (it spares every command Alembic)
    assert head_revision() == HEAD


def test_a_database_one_revision_behind_is_brought_to_head(fresh_url: str) -> None:
    upgrade(fresh_url, "0001")
    upgrade(fresh_url)
    assert current(fresh_url) == HEAD


def test_the_migrated_database_is_at_head(engine: Engine) -> None:
    assert current("", engine=engine) == head_revision()


def test_upgrade_from_nothing_down_to_base_and_up_again(fresh_url: str) -> None:
    assert current(fresh_url) is None

    upgrade(fresh_url)
    assert current(fresh_url) == head_revision()
    upgrade(fresh_url)  # nothing to do the second time
    assert _tables(fresh_url) == TABLES | {"alembic_version"}

    downgrade(fresh_url, "base")
    assert current(fresh_url) is None
    assert _tables(fresh_url) == {"alembic_version"}

    upgrade(fresh_url)
    assert current(fresh_url) == head_revision()


def test_the_schema_keeps_sqlite_foreign_keys_on_after_migrating(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        upgrade(fresh_url, engine=engine)
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            fks = inspect(connection).get_foreign_keys("reminder")
        assert {fk["referred_table"] for fk in fks} == {"assignment", "contact"}
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
