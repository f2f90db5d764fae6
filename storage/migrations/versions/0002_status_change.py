"""Status change log: triggers note every write that may alter status lines.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

``storage.status_cache`` keeps the day's status lines per process and asks this log what changed
since it last looked. The rows are written by triggers, in the writing transaction, so no write
can be missed, whichever process or tool makes it: a progress report inserted, updated (a review
decided) or deleted names its assignment's task; an assignment or task written names its task; a
plan whose number or date changed, or that was deleted, names the plan. Directory tables are left
out: the lines follow the ``Directory`` the caller passes, which the cache compares itself.

Both databases run the triggers per row and keep the log short (see the notes at each): a bulk
import of 130,000 assignments adds about one row per task, not one per assignment. On PostgreSQL
each row carries its transaction id (see ``StatusChange``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("progress_report", "assignment", "task", "plan")
_EVENTS = ("insert", "update", "delete")

# Columns status lines read: an UPDATE of other columns changes no line.
_UPDATE_OF = {
    "progress_report": "assignment_id, occurrence, kind, percent, text, reason, reported_at, "
    "review, reviewed_at",
    "assignment": "task_id, agency_code, role, active",
    "task": "plan_id, number, title, position, active, precondition_met_on, deadline_kind, "
    "deadline_text, due, start, until, frequency, anchor_month, anchor_day, precondition, "
    "soft_kind",
    "plan": "number, issued_on",
}
_ROWS = {"insert": ("NEW",), "update": ("NEW", "OLD"), "delete": ("OLD",)}


def _event(table: str, event: str) -> str:
    return f"UPDATE OF {_UPDATE_OF[table]}" if event == "update" else event.upper()


def _triggers() -> list[tuple[str, str]]:
    """(table, event) pairs that get a trigger: a new plan has no task yet, its tasks name it."""
    return [(t, e) for t in _TABLES for e in _EVENTS if (t, e) != ("plan", "insert")]


# --- SQLite: per-row triggers ------------------------------------------------------------------
# A bulk import writes one assignment row after another, task by task. A row is not added when
# the log's latest row already names the same task: the reader (storage.status_cache) reads its
# last row again each time on SQLite, so a change folded into that row is never missed.

_SQLITE_LATEST = "(SELECT task_id FROM status_change ORDER BY seq DESC LIMIT 1)"


def _sqlite_tasks(table: str, event: str) -> str:
    """The task ids the changed row(s) name, as a SELECT of one column ``t``."""
    rows = _ROWS[event]
    if table == "progress_report":
        ids = ", ".join(f"{row}.assignment_id" for row in rows)
        return f"SELECT DISTINCT task_id AS t FROM assignment WHERE id IN ({ids})"
    column = "task_id" if table == "assignment" else "id"
    return " UNION ".join(f"SELECT {row}.{column} AS t" for row in rows)


def _sqlite_upgrade() -> None:
    for table, event in _triggers():
        when = ""
        if table == "plan":
            ids = " UNION ".join(f"SELECT {row}.id AS p" for row in _ROWS[event])
            body = f"INSERT INTO status_change (plan_id) SELECT p FROM ({ids})"
        else:
            body = (
                f"INSERT INTO status_change (task_id) SELECT t FROM ({_sqlite_tasks(table, event)})"
                f" WHERE t IS NOT NULL AND t IS NOT {_SQLITE_LATEST}"
            )
        if table == "assignment":  # most rows: skip the body at once
            when = (
                "WHEN "
                + " OR ".join(f"{row}.task_id IS NOT {_SQLITE_LATEST}" for row in _ROWS[event])
                + " "
            )
        op.execute(
            f"CREATE TRIGGER status_change_{table}_{event} AFTER {_event(table, event)} "
            f"ON {table} FOR EACH ROW {when}BEGIN {body}; END"
        )


# --- PostgreSQL: per-row triggers, one row per task and transaction ----------------------------
# ``status_change_note`` adds a row unless this transaction already named the task (nobody can
# have read that row: it is not committed). It remembers the last task named in a
# transaction-local setting, which the assignment triggers' WHEN clause compares before calling
# any function: a bulk import of 130,000 assignments calls it once per task.

_PG_LAST = "current_setting('nhacviec.status_task', true)"

_PG_NOTE = """
CREATE FUNCTION status_change_note(changed_task integer, changed_plan integer) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  tx bigint := txid_current();
BEGIN
  IF changed_task IS NOT NULL THEN
    PERFORM set_config('nhacviec.status_task', changed_task::text, true);
    IF NOT EXISTS (SELECT 1 FROM status_change WHERE txid = tx AND task_id = changed_task) THEN
      INSERT INTO status_change (task_id, txid) VALUES (changed_task, tx);
    END IF;
  ELSIF changed_plan IS NOT NULL THEN
    IF NOT EXISTS (
      SELECT 1 FROM status_change WHERE txid = tx AND task_id IS NULL AND plan_id = changed_plan
    ) THEN
      INSERT INTO status_change (plan_id, txid) VALUES (changed_plan, tx);
    END IF;
  END IF;
END $$
"""

# Per table: the (task, plan) a row names, over a row alias.
_PG_NAMED = {
    "progress_report": "(SELECT task_id FROM assignment WHERE id = {row}.assignment_id), NULL",
    "assignment": "{row}.task_id, NULL",
    "task": "{row}.id, NULL",
    "plan": "NULL, {row}.id",
}


def _pg_upgrade() -> None:
    op.execute(_PG_NOTE)
    for table in _TABLES:
        new = _PG_NAMED[table].format(row="NEW")
        old = _PG_NAMED[table].format(row="OLD")
        op.execute(
            f"CREATE FUNCTION status_change_{table}() RETURNS trigger LANGUAGE plpgsql\n"
            f"SET search_path FROM CURRENT AS $$\n"
            f"BEGIN\n"
            f"  IF TG_OP <> 'DELETE' THEN PERFORM status_change_note({new}); END IF;\n"
            f"  IF TG_OP <> 'INSERT' THEN PERFORM status_change_note({old}); END IF;\n"
            f"  RETURN NULL;\n"
            f"END $$"
        )
    for table, event in _triggers():
        when = ""
        if table == "assignment":
            rows = _ROWS[event]
            when = (
                "WHEN ("
                + " OR ".join(f"{row}.task_id::text IS DISTINCT FROM {_PG_LAST}" for row in rows)
                + ") "
            )
        op.execute(
            f"CREATE TRIGGER status_change_{table}_{event} AFTER {_event(table, event)} "
            f"ON {table} FOR EACH ROW {when}EXECUTE FUNCTION status_change_{table}()"
        )


def upgrade() -> None:
    op.create_table(
        "status_change",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_status_change")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_status_change_txid_task_id"), "status_change", ["txid", "task_id"], unique=False
    )
    # A first row naming everything: a database that has data is never read from an empty log.
    op.execute("INSERT INTO status_change (task_id, plan_id) VALUES (NULL, NULL)")
    if op.get_bind().dialect.name == "postgresql":
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in _TABLES:
        for event in _EVENTS:
            name = f"status_change_{table}_{event}"
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if postgresql else
                       f"DROP TRIGGER IF EXISTS {name}")  # fmt: skip
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS status_change_{table}()")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS status_change_note(integer, integer)")
    op.drop_index(op.f("ix_status_change_txid_task_id"), table_name="status_change")
    op.drop_table("status_change")
