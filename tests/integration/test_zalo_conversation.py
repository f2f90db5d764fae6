"""The conversation on Zalo: signed webhook events in, the core, answers out to a Zalo API server.

Events are posted to the ASGI app through httpx's ASGITransport, which returns once the app's
background processing is done; answers go over real HTTP to ``tests.fakes.zalo_server``. The
province is ``reminder_world``'s: Sở Tài chính (STC) leads tasks of plan 289/KH-UBND due Friday
29/12/2023; Sở Nội vụ (SNV) coordinates from Telegram. Chị Hoa answers on Zalo on 22/12 at 9:00.
The last test runs ``nhacviec run``'s runtime with the OA configured, over real HTTP both ways.
"""

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.bootstrap import bootstrap
from app.config import Config, DatabaseConfig, ServerConfig, ZaloConfig
from app.runtime import run
from bot.core.conversation import Conversation
from bot.webhooks import build_web_app
from bot.zalo.adapter import ZaloAdapter
from domain.channel_choice import InteractionWindow
from domain.i18n import t
from scheduler.clock import ManualClock
from scheduler.service import ReminderService, ServiceSettings
from storage import repository
from storage.models import Contact, ProgressReport, Reminder
from storage.zalo_window import UNFOLLOWED
from tests.fakes.zalo_server import APP_ID, SECRET_KEY, FakeZaloApi, seed_tokens
from tests.integration.reminder_world import (
    DIRECTORY,
    TaskSpec,
    add_contact,
    assignment_id,
    calendar,
    fixed,
    local,
    save_plan,
)
from tests.integration.test_webhooks import OA_SECRET, follow_event, signed, text_event

DUE = date(2023, 12, 29)
ANSWER_AT = local(2023, 12, 22, 9)
HOA = "5832619872631786321"  # OA-scoped Zalo user id
STRANGER = "1111222233334444555"
COORDINATOR = "900"  # Telegram


@pytest.fixture(scope="module")
def zalo_server() -> Iterator[FakeZaloApi]:
    with FakeZaloApi() as server:
        yield server


@pytest.fixture
def api(zalo_server: FakeZaloApi) -> FakeZaloApi:
    zalo_server.reset()
    return zalo_server


def province(session: Session, *tasks: str, due: date = DUE) -> int:
    """The plan with ``tasks`` for STC, chị Hoa on Zalo, the coordinator; Hoa's contact id."""
    repository.save_directory(session, DIRECTORY)
    save_plan(session, [TaskSpec(task, fixed(due)) for task in tasks])
    add_contact(session, "SNV", COORDINATOR, role="coordinator", name="Lê Văn Cường")
    return add_contact(
        session,
        "STC",
        HOA,
        channel="zalo",
        name="Nguyễn Thị Hoa",
        last_interaction_at=ANSWER_AT - timedelta(days=3),
    )


@pytest.fixture
async def adapter(engine: Engine, api: FakeZaloApi) -> AsyncIterator[ZaloAdapter]:
    clock = ManualClock(ANSWER_AT + timedelta(seconds=2))
    seed_tokens(engine, api, clock.now(), timedelta(hours=25))

    def session_factory() -> Session:
        return Session(engine, expire_on_commit=False)

    conversation = Conversation(session_factory, DIRECTORY, calendar())
    opened = ZaloAdapter.connect(
        engine,
        conversation,
        session_factory=session_factory,
        app_id=APP_ID,
        secret_key=SECRET_KEY,
        api_base=api.base_url,
        oauth_base=api.base_url,
        clock=clock,
    )
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest.fixture
async def client(engine: Engine, adapter: ZaloAdapter) -> AsyncIterator[httpx.AsyncClient]:
    hook = adapter.webhook(engine, app_id=APP_ID, oa_secret_key=OA_SECRET)
    app = build_web_app(zalo=hook, telegram=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://nhacviec") as opened:
        yield opened


async def say(client: httpx.AsyncClient, text: str, msg_id: str, user: str = HOA) -> None:
    body, headers = signed(text_event(text, msg_id, user=user, at=ANSWER_AT))
    response = await client.post("/zalo/webhook", content=body, headers=headers)
    assert response.status_code == 200 and response.json() == {"status": "accepted"}


def texts_to(api: FakeZaloApi, user: str) -> list[str]:
    return [sent.text for sent in api.sent if sent.user_id == user]


def notices(session: Session) -> list[Reminder]:
    session.expire_all()
    return list(session.exec(select(Reminder).where(col(Reminder.step) == "notice")))


async def test_a_reply_done_through_the_webhook_updates_the_task_and_is_acknowledged_on_zalo(
    engine: Engine, session: Session, api: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    hoa = province(session, "1")

    await say(client, "đã xong", "msg-0001")

    session.expire_all()
    [report] = session.exec(select(ProgressReport)).all()
    assert (report.kind, report.assignment_id, report.contact_id) == (
        "done",
        assignment_id(session, "1", "STC"),
        hoa,
    )
    assert report.reported_at == ANSWER_AT
    [ack] = texts_to(api, HOA)
    assert ack.startswith("Kế hoạch 289/KH-UBND, nhiệm vụ 1") and t("chat.ack.pending", "vi") in ack
    # The coordinator, on Telegram, is asked to confirm through the outbox.
    coordinator = session.exec(select(Contact).where(Contact.chat_id == COORDINATOR)).one()
    [notice] = notices(session)
    assert notice.contact_id == coordinator.id and notice.state == "pending"
    assert notice.payload is not None and notice.payload["text"].startswith(
        "Sở Tài chính báo cáo hoàn thành nhiệm vụ 1, Kế hoạch 289/KH-UBND"
    )
    found = session.get(Contact, hoa)
    assert found is not None and found.last_interaction_at == ANSWER_AT


async def test_which_task_is_asked_in_numbered_lines_and_answered_by_number(
    engine: Engine, session: Session, api: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    province(session, "1", "2")

    await say(client, "đã xong", "msg-0001")
    [question] = texts_to(api, HOA)
    assert question.startswith(t("chat.pick.which", "vi"))
    lines = question.splitlines()[1:]
    assert [line.split(":")[0] for line in lines] == [
        "1. NV 1 (289/KH-UBND) 29/12/2023",
        "2. NV 2 (289/KH-UBND) 29/12/2023",
    ]

    await say(client, "2", "msg-0002")
    session.expire_all()
    [report] = session.exec(select(ProgressReport)).all()
    assert (report.kind, report.assignment_id) == ("done", assignment_id(session, "2", "STC"))
    assert len(texts_to(api, HOA)) == 2


async def test_a_stranger_who_follows_is_told_how_to_join(
    engine: Engine, session: Session, api: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    province(session, "1")
    body, headers = signed(follow_event("follow", user=STRANGER, at=ANSWER_AT))

    response = await client.post("/zalo/webhook", content=body, headers=headers)

    assert response.status_code == 200
    assert texts_to(api, STRANGER) == [t("chat.stranger", "vi")]


async def test_a_bound_person_who_unfollows_is_reported_to_the_coordinator(
    engine: Engine, session: Session, api: FakeZaloApi, client: httpx.AsyncClient
) -> None:
    hoa = province(session, "1")
    body, headers = signed(follow_event("unfollow", user=HOA, at=ANSWER_AT))

    response = await client.post("/zalo/webhook", content=body, headers=headers)

    assert response.status_code == 200
    session.expire_all()
    found = session.get(Contact, hoa)
    assert found is not None and (found.unreachable, found.unreachable_reason) == (
        True,
        UNFOLLOWED,
    )
    [notice] = notices(session)
    assert notice.payload is not None
    assert notice.payload["text"].startswith(
        "Thông báo: hệ thống không gửi được nhắc việc đến Nguyễn Thị Hoa (Sở Tài chính) qua Zalo"
    )
    assert api.sent == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_run_serves_the_zalo_webhook_and_sends_on_zalo(
    api: FakeZaloApi, tmp_path: Path
) -> None:
    port = _free_port()
    config = Config(
        database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'run.db'}"),
        zalo=ZaloConfig(
            app_id=APP_ID,
            secret_key=SECRET_KEY,
            oa_secret_key=OA_SECRET,
            api_base=api.base_url,
            oauth_base=api.base_url,
            window_hours=48,
            weekly_checkin=True,
        ),
        server=ServerConfig(host="127.0.0.1", port=port),
    )
    services = bootstrap(config)
    clock = ManualClock(ANSWER_AT + timedelta(seconds=2))
    seed_tokens(services.engine, api, clock.now(), timedelta(hours=25))
    with services.session() as session:
        province(session, "1", due=date(2024, 6, 28))  # no reminder due today: only the answer
    stop, ready = asyncio.Event(), asyncio.Event()
    started: list[ReminderService] = []

    def on_ready(service: ReminderService) -> None:
        started.append(service)
        ready.set()

    running = asyncio.create_task(
        run(
            services,
            clock=clock,
            stop=stop,
            settings=ServiceSettings(worker_id="zalo-run-test"),
            ready=on_ready,
        )
    )
    try:
        await asyncio.wait_for(ready.wait(), 10)
        body, headers = signed(text_event("đã xong", "msg-run-1", user=HOA, at=ANSWER_AT))
        async with httpx.AsyncClient() as http:
            url = f"http://127.0.0.1:{port}/zalo/webhook"
            forged = await http.post(
                url, content=body, headers={**headers, "X-ZEvent-Signature": "mac=00"}
            )
            accepted = await http.post(url, content=body, headers=headers)
        await asyncio.to_thread(api.wait_for, lambda a: bool(texts_to(a, HOA)))
    finally:
        stop.set()
        await asyncio.wait_for(running, 15)

    assert (forged.status_code, accepted.status_code) == (403, 200)
    [ack] = texts_to(api, HOA)
    assert t("chat.ack.pending", "vi") in ack
    [service] = started
    assert set(service.dispatcher.channels) == {"zalo"}
    assert service.dispatcher.window == InteractionWindow(limit=timedelta(hours=48))
    assert service.settings.zalo_checkin_before == timedelta(hours=24)
    with services.session() as session:
        assert [r.kind for r in session.exec(select(ProgressReport))] == ["done"]
    services.engine.dispose()
