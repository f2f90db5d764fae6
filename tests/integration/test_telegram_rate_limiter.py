"""The send window in python-telegram-bot's request path, over real HTTP to the local Bot API."""

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from bot.telegram import TelegramChannel, build_bot
from bot.telegram.pacing import WindowRateLimiter
from domain.delivery import Outcome, OutgoingMessage
from tests.fakes.telegram_server import FakeBotApi

USER = 4242


@dataclass
class FakeTime:
    """A monotonic clock that only moves when someone sleeps."""

    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


async def test_the_bot_is_built_with_the_send_window(api: FakeBotApi) -> None:
    async with build_bot(api.token, api.base_url) as bot:
        assert isinstance(bot.rate_limiter, WindowRateLimiter)
        assert bot.rate_limiter.overall.limit == 30


async def test_the_window_holds_back_the_send_after_the_limit(api: FakeBotApi) -> None:
    time = FakeTime()
    limiter = WindowRateLimiter(2, 0.0, clock=time.clock, sleep=time.sleep)
    async with build_bot(api.token, api.base_url, rate_limiter=limiter) as bot:
        channel = TelegramChannel(bot, clock=time.clock, sleep=time.sleep)
        results = [await channel.send(OutgoingMessage(str(USER + n), f"Tin {n}")) for n in range(3)]
        # A button press answered meanwhile has no chat: it does not wait for the window.
        await bot.answer_callback_query("query-1")

    assert [r.outcome for r in results] == [Outcome.SENT] * 3
    assert [m["text"] for m in api.sent] == ["Tin 0", "Tin 1", "Tin 2"]
    # The third waited one second from the first answer (this clock does not move over HTTP).
    assert time.sleeps == [pytest.approx(1.0)]
    assert len(api.callback_answers) == 1


async def test_a_429_is_not_retried_by_the_limiter(api: FakeBotApi) -> None:
    time = FakeTime()
    limiter = WindowRateLimiter(30, 0.0, clock=time.clock, sleep=time.sleep)
    api.rate_limit_next("sendMessage", retry_after=3)
    async with build_bot(api.token, api.base_url, rate_limiter=limiter) as bot:
        result = await TelegramChannel(bot).send(OutgoingMessage(str(USER), "Nhắc việc"))

    assert result.outcome is Outcome.RATE_LIMITED
    assert result.retry_after == 3
    assert api.sent == []
    assert time.sleeps == []
