"""The one place nhacviec reads the time, so that everything else can take ``now`` as a value.

Jobs ask a ``Clock`` for ``now`` and pass it down; the service gets ``SystemClock``; tests and
simulations drive a ``ManualClock`` forward instead of sleeping.
"""

from datetime import datetime, timedelta
from typing import Protocol

from domain.calendar import ZONE


class Clock(Protocol):
    def now(self) -> datetime: ...  # aware, in Asia/Ho_Chi_Minh


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(ZONE)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"naive datetime {start.isoformat()}: a time zone is required")
        self._now = start.astimezone(ZONE)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"naive datetime {moment.isoformat()}: a time zone is required")
        self._now = moment.astimezone(ZONE)

    def advance(self, by: timedelta) -> datetime:
        self._now += by
        return self._now
