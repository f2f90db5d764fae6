"""TelegramChannel over real HTTP: the real python-telegram-bot against a local Bot API server.

Also proves the fake server is good enough for the end-to-end tests: an Application initializes
against it, registers commands, and receives pushed messages and button presses by polling.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from telegram import BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram.error import Conflict
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot.splitting import split_text
from bot.telegram import TelegramChannel, build_bot
from domain.delivery import Button, Outcome, OutgoingMessage
from tests.fakes.telegram_server import FakeBotApi

USER = 4242  # a private chat: its id is the user's id
GROUP = -5551234
SUPERGROUP = -1009876543210
DONE = Button("Đã hoàn thành", "done:17")
LATER = Button("Chưa xong", "later:17")
VIEW = Button("Xem chi tiết", "view:17")


@dataclass
class FakeTime:
    """A monotonic clock that only moves when the channel sleeps (or a test advances it)."""

    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns when a time period is read as an int; opting in to timedelta avoids that.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[ExtBot[Any]]:
    async with build_bot(api.token, api.base_url) as ready:
        yield ready


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def channel(bot: ExtBot[Any], fake_time: FakeTime) -> TelegramChannel:
    return TelegramChannel(bot, clock=fake_time.clock, sleep=fake_time.sleep)


def lines_text(total: int) -> str:
    """``total`` characters of numbered task lines, 50 characters each with the newline."""
    lines = [
        f"{n:03d}. Báo cáo tiến độ nhiệm vụ cải cách hành chính".ljust(49, ".")[:49]
        for n in range(total // 50)
    ]
    return "\n".join(lines).ljust(total, "x")[:total]


async def test_plain_text_arrives_without_parse_mode(
    api: FakeBotApi, channel: TelegramChannel
) -> None:
    text = "Kính gửi đồng chí: <b>hạn</b> *báo cáo* là ngày 15/03/2024 [_]"

    result = await channel.send(OutgoingMessage(str(USER), text))

    assert result.outcome is Outcome.SENT
    assert len(api.sent) == 1
    sent = api.sent[0]
    assert (sent["chat_id"], sent["text"], sent["parse_mode"]) == (USER, text, None)
    assert sent["reply_markup"] is None
    assert result.message_id == str(sent["message_id"])
    assert result.new_chat_id is None
    assert (channel.name, channel.max_text) == ("telegram", 4096)


async def test_buttons_arrive_as_inline_keyboard(api: FakeBotApi, channel: TelegramChannel) -> None:
    message = OutgoingMessage(str(USER), "Nhiệm vụ 17 đến hạn.", ((DONE, LATER), (VIEW,)))

    result = await channel.send(message)

    assert result.outcome is Outcome.SENT
    assert api.sent[0]["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Đã hoàn thành", "callback_data": "done:17"},
                {"text": "Chưa xong", "callback_data": "later:17"},
            ],
            [{"text": "Xem chi tiết", "callback_data": "view:17"}],
        ]
    }


async def test_long_text_is_split_between_lines_with_buttons_on_the_last_part(
    api: FakeBotApi, channel: TelegramChannel
) -> None:
    text = lines_text(5000)

    result = await channel.send(OutgoingMessage(str(USER), text, ((DONE,),)))

    assert result.outcome is Outcome.SENT
    parts = api.sent
    assert len(parts) == 2
    assert all(len(part["text"]) <= 4096 for part in parts)
    assert "\n".join(part["text"] for part in parts) == text  # no line cut, none lost
    assert parts[0]["reply_markup"] is None
    assert parts[1]["reply_markup"] == {
        "inline_keyboard": [[{"text": "Đã hoàn thành", "callback_data": "done:17"}]]
    }
    assert result.message_id == str(parts[1]["message_id"])


@pytest.mark.parametrize(
    ("status", "description", "outcome"),
    [
        (403, "Forbidden: bot was blocked by the user", Outcome.UNREACHABLE),
        (403, "Forbidden: bot can't initiate conversation with a user", Outcome.UNREACHABLE),
        (403, "Forbidden: user is deactivated", Outcome.UNREACHABLE),
        (400, "Bad Request: chat not found", Outcome.UNREACHABLE),
        (400, "Bad Request: message text is empty", Outcome.PERMANENT),
        (400, "Bad Request: BUTTON_DATA_INVALID", Outcome.PERMANENT),
        (500, "Internal Server Error", Outcome.TRANSIENT),
        (502, "Bad Gateway", Outcome.TRANSIENT),
        (409, "Conflict: terminated by other getUpdates request", Outcome.TRANSIENT),
    ],
)
async def test_telegram_errors_become_outcomes(
    api: FakeBotApi,
    channel: TelegramChannel,
    status: int,
    description: str,
    outcome: Outcome,
) -> None:
    api.fail_next("sendMessage", chat_id=USER, status=status, description=description)

    result = await channel.send(OutgoingMessage(str(USER), "Nhắc hạn báo cáo."))

    assert result.outcome is outcome
    # PTB drops the "Bad Request: " prefix and capitalizes what remains.
    assert description.removeprefix("Bad Request: ").lower() in result.error.lower()
    assert result.message_id is None
    assert api.sent == []
    assert len(api.calls_to("sendMessage")) == 1  # never retried inside the channel


@pytest.mark.parametrize(
    "timedelta_mode",
    [
        pytest.param("true", id="timedelta"),
        pytest.param(
            "false",
            id="int",
            marks=pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
        ),
    ],
)
async def test_flood_limit_is_rate_limited_with_telegrams_pause(
    api: FakeBotApi,
    channel: TelegramChannel,
    monkeypatch: pytest.MonkeyPatch,
    timedelta_mode: str,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", timedelta_mode)
    api.rate_limit_next("sendMessage", retry_after=3)

    result = await channel.send(OutgoingMessage(str(USER), "Nhắc hạn báo cáo."))

    assert result.outcome is Outcome.RATE_LIMITED
    assert result.retry_after == 3.0
    assert api.sent == []


async def test_retry_after_a_failure_mid_split_sends_only_the_rest(
    api: FakeBotApi, channel: TelegramChannel
) -> None:
    text = lines_text(5000)
    message = OutgoingMessage(str(USER), text, ((DONE,),))
    api.rate_limit_next("sendMessage", retry_after=3, skip=1)

    first = await channel.send(message)
    second = await channel.send(message)

    assert (first.outcome, second.outcome) == (Outcome.RATE_LIMITED, Outcome.SENT)
    assert len(api.sent) == 2
    assert "\n".join(part["text"] for part in api.sent) == text
    assert api.sent[1]["reply_markup"] is not None
    third = await channel.send(message)  # delivered in full: a new send starts over
    assert third.outcome is Outcome.SENT
    assert len(api.sent) == 4


async def test_migrated_group_is_resent_to_the_supergroup(
    api: FakeBotApi, channel: TelegramChannel
) -> None:
    api.migrate_chat(GROUP, SUPERGROUP)

    result = await channel.send(OutgoingMessage(str(GROUP), "Họp giao ban sáng thứ Hai."))

    assert result.outcome is Outcome.SENT
    assert result.new_chat_id == str(SUPERGROUP)
    assert [m["chat_id"] for m in api.sent] == [SUPERGROUP]
    assert [p["chat_id"] for p in api.calls_to("sendMessage")] == [GROUP, SUPERGROUP]
    assert result.message_id == str(api.sent[0]["message_id"])


async def test_unreachable_server_is_transient(api: FakeBotApi, channel: TelegramChannel) -> None:
    api.stop()

    result = await channel.send(OutgoingMessage(str(USER), "Nhắc hạn báo cáo."))

    assert result.outcome is Outcome.TRANSIENT
    assert result.error


async def test_empty_text_is_permanent_without_calling_telegram(
    api: FakeBotApi, channel: TelegramChannel
) -> None:
    result = await channel.send(OutgoingMessage(str(USER), " \n\n "))

    assert result.outcome is Outcome.PERMANENT
    assert api.calls_to("sendMessage") == []


async def test_one_message_per_second_in_each_chat(
    api: FakeBotApi, channel: TelegramChannel, fake_time: FakeTime
) -> None:
    await channel.send(OutgoingMessage(str(USER), "Tin thứ nhất"))
    await channel.send(OutgoingMessage(str(USER + 1), "Người khác: không phải chờ"))
    assert fake_time.sleeps == []

    await channel.send(OutgoingMessage(str(USER), "Tin thứ hai"))
    assert fake_time.sleeps == [pytest.approx(1.0)]

    fake_time.now += 5
    await channel.send(OutgoingMessage(str(USER), "Tin thứ ba, sau 5 giây"))
    assert fake_time.sleeps == [pytest.approx(1.0)]
    assert len(api.sent) == 4


async def test_concurrent_sends_to_one_chat_queue_one_second_apart(
    api: FakeBotApi, bot: ExtBot[Any], fake_time: FakeTime
) -> None:
    channel = TelegramChannel(bot, clock=fake_time.clock, sleep=fake_time.sleep)
    messages = [OutgoingMessage(str(USER), f"Tin {n}") for n in range(3)]

    results = await asyncio.gather(*(channel.send(m) for m in messages))

    assert all(r.outcome is Outcome.SENT for r in results)
    # One at a time, in the order asked, each a full second after the previous one ended.
    assert fake_time.sleeps == [pytest.approx(1.0), pytest.approx(1.0)]
    assert api.texts_for(USER) == ["Tin 0", "Tin 1", "Tin 2"]


async def test_concurrent_sends_use_several_connections(api: FakeBotApi) -> None:
    chats = [USER + n for n in range(4)]
    api.hold("sendMessage", until_in_flight=len(chats))

    async with build_bot(api.token, api.base_url, rate_limiter=False) as bot:
        channel = TelegramChannel(bot)
        results = await asyncio.gather(
            *(channel.send(OutgoingMessage(str(chat), "Nhắc hạn báo cáo.")) for chat in chats)
        )

    # The server held each send until all four were in it at once: none waited for another.
    assert [r.outcome for r in results] == [Outcome.SENT] * len(chats)
    assert api.most_held == len(chats)
    assert len(api.connections_used("sendMessage")) == len(chats)


async def test_one_connection_would_serialise_the_sends(api: FakeBotApi) -> None:
    """The control for the test above: with a pool of one, the held send stays alone."""
    api.hold("sendMessage", until_in_flight=2, timeout=0.5)

    async with build_bot(api.token, api.base_url, rate_limiter=False, connections=1) as bot:
        channel = TelegramChannel(bot)
        results = await asyncio.gather(
            *(channel.send(OutgoingMessage(str(USER + n), "Nhắc hạn.")) for n in range(2))
        )

    assert Outcome.TRANSIENT in [r.outcome for r in results]
    assert api.most_held == 1
    assert len(api.connections_used("sendMessage")) == 1


@pytest.mark.parametrize(
    ("text", "limit", "parts"),
    [
        ("", 10, []),
        ("một dòng", 10, ["một dòng"]),
        ("aaaa\nbbbb\ncccc", 9, ["aaaa\nbbbb", "cccc"]),
        ("aaaa\n\n\n\nbbbb", 5, ["aaaa", "bbbb"]),
        ("hai từ dài quá", 7, ["hai từ", "dài quá"]),
        ("x" * 12, 5, ["xxxxx", "xxxxx", "xx"]),
    ],
)
def test_split_text(text: str, limit: int, parts: list[str]) -> None:
    assert split_text(text, limit) == parts
    assert all(1 <= len(part) <= limit for part in split_text(text, limit))


async def test_application_initializes_and_sets_commands_against_the_fake(
    api: FakeBotApi,
) -> None:
    app = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
    vi = [BotCommand("baocao", "Báo cáo tiến độ"), BotCommand("tinhhinh", "Tình hình thực hiện")]
    en = [BotCommand("baocao", "Report progress"), BotCommand("tinhhinh", "Status")]

    await app.initialize()  # getMe
    try:
        assert app.bot.username == "nhacviec_test_bot"
        await app.bot.set_my_commands(vi, language_code="vi")
        await app.bot.set_my_commands(
            en, scope=BotCommandScopeAllPrivateChats(), language_code="en"
        )
        read_back = await app.bot.get_my_commands(language_code="vi")
    finally:
        await app.shutdown()

    assert api.commands == {
        ("default", "vi"): [
            {"command": "baocao", "description": "Báo cáo tiến độ"},
            {"command": "tinhhinh", "description": "Tình hình thực hiện"},
        ],
        ("all_private_chats", "en"): [
            {"command": "baocao", "description": "Report progress"},
            {"command": "tinhhinh", "description": "Status"},
        ],
    }
    assert [c.command for c in read_back] == ["baocao", "tinhhinh"]
    assert api.calls_to("getMe")


async def test_get_updates_confirms_with_offset(api: FakeBotApi, bot: ExtBot[Any]) -> None:
    api.push_text(USER, USER, "một")
    api.push_text(USER, USER, "hai")

    first = await bot.get_updates(timeout=0)
    again = await bot.get_updates(timeout=0)
    after = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)

    assert [u.message.text for u in first if u.message] == ["một", "hai"]
    assert [u.update_id for u in again] == [u.update_id for u in first]  # not yet confirmed
    assert after == ()
    assert api.pending_updates == 0


async def test_get_updates_conflicts_with_a_webhook(api: FakeBotApi, bot: ExtBot[Any]) -> None:
    await bot.set_webhook("https://nhacviec.example.vn/telegram")

    with pytest.raises(Conflict):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


def test_wait_for_gives_up_with_timeout_error(api: FakeBotApi) -> None:
    with pytest.raises(TimeoutError):
        api.wait_for(lambda a: len(a.sent) > 0, timeout=0.05)


async def test_reset_forgets_everything(api: FakeBotApi, bot: ExtBot[Any]) -> None:
    api.push_text(USER, USER, "còn chờ")
    api.fail_next("sendMessage")
    api.migrate_chat(GROUP, SUPERGROUP)

    api.reset()
    await bot.send_message(GROUP, "Sau khi đặt lại")

    assert api.pending_updates == 0
    assert [(name, params["chat_id"]) for name, params in api.calls] == [("sendMessage", GROUP)]
    assert api.texts_for(GROUP) == ["Sau khi đặt lại"]


async def _polling(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, drop_pending_updates=True)


async def _stop(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def test_polling_application_receives_pushed_text(api: FakeBotApi) -> None:
    app = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
    received: list[tuple[int, str]] = []
    handled = asyncio.Event()

    async def on_text(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.message is not None
        received.append((update.effective_chat.id, update.message.text or ""))
        handled.set()
        await update.message.reply_text("Đã ghi nhận.")

    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    await _polling(app)
    try:
        api.push_text(USER, USER, "Đã hoàn thành 80%")
        await asyncio.wait_for(handled.wait(), timeout=10)
        await api.wait_for_async(lambda a: len(a.sent) == 1, timeout=10)
    finally:
        await _stop(app)

    assert received == [(USER, "Đã hoàn thành 80%")]
    assert [(m["chat_id"], m["text"]) for m in api.sent] == [(USER, "Đã ghi nhận.")]
    assert api.pending_updates == 0  # stopping confirmed the handled update


async def test_polling_application_receives_button_press(
    api: FakeBotApi, channel: TelegramChannel
) -> None:
    sent = await channel.send(OutgoingMessage(str(USER), "Nhiệm vụ 17 đến hạn.", ((DONE,),)))
    app = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
    pressed = asyncio.Event()

    async def on_press(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Đã ghi nhận hoàn thành.")
        await query.edit_message_reply_markup(None)
        pressed.set()

    app.add_handler(CallbackQueryHandler(on_press, pattern=r"^done:"))
    await _polling(app)
    try:
        assert sent.message_id is not None
        api.push_callback(USER, USER, "done:17", int(sent.message_id))
        await asyncio.wait_for(pressed.wait(), timeout=10)
    finally:
        await _stop(app)

    assert [a["text"] for a in api.callback_answers] == ["Đã ghi nhận hoàn thành."]
    assert api.edits == [
        {
            "chat_id": USER,
            "message_id": int(sent.message_id),
            "text": "Nhiệm vụ 17 đến hạn.",
            "reply_markup": None,
        }
    ]
