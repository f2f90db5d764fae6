"""The day's status lines of every plan, kept per process and brought up to date on each question.

A whole-country question (a coordinator's /tinhhinh, /quahan) needs every status line: about
170,000 at 100,000 assignments, three to four seconds to compute from the database. Between two
questions only a few tasks change, so a ``StatusCache`` keeps the lines of one day, task by task
(``storage.status_lines.lines_by_task``), and on each question asks the database what changed:

- Database triggers (migration 0002) write a ``status_change`` row in the same transaction as any
  write that can change a line: a progress report inserted, updated (a review decided) or deleted;
  an assignment, a task or a plan written (an import, a re-import, a task deactivated). Each row
  names a task, or a plan. No code path has to remember to call anything, and other processes and
  tools are covered alike.
- The cache reads the rows after the last one it read (one indexed query) and recomputes the
  lines of the tasks they name, and of every task of the plans they name. A new day, another
  directory (by content, not identity), a log row naming everything, too many tasks at once, or
  a log whose last-read row is gone (pruned) mean a full rebuild.
- Commit order: on SQLite one writer at a time commits in ``seq`` order. On PostgreSQL a
  transaction may commit after one that took a later ``seq``; each row carries its transaction id,
  and the cache also reads rows of every transaction that may still have been running at its last
  read (id at or above that snapshot's ``xmin``), skipping those it already applied.
- The SQLite triggers fold a change into the log's latest row when it names the same task (a bulk
  import writes assignments task by task), so on SQLite the cache also reapplies the last row it
  read, one task's lines, on every question.

Reads go through a connection of their own, never the caller's session: the cache only ever holds
committed data, whatever the caller's transaction does next. ``shared`` gives one cache per
engine, calendar and confirmation rule in a process, for the chat and the daily digest to share.
Thread-safe: one lock around each question (the chat and the scheduler run in threads).
"""

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import chain

from sqlalchemy import Connection, Engine, delete, func, or_, select, text
from sqlmodel import Session, col

from domain.agencies import Agency, Directory
from domain.calendar import WorkingCalendar
from domain.status import StatusLine
from storage.models import StatusChange
from storage.status_lines import TaskLines, lines_by_task

# More tasks than this changed since the last question: rebuilding costs about as much.
MAX_TASKS_PER_REFRESH = 2_000
# Caches kept per engine by ``shared`` (each calendar and confirmation rule has its own).
_PER_ENGINE = 4


@dataclass
class CacheStats:
    """What the cache did so far, for tests and benchmarks."""

    builds: int = 0  # full rebuilds
    refreshes: int = 0  # questions that recomputed some tasks
    hits: int = 0  # questions answered with nothing to recompute
    tasks_recomputed: int = 0
    last: str = ""  # "build", "refresh" or "hit"


@dataclass
class _Day:
    """The lines of one day, and how far the change log was read."""

    on: date
    directory: Directory
    agencies: dict[str, Agency]
    tasks: dict[int, TaskLines]
    seen: int  # seq of the last log row read
    horizon: int | None  # PostgreSQL: the xmin of the snapshot of the last read
    applied: dict[int, int] = field(default_factory=dict)  # PostgreSQL: seq -> txid, still young
    flat: list[StatusLine] | None = None
    same: "weakref.WeakSet[Directory]" = field(default_factory=weakref.WeakSet)

    def lines(self) -> list[StatusLine]:
        if self.flat is None:
            ordered = sorted(self.tasks.values(), key=lambda task: task.order)
            self.flat = list(chain.from_iterable(task.lines for task in ordered))
        return self.flat


class StatusCache:
    """Every active task's status lines on one day, as of the last question (module notes)."""

    def __init__(
        self, engine: Engine, calendar: WorkingCalendar, *, require_confirmation: bool = True
    ) -> None:
        self.engine = engine
        self.calendar = calendar
        self.require_confirmation = require_confirmation
        self.stats = CacheStats()
        self._day: _Day | None = None
        self._lock = threading.Lock()

    def lines(self, directory: Directory, on: date) -> list[StatusLine]:
        """Every active assignment's status lines as of ``on``, as ``status_lines`` gives them."""
        with self._lock, self.engine.connect() as connection:
            return list(self._fresh(connection, directory, on).lines())

    def warm(self, directory: Directory, on: date) -> None:
        """Bring the lines of ``on`` up to date now, so that the next question is quick."""
        with self._lock, self.engine.connect() as connection:
            self._fresh(connection, directory, on).lines()

    def forget(self) -> None:
        """Drop the cached lines (memory back; the next question rebuilds)."""
        with self._lock:
            self._day = None

    # --- keeping the day fresh ------------------------------------------------------------------

    def _fresh(self, connection: Connection, directory: Directory, on: date) -> _Day:
        day = self._day
        if day is None or day.on != on or not _same_directory(day, directory):
            day = self._build(connection, directory, on)
        else:
            day = self._catch_up(connection, day)
        self._day = day
        return day

    def _compute(
        self,
        connection: Connection,
        directory: Directory,
        on: date,
        task_ids: Sequence[int] | None = None,
        plan_ids: Sequence[int] | None = None,
    ) -> dict[int, TaskLines]:
        return lines_by_task(
            connection,
            directory=directory,
            calendar=self.calendar,
            on=on,
            require_confirmation=self.require_confirmation,
            task_ids=task_ids,
            plan_ids=plan_ids,
        )

    def _build(self, connection: Connection, directory: Directory, on: date) -> _Day:
        self._day = None  # the old day's lines can go before the new ones are made
        # The log position is read before the lines: what commits in between is read again.
        horizon = _horizon(connection)
        seen = connection.execute(select(func.max(col(StatusChange.seq)))).scalar() or 0
        applied: dict[int, int] = {}
        if horizon is not None:  # rows of young transactions already committed: in the lines
            young = select(col(StatusChange.seq), col(StatusChange.txid)).where(
                col(StatusChange.txid) >= horizon, col(StatusChange.seq) <= seen
            )
            applied = {seq: txid for seq, txid in connection.execute(young) if txid is not None}
        tasks = self._compute(connection, directory, on)
        self.stats.builds += 1
        self.stats.last = "build"
        return _Day(on, directory, dict(directory.agencies), tasks, seen, horizon, applied)

    def _catch_up(self, connection: Connection, day: _Day) -> _Day:
        horizon = _horizon(connection)
        since = col(StatusChange.seq) >= day.seen
        if day.horizon is not None:
            since = or_(since, col(StatusChange.txid) >= day.horizon)
        rows = connection.execute(
            select(
                col(StatusChange.seq),
                col(StatusChange.task_id),
                col(StatusChange.plan_id),
                col(StatusChange.txid),
            )
            .where(since)
            .order_by(col(StatusChange.seq))
        ).all()
        if day.seen and not any(seq == day.seen for seq, *_ in rows):
            return self._build(connection, day.directory, day.on)  # the log was pruned
        sqlite = connection.dialect.name == "sqlite"
        task_ids: set[int] = set()
        plan_ids: set[int] = set()
        for seq, task_id, plan_id, _ in rows:
            if seq == day.seen and not (sqlite and task_id is not None):
                continue  # read last time; on SQLite a task's row is read again (module notes)
            if seq < day.seen and seq in day.applied:
                continue  # a PostgreSQL transaction still young last time, already applied
            if task_id is None and plan_id is None:
                return self._build(connection, day.directory, day.on)
            if task_id is not None:
                task_ids.add(task_id)
            if plan_id is not None:
                plan_ids.add(plan_id)
        if len(task_ids) > MAX_TASKS_PER_REFRESH:
            return self._build(connection, day.directory, day.on)
        if task_ids or plan_ids:
            fresh = self._compute(
                connection, day.directory, day.on, sorted(task_ids), sorted(plan_ids)
            )
            gone = task_ids | {tid for tid, task in day.tasks.items() if task.plan_id in plan_ids}
            for task_id in gone:
                day.tasks.pop(task_id, None)
            day.tasks.update(fresh)
            day.flat = None
            self.stats.refreshes += 1
            self.stats.tasks_recomputed += len(gone | set(fresh))
            self.stats.last = "refresh"
        else:
            self.stats.hits += 1
            self.stats.last = "hit"
        if rows:
            day.seen = max(day.seen, rows[-1][0])
        if horizon is not None:
            day.applied = {
                seq: txid for seq, _, _, txid in rows if txid is not None and txid >= horizon
            }
        day.horizon = horizon
        return day


def _same_directory(day: _Day, directory: Directory) -> bool:
    """Whether ``directory`` gives the lines ``day`` was built with (same agencies)."""
    if directory is day.directory or directory in day.same:
        return True
    if dict(directory.agencies) != day.agencies:
        return False
    day.same.add(directory)
    return True


def _horizon(connection: Connection) -> int | None:
    """PostgreSQL: transactions with an id below this had ended when the snapshot was taken."""
    if connection.dialect.name != "postgresql":
        return None
    xmin = connection.execute(text("SELECT txid_snapshot_xmin(txid_current_snapshot())")).scalar()
    return int(xmin) if xmin is not None else None


# --- one cache per engine in a process --------------------------------------------------------

_shared: "weakref.WeakKeyDictionary[Engine, list[StatusCache]]" = weakref.WeakKeyDictionary()
_shared_lock = threading.Lock()


def shared(
    engine: Engine, calendar: WorkingCalendar, *, require_confirmation: bool = True
) -> StatusCache:
    """This process's cache for ``engine`` with that calendar (by identity) and rule (check
    ``shareable`` first)."""
    with _shared_lock:
        caches = _shared.setdefault(engine, [])
        for cache in caches:
            if cache.calendar is calendar and cache.require_confirmation == require_confirmation:
                return cache
        cache = StatusCache(engine, calendar, require_confirmation=require_confirmation)
        caches.append(cache)
        del caches[:-_PER_ENGINE]
        return cache


def shareable(engine: Engine) -> bool:
    """Whether a cache can read ``engine`` on a connection of its own: not an in-memory SQLite
    database, which each connection sees empty (or, pooled per thread, shares with the caller's
    transaction)."""
    if engine.dialect.name != "sqlite":
        return True
    database = engine.url.database or ""
    return database not in ("", ":memory:") and "mode=memory" not in str(engine.url)


def registered(engine: Engine) -> list[StatusCache]:
    """The caches ``shared`` made for ``engine`` in this process (none until someone asked)."""
    with _shared_lock:
        return list(_shared.get(engine, []))


def engine_of(session: Session) -> Engine:
    """The engine a session reads from (its bind may be a connection)."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def prune_log(session: Session, *, keep: int) -> int:
    """Delete all but the newest ``keep`` rows of the ``status_change`` log; how many went.

    The log only needs to reach back to the last read of each cache; a cache whose last row is
    gone notices it and rebuilds its day. Rows of transactions not committed yet are invisible
    here, so they survive, and readers still find them by their transaction id. No commit.
    """
    newest = session.execute(select(func.max(col(StatusChange.seq)))).scalar()
    if newest is None:
        return 0
    gone = session.exec(
        delete(StatusChange).where(col(StatusChange.seq) <= newest - keep),
        execution_options={"synchronize_session": False},
    )
    return int(gone.rowcount)
