"""A completion to confirm, relayed through the outbox, keeps its buttons, end to end.

Chị Hoa (Sở Tài chính) answers "đã xong" on Zalo; the coordinator (Sở Nội vụ) is on Telegram, so
the conversation's notice with its "Xác nhận" / "Trả lại" buttons goes through the outbox; the real
dispatcher sends it through the real python-telegram-bot to a local Bot API server
(``tests.fakes.telegram_server``), the coordinator presses "Xác nhận" on the delivered message, and
Hoa hears of it on Zalo (``tests.fakes.zalo_server``), through the outbox again. The other way
round, a coordinator on Zalo, which shows no buttons, is told what to type instead. Nothing
sleeps: the test waits on what the fake servers record, or on the adapters' ``on_queued``.
"""

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.core.buttons import decode_review
from bot.core.conversation import Conversation
from bot.telegram.adapter import TelegramAdapter
from bot.webhooks import build_web_app
from bot.zalo.adapter import ZaloAdapter
from domain.i18n import t
from scheduler.clock import ManualClock
from scheduler.dispatcher import Dispatcher
from storage import repository
from storage.models import ProgressReport, Reminder
from tests.fakes.telegram_server import FakeBotApi
from tests.fakes.zalo_server import APP_ID, SECRET_KEY, FakeZaloApi, seed_tokens
from tests.integration.reminder_world import (
    DIRECTORY,
    TaskSpec,
    add_contact,
    calendar,
    dispatcher,
    fixed,
    local,
    save_plan,
)
from tests.integration.test_webhooks import OA_SECRET, signed, text_event

DUE = date(2023, 12, 29)
ANSWER_AT = local(2023, 12, 22, 9)
SENT_AT = ANSWER_AT + timedelta(minutes=1)
PRESSED_AT = ANSWER_AT + timedelta(minutes=30)
HOA = "5832619872631786321"  # OA-scoped Zalo user id
SNV, STC = 1900, 1001  # Telegram private chats: chat id = user id


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


class Queued:
    """Counts the adapters' ``on_queued`` calls, which come from worker threads."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.calls = 0

    def __call__(self) -> None:
        with self._changed:
            self.calls += 1
            self._changed.notify_all()

    async def reach(self, calls: int) -> None:
        def wait() -> bool:
            with self._changed:
                return self._changed.wait_for(lambda: self.calls >= calls, timeout=5)

        assert await asyncio.to_thread(wait), f"{self.calls} notices queued, not {calls}"


@dataclass
class World:
    engine: Engine
    telegram_api: FakeBotApi
    zalo_api: FakeZaloApi
    telegram: TelegramAdapter
    zalo: ZaloAdapter
    web: httpx.AsyncClient
    clock: ManualClock
    queued: Queued

    def dispatcher(self) -> Dispatcher:
        return dispatcher(
            self.engine, {"telegram": self.telegram.channel, "zalo": self.zalo.channel}
        )

    async def zalo_says(self, text: str, msg_id: str, user: str = HOA) -> None:
        body, headers = signed(text_event(text, msg_id, user=user, at=ANSWER_AT))
        response = await self.web.post("/zalo/webhook", content=body, headers=headers)
        assert response.status_code == 200

    async def press(self, chat: int, data: str, message_id: int) -> str | None:
        api = self.telegram_api
        answered = len(api.callback_answers)
        api.push_callback(chat, chat, data, message_id, first_name="Lê Văn Cường")
        await api.wait_for_async(lambda a: len(a.callback_answers) > answered)
        answer: str | None = api.callback_answers[answered]["text"]
        return answer

    def notices(self) -> list[Reminder]:
        with Session(self.engine) as session:
            notice = col(Reminder.step) == "notice"
            query = select(Reminder).where(notice).order_by(col(Reminder.id))
            return list(session.exec(query))

    def report(self) -> ProgressReport:
        with Session(self.engine) as session:
            return session.exec(select(ProgressReport)).one()


def _province(engine: Engine, *, coordinator_on: str) -> None:
    recent = ANSWER_AT - timedelta(days=3)
    with Session(engine) as session:
        repository.save_directory(session, DIRECTORY)
        save_plan(session, [TaskSpec("1", fixed(DUE))])
        if coordinator_on == "telegram":
            add_contact(session, "SNV", str(SNV), role="coordinator", name="Lê Văn Cường")
            add_contact(session, "STC", HOA, channel="zalo", name="Nguyễn Thị Hoa",
                        last_interaction_at=recent)  # fmt: skip
        else:
            add_contact(session, "SNV", HOA, channel="zalo", role="coordinator",
                        name="Lê Văn Cường", last_interaction_at=recent)  # fmt: skip
            add_contact(session, "STC", str(STC), name="Nguyễn Văn An")


@pytest.fixture
def telegram_api(clock: ManualClock) -> Iterator[FakeBotApi]:
    with FakeBotApi(clock=lambda: clock.now().timestamp()) as fake:
        yield fake


@pytest.fixture
def zalo_api() -> Iterator[FakeZaloApi]:
    with FakeZaloApi() as fake:
        yield fake


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(ANSWER_AT)


@pytest.fixture
async def world(
    engine: Engine, telegram_api: FakeBotApi, zalo_api: FakeZaloApi, clock: ManualClock
) -> AsyncIterator[World]:
    def session_factory() -> Session:
        return Session(engine, expire_on_commit=False)

    seed_tokens(engine, zalo_api, ANSWER_AT, timedelta(hours=25))
    queued = Queued()
    conversation = Conversation(session_factory, DIRECTORY, calendar())
    telegram = TelegramAdapter(
        telegram_api.token,
        telegram_api.base_url,
        conversation,
        session_factory=session_factory,
        clock=clock,
        min_interval=0.0,
        poll_timeout=1.0,
        on_queued=queued,
    )
    zalo = ZaloAdapter.connect(
        engine,
        conversation,
        session_factory=session_factory,
        app_id=APP_ID,
        secret_key=SECRET_KEY,
        api_base=zalo_api.base_url,
        oauth_base=zalo_api.base_url,
        clock=ManualClock(ANSWER_AT + timedelta(seconds=2)),
    )
    zalo.on_queued = queued
    hook = zalo.webhook(engine, app_id=APP_ID, oa_secret_key=OA_SECRET)
    transport = httpx.ASGITransport(app=build_web_app(zalo=hook, telegram=None))
    await telegram.start()
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://nhacviec") as web:
            yield World(engine, telegram_api, zalo_api, telegram, zalo, web, clock, queued)
    finally:
        await telegram.stop()
        await zalo.aclose()


def _keyboard(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [button["callback_data"] for row in markup.get("inline_keyboard", []) for button in row]


async def test_done_on_zalo_is_confirmed_with_the_button_of_the_relayed_notice(
    world: World,
) -> None:
    _province(world.engine, coordinator_on="telegram")

    # Hoa reports on Zalo; the coordinator is on Telegram: the notice waits in the outbox.
    await world.zalo_says("đã xong", "msg-0001")
    report = world.report()
    assert (report.kind, report.review) == ("done", "pending")
    [notice] = world.notices()
    assert notice.payload is not None and notice.payload["buttons"] == [
        [["Xác nhận hoàn thành", f"c:{report.id}:y"], ["Trả lại", f"c:{report.id}:n"]]
    ]

    # The dispatcher delivers it on Telegram, buttons and all.
    tick = await world.dispatcher().tick(SENT_AT)
    assert (tick.sent, tick.messages) == (1, 1)
    [asked] = [m for m in world.telegram_api.sent if m["chat_id"] == SNV]
    assert asked["text"].startswith("Sở Tài chính báo cáo hoàn thành nhiệm vụ 1, Kế hoạch 289")
    assert asked["text"].endswith(t("chat.notify.ask", "vi"))
    assert _keyboard(asked) == [f"c:{report.id}:y", f"c:{report.id}:n"]

    # The coordinator presses "Xác nhận" on that message: the report is confirmed, the message
    # says so and loses its buttons, and Hoa's news goes to Zalo through the outbox.
    world.clock.set(PRESSED_AT)
    confirm = next(d for d in _keyboard(asked) if decode_review(d).confirm)  # type: ignore[union-attr]
    answer = await world.press(SNV, confirm, asked["message_id"])
    assert answer is not None and answer.startswith("Đã xác nhận hoàn thành (Lê Văn Cường")
    await world.telegram_api.wait_for_async(lambda a: len(a.edits) == 1)
    [edit] = world.telegram_api.edits
    assert (edit["chat_id"], edit["message_id"]) == (SNV, asked["message_id"])
    assert edit["reply_markup"] is None and "Đã xác nhận hoàn thành" in edit["text"]
    reviewed = world.report()
    assert (reviewed.review, reviewed.reviewed_at) == ("confirmed", PRESSED_AT)

    await world.queued.reach(2)
    told = await world.dispatcher().tick(PRESSED_AT + timedelta(seconds=1))
    assert told.sent == 1
    [ack, news] = [s.text for s in world.zalo_api.sent if s.user_id == HOA]
    assert t("chat.ack.pending", "vi") in ack
    assert news.startswith("Cơ quan điều phối đã xác nhận hoàn thành nhiệm vụ 1, Kế hoạch 289")

    # A second press on the same message changes nothing: the first decision stands.
    again = await world.press(SNV, confirm, asked["message_id"])
    assert again == t("chat.review.already", "vi")
    assert world.report().reviewed_at == PRESSED_AT


async def test_a_coordinator_on_zalo_is_told_what_to_type_for_that_report(world: World) -> None:
    _province(world.engine, coordinator_on="zalo")
    world.clock.set(ANSWER_AT)

    world.telegram_api.push_text(STC, STC, "đã xong", first_name="Nguyễn Văn An")
    await world.queued.reach(1)
    report = world.report()
    assert report.review == "pending"

    tick = await world.dispatcher().tick(SENT_AT)
    assert tick.sent == 1
    [asked] = [s.text for s in world.zalo_api.sent if s.user_id == HOA]
    assert asked.startswith("Sở Tài chính báo cáo hoàn thành nhiệm vụ 1, Kế hoạch 289")
    assert f"Để xác nhận, gửi: /xacnhan {report.id}\n" in asked
    assert f"Để trả lại, gửi: /xacnhan {report.id} tralai" in asked
    assert "c:" not in asked  # no button data shown as text


async def test_a_telegram_notice_that_failed_keeps_its_buttons_when_retried(
    world: World,
) -> None:
    _province(world.engine, coordinator_on="zalo")
    with Session(world.engine) as session:  # a second coordinator, on Telegram
        add_contact(session, "SNV", str(SNV), role="coordinator", name="Lê Văn Cường")
    world.telegram_api.fail_next("sendMessage", chat_id=SNV, status=502, description="Bad Gateway")

    world.telegram_api.push_text(STC, STC, "đã xong", first_name="Nguyễn Văn An")
    await world.queued.reach(2)  # the Zalo coordinator's notice, and the failed Telegram one
    report = world.report()
    assert len(world.notices()) == 2

    tick = await world.dispatcher().tick(SENT_AT)
    assert tick.sent == 2
    [asked] = [m for m in world.telegram_api.sent if m["chat_id"] == SNV]
    assert _keyboard(asked) == [f"c:{report.id}:y", f"c:{report.id}:n"]


async def test_a_coordinator_on_zalo_confirms_by_typing_the_command(world: World) -> None:
    _province(world.engine, coordinator_on="zalo")
    world.telegram_api.push_text(STC, STC, "đã xong", first_name="Nguyễn Văn An")
    await world.queued.reach(1)
    report = world.report()
    await world.dispatcher().tick(SENT_AT)

    await world.zalo_says(f"/xacnhan {report.id}", "msg-0002")

    assert world.report().review == "confirmed"
    answer = [s.text for s in world.zalo_api.sent if s.user_id == HOA][-1]
    assert "Đã xác nhận hoàn thành (Lê Văn Cường" in answer
    await world.zalo_says(f"/xacnhan {report.id} trả lại", "msg-0003")
    assert world.report().review == "confirmed"  # the first decision stands
    await world.zalo_says("/xacnhan 999", "msg-0004")
    gone = [s.text for s in world.zalo_api.sent if s.user_id == HOA][-1]
    assert gone == t("chat.review.gone", "vi")
