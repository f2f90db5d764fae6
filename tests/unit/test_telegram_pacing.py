"""SendWindow and WindowRateLimiter on a virtual clock: no real sleeps, no timing assertions."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.telegram.pacing import GROUP_PER_MINUTE, SendWindow, WindowRateLimiter


@dataclass
class VirtualTime:
    """A clock that moves only to the next sleeper's wake-up, once every task is blocked."""

    now: float = 1_000.0
    _sleepers: list[tuple[float, int, asyncio.Future[None]]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), future))
        await future

    async def run(self, *coroutines: Awaitable[Any]) -> list[Any]:
        """Run the coroutines together, moving the clock whenever all of them wait for it."""
        tasks = [asyncio.ensure_future(c) for c in coroutines]
        while not all(t.done() for t in tasks):
            for _ in range(50):  # let every task run until it blocks
                await asyncio.sleep(0)
            if self._sleepers:
                wake, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake)
                future.set_result(None)
            elif not all(t.done() for t in tasks):
                raise AssertionError("deadlock: every task waits and nobody sleeps")
        return [t.result() for t in tasks]


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime()


def window(vt: VirtualTime, limit: int, period: float = 1.0, min_gap: float = 0.0) -> SendWindow:
    return SendWindow(limit, period, min_gap, clock=vt.clock, sleep=vt.sleep)


async def test_up_to_the_limit_start_at_once(vt: VirtualTime) -> None:
    sends = window(vt, 3)
    starts: list[float] = []

    async def send() -> None:
        async with sends.slot():
            starts.append(vt.now)

    await vt.run(*(send() for _ in range(4)))

    assert starts == [1_000.0, 1_000.0, 1_000.0, 1_001.0]


async def _timed(sends: SendWindow, starts: list[float], vt: VirtualTime, takes: float) -> None:
    async with sends.slot():
        starts.append(vt.now)
        await vt.sleep(takes)


async def test_the_period_counts_from_the_answer_not_the_start(vt: VirtualTime) -> None:
    sends = window(vt, 1)
    starts: list[float] = []

    # The first is answered 0.4 s after it started: Telegram may have counted it that late.
    await vt.run(_timed(sends, starts, vt, 0.4), _timed(sends, starts, vt, 0.0))

    assert starts == [1_000.0, pytest.approx(1_001.4)]


async def test_the_oldest_answer_frees_the_first_place(vt: VirtualTime) -> None:
    sends = window(vt, 2)
    starts: list[float] = []

    # The slow one is still counted when the quick one's second is over: the third waits for
    # the quick one only.
    await vt.run(*(_timed(sends, starts, vt, takes) for takes in (0.4, 0.0, 0.0)))

    assert starts == [1_000.0, 1_000.0, pytest.approx(1_001.0)]


async def test_a_send_in_flight_keeps_its_place(vt: VirtualTime) -> None:
    sends = window(vt, 1)
    answered = asyncio.Event()
    starts: list[float] = []

    async def slow() -> None:
        async with sends.slot():
            starts.append(vt.now)
            await answered.wait()  # no answer yet: the window cannot know when it was counted

    async def answer_later() -> None:
        await vt.sleep(5.0)
        answered.set()

    await vt.run(slow(), _timed(sends, starts, vt, 0.0), answer_later())

    assert starts == [1_000.0, pytest.approx(1_006.0)]  # answered at 1,005, then a full period


async def test_starts_are_spaced_by_the_minimum_gap(vt: VirtualTime) -> None:
    sends = window(vt, 30, min_gap=0.025)
    starts: list[float] = []

    await vt.run(*(_timed(sends, starts, vt, 0.0) for _ in range(4)))

    assert [round(s - 1_000.0, 6) for s in starts] == [0.0, 0.025, 0.05, 0.075]


async def test_a_failed_send_still_counts(vt: VirtualTime) -> None:
    sends = window(vt, 1)

    with pytest.raises(RuntimeError):
        async with sends.slot():
            raise RuntimeError("429")
    starts: list[float] = []
    await vt.run(_timed(sends, starts, vt, 0.0))

    assert starts == [pytest.approx(1_001.0)]


@pytest.mark.parametrize("seed", range(5))
async def test_no_period_ever_holds_more_than_the_limit_wherever_they_were_counted(
    vt: VirtualTime, seed: int
) -> None:
    """Round trips of 1 to 300 ms, eight at once; Telegram dates each anywhere inside its own."""
    rng = random.Random(seed)
    sends = window(vt, 30, min_gap=0.025)
    in_flight = asyncio.Semaphore(8)
    counted: list[float] = []
    last_start = 0.0

    async def send() -> None:
        nonlocal last_start
        async with in_flight, sends.slot():
            start = last_start = vt.now
            takes = rng.choice([0.001, 0.003, 0.01, 0.3])
            await vt.sleep(takes)
            counted.append(start + rng.random() * takes)

    await vt.run(*(send() for _ in range(300)))

    counted.sort()
    most = max(sum(1 for t in counted if low <= t < low + 1.0) for low in counted)
    assert most <= 30
    # and the window is not needlessly slow: 300 sends, at most about 30 per 1.3 s
    assert last_start - 1_000.0 < 300 / 30 * 1.3


async def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        SendWindow(0)


# --- the PTB rate limiter ------------------------------------------------------------------------


def recorder(vt: VirtualTime, log: list[tuple[str, float]]) -> Callable[..., Awaitable[bool]]:
    async def callback(name: str) -> bool:
        log.append((name, vt.now))
        return True

    return callback


async def call(limiter: WindowRateLimiter, callback: Any, name: str, data: dict[str, Any]) -> Any:
    return await limiter.process_request(callback, (name,), {}, "sendMessage", data, None)


async def test_messages_to_chats_share_the_bots_window(vt: VirtualTime) -> None:
    limiter = WindowRateLimiter(2, 0.0, clock=vt.clock, sleep=vt.sleep)
    log: list[tuple[str, float]] = []
    send = recorder(vt, log)

    results = await vt.run(
        *(call(limiter, send, f"m{n}", {"chat_id": 100 + n, "text": "x"}) for n in range(3))
    )

    assert results == [True, True, True]
    assert [t for _, t in log] == [1_000.0, 1_000.0, 1_001.0]


async def test_requests_without_a_chat_are_not_limited(vt: VirtualTime) -> None:
    limiter = WindowRateLimiter(1, 0.0, clock=vt.clock, sleep=vt.sleep)
    log: list[tuple[str, float]] = []
    send = recorder(vt, log)

    await vt.run(
        call(limiter, send, "message", {"chat_id": 7, "text": "x"}),
        *(call(limiter, send, f"answer{n}", {"callback_query_id": "q"}) for n in range(3)),
    )

    assert all(t == 1_000.0 for _, t in log)


async def test_a_group_gets_twenty_messages_a_minute(vt: VirtualTime) -> None:
    limiter = WindowRateLimiter(30, 0.0, clock=vt.clock, sleep=vt.sleep)
    log: list[tuple[str, float]] = []
    send = recorder(vt, log)

    await vt.run(
        *(call(limiter, send, "group", {"chat_id": "-100200", "text": "x"}) for _ in range(21)),
        call(limiter, send, "private", {"chat_id": 5, "text": "x"}),
    )

    group_times = [t for name, t in log if name == "group"]
    assert len(group_times) == GROUP_PER_MINUTE + 1
    assert group_times[-1] == pytest.approx(1_060.0)  # the 21st waits a minute
    assert dict(log)["private"] == 1_000.0  # not queued behind the group
