"""End to end on Telegram: the real python-telegram-bot Application, over HTTP, against a local
Bot API server (``tests.fakes.telegram_server``), with the real dispatcher sending the digests.

The province is ``reminder_world``'s: Sở Tài chính (STC) leads task 1 and Sở Y tế (SYT) task 2 of
plan 289/KH-UBND, both due Friday 29/12/2023; Sở Nội vụ (SNV) coordinates. People join on
Thursday 21/12, the "7 days left" digest goes out on Friday 22/12 at 8:00, and they answer at
9:00. Nothing sleeps: the test waits on what the fake server records, or on the adapter's events.
"""

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from telegram import Update

from app.bootstrap import bootstrap
from app.config import Config, DatabaseConfig, ServerConfig, TelegramConfig
from app.runtime import run
from bot.core.buttons import decode_review
from bot.core.conversation import Conversation
from bot.core.onboarding import new_invite_code
from bot.telegram.adapter import TelegramAdapter
from bot.telegram.ordering import PerChatUpdateProcessor
from bot.webhooks import TELEGRAM_SECRET_HEADER, TelegramWebhook, build_web_app
from domain.callbacks import ReminderAction
from domain.callbacks import decode as decode_reminder
from domain.i18n import t
from scheduler.clock import ManualClock
from scheduler.dispatcher import Dispatcher, TickReport
from scheduler.planning import plan
from scheduler.service import ReminderService, ServiceSettings
from storage.invites import add_invite
from storage.models import Contact, ContactRole, ProgressReport, Reminder
from tests.fakes.telegram_server import FakeBotApi
from tests.integration.reminder_world import (
    DIRECTORY,
    POLICY,
    TaskSpec,
    at8,
    calendar,
    dispatcher,
    fixed,
    local,
    save_plan,
)

DUE = date(2023, 12, 29)
JOIN_AT = local(2023, 12, 21, 9)
PLANNED_AT = local(2023, 12, 22, 7)
DIGEST_AT = at8(date(2023, 12, 22))
ANSWER_AT = local(2023, 12, 22, 9)

STC, SYT, SNV, STRANGER = 1001, 1002, 1900, 5555  # private chats: chat id = user id
NAMES = {STC: "Nguyễn Văn An", SYT: "Trần Thị Bình", SNV: "Lê Văn Cường", STRANGER: "Khách"}
AGENCY = {STC: "STC", SYT: "SYT", SNV: "SNV"}
ROLE = {STC: ContactRole.FOCAL, SYT: ContactRole.FOCAL, SNV: ContactRole.COORDINATOR}
SECRET = "s3cret-token_for-the-webhook"


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns when a time period is read as an int; opting in to timedelta avoids that.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@dataclass
class World:
    engine: Engine
    api: FakeBotApi
    adapter: TelegramAdapter
    clock: ManualClock
    codes: dict[int, str] = field(default_factory=dict)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    async def say(self, chat: int, text: str, *, reply_to: int | None = None) -> str:
        """Send ``text`` from ``chat``; the bot's first answer in that chat."""
        before = len(self.api.texts_for(chat))
        self.api.push_text(chat, chat, text, reply_to_message_id=reply_to, first_name=NAMES[chat])
        await self.api.wait_for_async(lambda a: len(a.texts_for(chat)) > before)
        return self.api.texts_for(chat)[before]

    async def press(self, chat: int, data: str, message_id: int) -> str | None:
        """Press a button of the bot's message; the notice the press was answered with."""
        before = len(self.api.callback_answers)
        self.api.push_callback(chat, chat, data, message_id, first_name=NAMES[chat])
        await self.api.wait_for_async(lambda a: len(a.callback_answers) > before)
        answer: str | None = self.api.callback_answers[before]["text"]
        return answer

    async def join(self, *chats: int) -> None:
        for chat in chats:
            answer = await self.say(chat, f"/start {self.codes[chat]}")
            assert answer.startswith("Đăng ký thành công"), answer

    def plan_and_dispatcher(self) -> Dispatcher:
        with self.session() as session:
            plan(
                session,
                directory=DIRECTORY,
                calendar=calendar(),
                policy=POLICY,
                now=PLANNED_AT,
            )
            session.commit()
        return dispatcher(self.engine, {"telegram": self.adapter.channel})

    def contact(self, chat: int) -> Contact:
        with self.session() as session:
            return session.exec(select(Contact).where(Contact.chat_id == str(chat))).one()

    def reports(self) -> list[ProgressReport]:
        with self.session() as session:
            return list(session.exec(select(ProgressReport).order_by(col(ProgressReport.id))))


def _province(engine: Engine) -> dict[int, str]:
    """The plan, and one single-use invite code per person."""
    codes = {chat: new_invite_code() for chat in AGENCY}
    with Session(engine) as session:
        save_plan(session, [TaskSpec("1", fixed(DUE)), TaskSpec("2", fixed(DUE), lead=("SYT",))])
        for chat, code in codes.items():
            add_invite(
                session,
                code=code,
                agency_code=AGENCY[chat],
                role=ROLE[chat],
                created_at=JOIN_AT - timedelta(days=1),
                expires_at=JOIN_AT + timedelta(days=7),
            )
        session.commit()
    return codes


def _adapter(
    api: FakeBotApi, engine: Engine, clock: ManualClock, **options: Any
) -> TelegramAdapter:
    conversation = Conversation(
        lambda: Session(engine, expire_on_commit=False), DIRECTORY, calendar()
    )
    return TelegramAdapter(
        api.token,
        api.base_url,
        conversation,
        session_factory=lambda: Session(engine, expire_on_commit=False),
        clock=clock,
        min_interval=0.0,
        poll_timeout=1.0,
        **options,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(JOIN_AT)


@pytest.fixture
def api(clock: ManualClock) -> Iterator[FakeBotApi]:
    # Telegram dates each message: the fake dates them by the test's clock.
    with FakeBotApi(clock=lambda: clock.now().timestamp()) as fake:
        yield fake


@pytest.fixture
async def world(engine: Engine, api: FakeBotApi, clock: ManualClock) -> AsyncIterator[World]:
    codes = _province(engine)
    adapter = _adapter(api, engine, clock)
    await adapter.start()
    try:
        yield World(engine, api, adapter, clock, codes)
    finally:
        await adapter.stop()


def _keyboard(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [button["callback_data"] for row in markup.get("inline_keyboard", []) for button in row]


def _last_to(api: FakeBotApi, chat: int) -> dict[str, Any]:
    return [m for m in api.sent if m["chat_id"] == chat][-1]


async def _tick(
    world: World, dispatcher_: Dispatcher, at: datetime, *, expect_sent_to: int | None = None
) -> TickReport:
    report = await dispatcher_.tick(at)
    if expect_sent_to is not None:
        assert any(m["chat_id"] == expect_sent_to for m in world.api.sent)
    return report


# --- the whole cycle -------------------------------------------------------------------------


async def test_join_digest_done_percent_confirm_and_status(world: World) -> None:
    api = world.api
    await world.join(STC, SYT, SNV)
    contact = world.contact(STC)
    assert (contact.agency_code, contact.role, contact.display_name) == (
        "STC",
        "focal",
        NAMES[STC],
    )
    assert contact.user_id == str(STC)

    # The "7 days left" digest, sent by the real dispatcher through the bot.
    world.clock.set(DIGEST_AT)
    report = await _tick(world, world.plan_and_dispatcher(), DIGEST_AT, expect_sent_to=STC)
    assert (report.sent, report.unreachable) == (2, 0)
    digest = _last_to(api, STC)
    assert digest["text"].startswith("Kính gửi Sở Tài chính: nhắc việc ngày 22/12/2023")
    assert "Hạn: 29/12/2023 (còn 7 ngày)." in digest["text"]
    assert digest["parse_mode"] is None
    pressed = {decode_reminder(data).action: data for data in _keyboard(digest)}  # type: ignore[union-attr]
    assert set(pressed) == set(ReminderAction)

    # STC presses "done": the press is answered, the coordinator is asked to confirm.
    world.clock.set(ANSWER_AT)
    asked = len(api.texts_for(SNV))
    notice = await world.press(STC, pressed[ReminderAction.DONE], digest["message_id"])
    assert notice == t("chat.ack.recorded", "vi")
    await api.wait_for_async(lambda a: len(a.texts_for(SNV)) > asked)
    ask = _last_to(api, SNV)
    assert "Sở Tài chính" in ask["text"]
    choices = {decode_review(data).confirm: data for data in _keyboard(ask)}  # type: ignore[union-attr]
    assert set(choices) == {True, False}
    done = world.reports()[-1]
    assert (done.kind, done.review, done.reported_at) == ("done", "pending", ANSWER_AT)

    # SYT answers its digest in words.
    syt_digest = _last_to(api, SYT)
    answer = await world.say(SYT, "được 60%", reply_to=syt_digest["message_id"])
    assert "60%" in answer
    progress = world.reports()[-1]
    assert (progress.kind, progress.percent, progress.text) == ("percent", 60, "được 60%")
    with world.session() as session:
        syt = session.exec(select(Contact).where(Contact.agency_code == "SYT")).one()
    assert progress.contact_id == syt.id

    # The coordinator confirms: the question is rewritten, STC is told.
    told = len(api.texts_for(STC))
    edits = len(api.edits)
    await world.press(SNV, choices[True], ask["message_id"])
    await api.wait_for_async(lambda a: len(a.edits) > edits and len(a.texts_for(STC)) > told)
    edit = api.edits[-1]
    assert edit["message_id"] == ask["message_id"] and edit["reply_markup"] is None
    assert world.reports()[0].review == "confirmed"

    status = await world.say(SNV, "/tinhhinh")
    assert "289/KH-UBND" in status
    assert "- Hoàn thành đúng hạn: 1" in status
    assert "- Đang thực hiện trong hạn: 1" in status
    assert "- Quá hạn chưa hoàn thành: 0" in status


async def test_a_stranger_gets_only_the_way_to_join(world: World) -> None:
    for text in ("/tinhhinh", "xong", "/start sai-ma-moi"):
        answer = await world.say(STRANGER, text)
        assert "289" not in answer and "Sở" not in answer
    assert world.api.texts_for(STRANGER)[:2] == [t("chat.stranger", "vi")] * 2
    with world.session() as session:
        assert session.exec(select(Contact).where(Contact.chat_id == str(STRANGER))).all() == []


async def test_commands_are_registered_in_vietnamese_and_english(world: World) -> None:
    commands = world.api.commands
    assert set(commands) == {("default", ""), ("default", "vi"), ("default", "en")}
    vi = {c["command"]: c["description"] for c in commands[("default", "vi")]}
    en = {c["command"]: c["description"] for c in commands[("default", "en")]}
    assert vi["baocao"] == "Báo cáo tiến độ thực hiện một nhiệm vụ"
    assert {"viec", "baocao", "quahan", "tinhhinh"} <= set(vi)
    assert en["report"] == "Report progress on a task"
    assert {"tasks", "report", "overdue", "status"} <= set(en)
    assert commands[("default", "")] == commands[("default", "vi")]


async def test_a_failing_command_menu_is_not_fatal(
    engine: Engine, api: FakeBotApi, clock: ManualClock
) -> None:
    _province(engine)
    api.fail_next("setMyCommands", status=400, description="Bad Request: BOT_COMMAND_INVALID")
    adapter = _adapter(api, engine, clock)
    await adapter.start()
    try:
        api.push_text(STRANGER, STRANGER, "chào")
        await api.wait_for_async(lambda a: len(a.texts_for(STRANGER)) == 1)
    finally:
        await adapter.stop()
    assert api.texts_for(STRANGER) == [t("chat.stranger", "vi")]


# --- people who cannot be reached -------------------------------------------------------------


async def test_a_user_who_blocked_the_bot_is_unreachable_and_the_coordinator_told(
    world: World,
) -> None:
    api = world.api
    await world.join(STC, SNV)
    api.fail_next("sendMessage", chat_id=STC)  # 403: bot was blocked by the user
    world.clock.set(DIGEST_AT)
    dispatch = world.plan_and_dispatcher()

    first = await dispatch.tick(DIGEST_AT)

    assert (first.unreachable, first.notices) == (1, 1)
    contact = world.contact(STC)
    assert contact.unreachable and "blocked" in (contact.unreachable_reason or "")
    second = await dispatch.tick(DIGEST_AT)
    assert second.sent == 1
    notice = _last_to(api, SNV)["text"]
    assert notice.startswith("Thông báo: hệ thống không gửi được nhắc việc đến Nguyễn Văn An")
    assert "(Sở Tài chính) qua Telegram" in notice


def _membership(chat: int, old: str, new: str, at: datetime, bot: dict[str, Any]) -> dict[str, Any]:
    def member(status: str) -> dict[str, Any]:
        # A block is a "kicked" member forever (until_date 0), as Telegram reports it.
        return {"user": bot, "status": status, **({"until_date": 0} if status == "kicked" else {})}

    return {
        "update_id": 7_000_000 + chat,
        "my_chat_member": {
            "chat": {"id": chat, "type": "private", "first_name": NAMES[chat]},
            "from": {"id": chat, "is_bot": False, "first_name": NAMES[chat]},
            "date": int(at.timestamp()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        },
    }


async def test_blocking_the_bot_is_noticed_at_once_and_unblocking_undoes_it(
    world: World,
) -> None:
    api = world.api
    await world.join(STC, SNV)
    queued = asyncio.Event()
    world.adapter.on_queued = queued.set

    blocked = _membership(STC, "member", "kicked", ANSWER_AT, api.bot_user)
    await world.adapter.process_update_json(blocked)

    await asyncio.wait_for(queued.wait(), 5)
    contact = world.contact(STC)
    assert contact.unreachable and contact.unreachable_reason == "người dùng đã chặn bot"
    with world.session() as session:
        notice = session.exec(select(Reminder).where(col(Reminder.assignment_id).is_(None))).one()
    assert notice.contact_id == world.contact(SNV).id
    assert notice.occurrence == f"unreachable:{contact.id}:2023-12-22"
    assert "không gửi được nhắc việc đến Nguyễn Văn An (Sở Tài chính)" in notice.payload["text"]  # type: ignore[index]

    await world.adapter.process_update_json(
        _membership(STC, "kicked", "member", ANSWER_AT, api.bot_user)
    )
    assert not world.contact(STC).unreachable


async def test_a_rate_limit_pauses_the_channel_for_retry_after(world: World) -> None:
    api = world.api
    await world.join(STC, SYT)
    api.rate_limit_next("sendMessage", retry_after=30)
    world.clock.set(DIGEST_AT)
    dispatch = world.plan_and_dispatcher()
    sent_before = len(api.sent)

    report = await dispatch.tick(DIGEST_AT)

    resume = DIGEST_AT + timedelta(seconds=30)
    assert dispatch.paused_until["telegram"] >= resume
    assert report.sent + report.failed + report.deferred == 2 and report.sent <= 1
    with world.session() as session:
        waiting = session.exec(
            select(Reminder).where(Reminder.send_at <= DIGEST_AT, Reminder.state != "sent")
        ).all()
    assert waiting and all(r.next_attempt_at and r.next_attempt_at >= resume for r in waiting)
    assert (await dispatch.tick(DIGEST_AT + timedelta(seconds=29))).claimed == 0

    later = await dispatch.tick(resume + timedelta(seconds=1))
    assert later.sent == len(waiting)
    assert len(api.sent) - sent_before == 2


# --- webhook mode --------------------------------------------------------------------------------


async def test_webhook_mode_checks_the_secret_then_handles_the_update(
    engine: Engine, api: FakeBotApi, clock: ManualClock
) -> None:
    codes = _province(engine)
    adapter = _adapter(
        api,
        engine,
        clock,
        mode="webhook",
        webhook_url="https://nhacviec.example.vn/telegram/webhook",
        webhook_secret=SECRET,
    )
    web = build_web_app(zalo=None, telegram=TelegramWebhook(SECRET, adapter.process_update_json))
    await adapter.start()
    try:
        [hooked] = api.calls_to("setWebhook")
        assert hooked["secret_token"] == SECRET
        assert hooked["url"] == "https://nhacviec.example.vn/telegram/webhook"
        update = api.push_text(STC, STC, f"/start {codes[STC]}", first_name=NAMES[STC])
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://nhacviec") as client:
            forged = await client.post(
                "/telegram/webhook", json=update, headers={TELEGRAM_SECRET_HEADER: "wrong"}
            )
            assert forged.status_code == 403
            assert api.texts_for(STC) == []
            accepted = await client.post(
                "/telegram/webhook", json=update, headers={TELEGRAM_SECRET_HEADER: SECRET}
            )
            assert accepted.status_code == 200
        await api.wait_for_async(lambda a: len(a.texts_for(STC)) == 1)
    finally:
        await adapter.stop()
    assert api.texts_for(STC)[0].startswith("Đăng ký thành công: Sở Tài chính")
    assert api.calls_to("getUpdates") == []


# --- nhacviec run ------------------------------------------------------------------------------


async def test_run_starts_the_bot_beside_the_reminder_service(
    api: FakeBotApi, tmp_path: Any
) -> None:
    config = Config(
        database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'run.db'}"),
        telegram=TelegramConfig(token=api.token, base_url=api.base_url),
    )
    services = bootstrap(config)
    stop = asyncio.Event()
    started: list[ReminderService] = []
    running = asyncio.create_task(
        run(
            services,
            clock=ManualClock(ANSWER_AT),
            stop=stop,
            settings=ServiceSettings(worker_id="run-test"),
            ready=started.append,
        )
    )
    try:
        api.push_text(STRANGER, STRANGER, "xin chào", first_name=NAMES[STRANGER])
        await api.wait_for_async(lambda a: len(a.texts_for(STRANGER)) == 1)
    finally:
        stop.set()
        await asyncio.wait_for(running, 15)
    assert api.texts_for(STRANGER) == [t("chat.stranger", "vi")]
    [service] = started
    assert set(service.dispatcher.channels) == {"telegram"}
    assert ("default", "en") in api.commands


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_run_in_webhook_mode_serves_the_webhook_with_its_secret(
    api: FakeBotApi, tmp_path: Any
) -> None:
    port = _free_port()
    config = Config(
        database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'run.db'}"),
        telegram=TelegramConfig(
            token=api.token,
            base_url=api.base_url,
            mode="webhook",
            webhook_url="https://nhacviec.example.vn/telegram/webhook",
            webhook_secret=SECRET,
        ),
        server=ServerConfig(host="127.0.0.1", port=port),
    )
    services = bootstrap(config)
    stop, ready = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(
        run(
            services,
            clock=ManualClock(ANSWER_AT),
            stop=stop,
            settings=ServiceSettings(worker_id="webhook-test"),
            ready=lambda _: ready.set(),
        )
    )
    try:
        await asyncio.wait_for(ready.wait(), 10)
        update = api.push_text(STRANGER, STRANGER, "xin chào", first_name=NAMES[STRANGER])
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with httpx.AsyncClient() as client:
            forged = await client.post(url, json=update, headers={TELEGRAM_SECRET_HEADER: "x"})
            accepted = await client.post(url, json=update, headers={TELEGRAM_SECRET_HEADER: SECRET})
        await api.wait_for_async(lambda a: len(a.texts_for(STRANGER)) == 1)
    finally:
        stop.set()
        await asyncio.wait_for(running, 15)
    assert (forged.status_code, accepted.status_code) == (403, 200)
    assert api.texts_for(STRANGER) == [t("chat.stranger", "vi")]
    [hooked] = api.calls_to("setWebhook")
    assert hooked["secret_token"] == SECRET


async def test_one_chat_in_order_other_chats_alongside() -> None:
    processor = PerChatUpdateProcessor(8)
    started: list[str] = []
    release = {name: asyncio.Event() for name in ("a1", "a2", "b1")}

    async def handle(name: str) -> None:
        started.append(name)
        await release[name].wait()

    def update(update_id: int, chat: int) -> Update:
        message = {"message_id": update_id, "date": 0, "chat": {"id": chat, "type": "private"}}
        return Update.de_json({"update_id": update_id, "message": message}, None)

    tasks = [
        asyncio.create_task(processor.process_update(update(n, chat), handle(name)))
        for n, (chat, name) in enumerate([(1, "a1"), (1, "a2"), (2, "b1")], 1)
    ]
    for _ in range(5):  # let every task run as far as it can
        await asyncio.sleep(0)
    assert started == ["a1", "b1"]  # a2 waits for a1; b1 is another chat
    release["a1"].set()
    release["b1"].set()
    release["a2"].set()
    await asyncio.gather(*tasks)
    assert started == ["a1", "b1", "a2"]
