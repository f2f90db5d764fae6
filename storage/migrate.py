"""Bringing a database to the current schema with Alembic, configured in code.

The product ships no alembic.ini: the scripts folder is found next to this file, and the database
URL comes from the caller. Developers write a new revision with
``python -m storage.migrate revision "add foo" [URL]``: it autogenerates against a database
migrated to head (a throw-away SQLite file by default); review the result before committing it.

On SQLite, foreign keys are switched off while migrating: batch mode copies and drops tables, which
would otherwise trip (or cascade through) the keys that point at them. They are checked afterwards.
"""

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect

if TYPE_CHECKING:
    from alembic.config import Config

from storage.engine import make_engine, normalize_url

SCRIPTS = Path(__file__).resolve().parent / "migrations"

# The newest revision in SCRIPTS, so that a database already there is recognised without
# importing Alembic (0.06-0.1 s of every command's start). A test checks it against the scripts:
# set it to the new revision's id when you add one.
HEAD = "0002"

_Step = Callable[["Config"], object]


class MigrationError(RuntimeError):
    """The migration left the database inconsistent (for example, dangling foreign keys)."""


def alembic_config(url: str) -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    # ConfigParser treats % as interpolation; URL-escaped passwords contain it.
    rendered = normalize_url(url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of nhacviec, as Alembic reads the scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise MigrationError(f"no migration scripts found in {SCRIPTS}")
    return head


def upgrade(url: str, revision: str = "head", *, engine: Engine | None = None) -> None:
    """Migrate the database at ``url`` (through ``engine`` when given) up to ``revision``.

    Every command calls this at start-up; a database already at the newest revision costs one
    read, without Alembic even imported, instead of Alembic's full run (about 0.2 s).
    """
    with _connection(url, engine) as connection:
        if revision == "head":
            at = _stamped(connection)
            connection.rollback()  # the read opened a transaction; Alembic wants none
            if at == HEAD:
                return
        from alembic import command

        _run(connection, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str, *, engine: Engine | None = None) -> None:
    """Migrate down to ``revision`` ("base" empties the database of our tables)."""
    from alembic import command

    with _connection(url, engine) as connection:
        _run(connection, lambda config: command.downgrade(config, revision))


def current(url: str, *, engine: Engine | None = None) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    from alembic.runtime.migration import MigrationContext

    with _connection(url, engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _stamped(connection: Connection) -> str | None:
    """The single revision in Alembic's ``alembic_version`` table, read with plain SQL; None
    for a database never migrated (or one with several heads, which only Alembic can sort)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
    return str(rows[0][0]) if len(rows) == 1 else None


@contextmanager
def _connection(url: str, engine: Engine | None) -> Iterator[Connection]:
    own = engine is None
    active = make_engine(url) if engine is None else engine
    try:
        with active.connect() as connection:
            yield connection
    finally:
        if own:
            active.dispose()


def _run(connection: Connection, step: _Step) -> None:
    config = alembic_config(connection.engine.url.render_as_string(hide_password=False))
    config.attributes["connection"] = connection
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Must happen outside a transaction, hence before Alembic begins one.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        step(config)
        connection.commit()
        if sqlite:
            dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if dangling:
                raise MigrationError(f"foreign keys broken by the migration: {dangling[:5]}")
    finally:
        if sqlite:
            connection.rollback()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def make_revision(message: str, url: str | None = None) -> None:
    """Autogenerate a revision from the difference between the models and a migrated database."""
    from alembic import command

    with tempfile.TemporaryDirectory() as folder:
        target = url or f"sqlite:///{Path(folder) / 'autogenerate.db'}"
        upgrade(target)
        engine = make_engine(target)
        try:
            with engine.connect() as connection:
                config = alembic_config(target)
                config.attributes["connection"] = connection
                command.revision(config, message=message, autogenerate=True)
        finally:
            engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m storage.migrate revision "message" [database URL]')
    make_revision(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
