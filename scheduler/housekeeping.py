"""The nightly housekeeping job: bounded tables, and the new day's status lines made ready.

Run once a day just after midnight (``scheduler.jobs``):
- strangers' texts (chats bound to no contact, kept for audit only) older than
  ``stranger_days`` are forgotten, and a chat that flooded the bot keeps only its newest
  ``stranger_per_chat``;
- the ``status_change`` log keeps its newest ``status_log_rows`` rows (caches that had not read
  that far rebuild their day);
- the status caches of this process are brought to the new day, so that the first /tinhhinh of
  the morning does not wait seconds for the whole country's lines.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from domain.agencies import Directory
from domain.calendar import local_date
from storage.inbound import prune_stranger_messages
from storage.status_cache import prune_log, registered


@dataclass(frozen=True, slots=True)
class HousekeepingSettings:
    stranger_days: int = 90
    stranger_per_chat: int = 50
    status_log_rows: int = 100_000


@dataclass(frozen=True, slots=True)
class HousekeepingReport:
    strangers_pruned: int
    status_log_pruned: int
    caches_warmed: int


def housekeep(
    engine: Engine,
    *,
    directory: Directory,
    now: datetime,
    settings: HousekeepingSettings | None = None,
) -> HousekeepingReport:
    """One night's housekeeping (commits its deletions, then warms the caches)."""
    settings = settings or HousekeepingSettings()
    with Session(engine) as session:
        strangers = prune_stranger_messages(
            session,
            before=now - timedelta(days=settings.stranger_days),
            keep_per_chat=settings.stranger_per_chat,
        )
        log_rows = prune_log(session, keep=settings.status_log_rows)
        session.commit()
    caches = registered(engine)
    for cache in caches:
        cache.warm(directory, local_date(now))
    return HousekeepingReport(strangers, log_rows, len(caches))
