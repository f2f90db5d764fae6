"""Telegram's global limit, kept whatever the delay between our send and Telegram's count.

Telegram allows about 30 messages a second to different chats. PTB's ``AIORateLimiter`` paced
evenly (one message every 1/29 s) dates each message when it leaves the limiter, and the time
from there to Telegram varies (the event loop, a database thread holding the interpreter, the
connection pool, the network): a message held back 35 ms and the next one not makes 31 in one
second at Telegram, which answers 429 and pauses the bot.

``SendWindow`` dates each send twice instead: when it starts (before the request is written)
and when its answer is back. Whenever Telegram counts a message, it is between those two
moments. A send may start only when fewer than ``limit`` sends are in flight or ended less than
``period`` ago: then any ``limit + 1`` sends are spread over more than ``period`` wherever
Telegram dated them, so no delay, however long, can crowd them. A slow round trip only makes
the window wait longer (about ``limit / (period + round trip)`` a second); time lost while
nothing was ready to send is made up, as the window counts sends, not a schedule. ``min_gap``
spaces consecutive starts so that the window fills evenly rather than in one burst.

``WindowRateLimiter`` puts that window in front of every request python-telegram-bot makes to a
chat (those with a ``chat_id``, as PTB's own limiter does), as close to the HTTP write as PTB
allows, plus Telegram's 20 messages a minute in each group. It does not retry a 429: the
dispatcher pauses the channel for the time Telegram asks. Clock and sleep are injected.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from telegram.ext import BaseRateLimiter

PER_SECOND = 30  # Telegram: "no more than 30 messages per second" to different chats
GROUP_PER_MINUTE = 20  # Telegram: "no more than 20 messages per minute" in one group
MIN_GAP = 1 / 40  # seconds between two starts; see docs/benchmarks.md for the choice
GROUPS_KEPT = 512  # group windows remembered before the idle ones are forgotten

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Result = bool | dict[str, Any] | list[dict[str, Any]]


@dataclass(slots=True)
class _Send:
    start: float
    end: float | None = None  # None while the request is in flight


class SendWindow:
    """At most ``limit`` sends whose [start, answer] falls within any ``period`` seconds."""

    def __init__(
        self,
        limit: int = PER_SECOND,
        period: float = 1.0,
        min_gap: float = 0.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit < 1 or period <= 0 or min_gap < 0:
            raise ValueError("a send window needs limit >= 1, period > 0 and min_gap >= 0")
        self.limit = limit
        self.period = period
        self.min_gap = min_gap
        self._clock = clock
        self._sleep = sleep
        self._counted: list[_Send] = []  # in flight, or ended less than ``period`` ago
        self._last_start: float | None = None
        self._admission = asyncio.Lock()  # first come, first served
        self._ended = asyncio.Event()

    @property
    def idle(self) -> bool:
        """Nothing in flight or counted any more: the window may be dropped."""
        self._forget(self._clock())
        return not self._counted and not self._admission.locked()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for room, then hold a place in the window while the body sends."""
        async with self._admission:
            await self._wait_for_room()
            send = _Send(start=self._clock())
            self._counted.append(send)
            self._last_start = send.start
        try:
            yield
        finally:
            send.end = self._clock()
            self._ended.set()

    async def _wait_for_room(self) -> None:
        while True:
            now = self._clock()
            self._forget(now)
            wait = 0.0 if self._last_start is None else self._last_start + self.min_gap - now
            excess = len(self._counted) - self.limit + 1  # sends that must drop out first
            if excess > 0:
                ends = sorted(s.end for s in self._counted if s.end is not None)
                if len(ends) < excess:  # too many still in flight: wait for an answer
                    self._ended.clear()
                    await self._ended.wait()
                    continue
                wait = max(wait, ends[excess - 1] + self.period - now)
            if wait <= 0:
                return
            await self._sleep(wait)

    def _forget(self, now: float) -> None:
        horizon = now - self.period
        self._counted = [s for s in self._counted if s.end is None or s.end > horizon]


class WindowRateLimiter(BaseRateLimiter[None]):
    """PTB's rate limiter interface over ``SendWindow``s: the whole bot, and each group."""

    def __init__(
        self,
        per_second: int = PER_SECOND,
        min_gap: float = MIN_GAP,
        group_per_minute: int = GROUP_PER_MINUTE,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self.overall = SendWindow(per_second, 1.0, min_gap, clock=clock, sleep=sleep)
        self._group_per_minute = group_per_minute
        self._groups: dict[int | str, SendWindow] = {}

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Result:
        """Send through the group's window (if a group), then the bot's; no retry on a 429."""
        chat = data.get("chat_id")
        if chat is None:  # not to a chat (answerCallbackQuery, getMe...): not limited
            return await callback(*args, **kwargs)
        group = self._group(chat)
        if group is None:
            async with self.overall.slot():
                return await callback(*args, **kwargs)
        async with group.slot(), self.overall.slot():  # the group first: no bot slot held idle
            return await callback(*args, **kwargs)

    def _group(self, chat: object) -> SendWindow | None:
        """Negative ids and @usernames are groups and channels (Telegram's own convention)."""
        with contextlib.suppress(ValueError, TypeError):
            chat = int(chat)  # type: ignore[call-overload]
        if not isinstance(chat, str | int) or (isinstance(chat, int) and chat >= 0):
            return None
        if self._group_per_minute <= 0:
            return None
        if chat not in self._groups and len(self._groups) >= GROUPS_KEPT:
            self._groups = {key: w for key, w in self._groups.items() if not w.idle}
        window = self._groups.get(chat)
        if window is None:
            window = SendWindow(self._group_per_minute, 60.0, clock=self._clock, sleep=self._sleep)
            self._groups[chat] = window
        return window
