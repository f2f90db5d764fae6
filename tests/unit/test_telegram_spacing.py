"""PerChatSpacing: one send per chat at a time, a full interval after the previous one ended."""

import asyncio
import itertools
from dataclasses import dataclass, field

import pytest

from bot.telegram.spacing import PRUNE_ABOVE, PerChatSpacing


@dataclass
class FakeTime:
    """A monotonic clock that moves only when the spacing sleeps or a send "takes" time."""

    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


async def test_interval_counts_from_the_end_of_the_previous_send(fake: FakeTime) -> None:
    spacing = PerChatSpacing(1.0, clock=fake.clock, sleep=fake.sleep)

    async with spacing.turn("42"):
        fake.now += 0.4  # the global limiter held this send back, then Telegram answered
    async with spacing.turn("42"):
        second = fake.now

    assert second == pytest.approx(1_001.4)  # 1 s after the answer, not after the start
    assert fake.sleeps == [pytest.approx(1.0)]


async def test_concurrent_sends_to_one_chat_go_one_at_a_time_in_order(fake: FakeTime) -> None:
    spacing = PerChatSpacing(1.0, clock=fake.clock, sleep=fake.sleep)
    spans: list[tuple[int, float, float]] = []

    async def send(n: int) -> None:
        async with spacing.turn("42"):
            start = fake.now
            await asyncio.sleep(0)  # let the others try to get in meanwhile
            fake.now += 0.25
            spans.append((n, start, fake.now))

    await asyncio.gather(*(send(n) for n in range(3)))

    assert [n for n, _, _ in spans] == [0, 1, 2]
    for (_, _, end), (_, start, _) in itertools.pairwise(spans):
        assert start - end == pytest.approx(1.0)


async def test_other_chats_do_not_wait(fake: FakeTime) -> None:
    spacing = PerChatSpacing(1.0, clock=fake.clock, sleep=fake.sleep)

    for chat in ("1", "2", "3"):
        async with spacing.turn(chat):
            pass

    assert fake.sleeps == []


async def test_a_failed_send_still_spaces_the_next(fake: FakeTime) -> None:
    spacing = PerChatSpacing(1.0, clock=fake.clock, sleep=fake.sleep)

    with pytest.raises(RuntimeError):
        async with spacing.turn("42"):
            raise RuntimeError("429")
    async with spacing.turn("42"):
        pass

    assert fake.sleeps == [pytest.approx(1.0)]


async def test_idle_chats_are_forgotten(fake: FakeTime) -> None:
    spacing = PerChatSpacing(1.0, clock=fake.clock, sleep=fake.sleep)

    for chat in range(PRUNE_ABOVE):
        async with spacing.turn(str(chat)):
            pass
    fake.now += 2.0  # every chat's interval is over
    async with spacing.turn("one too many"):  # the memory is full: the idle ones go
        pass

    assert fake.sleeps == []
    assert list(spacing._finished) == ["one too many"]


async def test_zero_interval_never_waits(fake: FakeTime) -> None:
    spacing = PerChatSpacing(0.0, clock=fake.clock, sleep=fake.sleep)

    for _ in range(3):
        async with spacing.turn("42"):
            pass

    assert fake.sleeps == []
