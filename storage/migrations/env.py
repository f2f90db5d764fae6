"""Alembic environment: the target is ``SQLModel.metadata`` as declared in storage/models.py.

storage/migrate.py configures Alembic in code and hands over an open connection in
``config.attributes["connection"]``; no alembic.ini is needed. SQLite cannot ALTER most things,
so migrations run in batch mode there (copy, alter, rename).
"""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.engine import make_engine
from storage.types import UTCDateTime

config = context.config
target_metadata = SQLModel.metadata


def _render_item(kind: str, obj: Any, autogen: AutogenContext) -> str | Literal[False]:
    """Write our column types as plain SQLAlchemy ones, so revisions do not import our modules."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if kind == "type" and isinstance(obj, AutoString):
        return "sa.String()" if obj.length is None else f"sa.String(length={obj.length})"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        **kwargs,
    )


def _run_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as own:
            _run_on(own)
            own.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
