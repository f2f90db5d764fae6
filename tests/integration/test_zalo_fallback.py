"""One person, several channels: each reminder once, on the chat that can take it (SQLite and
PostgreSQL).

Chị Hoa (Sở Tài chính's focal point) is bound on Zalo (preferred) and, in some tests, on Telegram
too; the coordinator (Sở Nội vụ) is on Telegram. Zalo lets the OA write to her only within 7 days
of her last message. The digest of Friday 22/12/2023 ("7 days left" for a task due 29/12) finds
her silent for 8 days: it must go to Telegram, or, with Zalo alone, be reported, never lost.
"""

from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.recording import RecordingChannel
from bot.zalo.channel import ZaloChannel
from bot.zalo.client import ZaloClient
from bot.zalo.tokens import ZaloTokens
from domain.channel_choice import OUTSIDE_ZALO_WINDOW, InteractionWindow
from domain.delivery import Channel
from domain.i18n import t
from scheduler.clock import ManualClock
from scheduler.dispatcher import ZALO_REPLY_HINT, Dispatcher
from scheduler.jobs import CHECKIN_JOB, ReminderJobs
from scheduler.planning import plan
from scheduler.zalo_checkin import queue_zalo_checkins
from storage import repository
from storage.models import Contact, Reminder, SentMessage
from storage.recipients import active_contacts, one_per_person
from storage.status_lines import unreachable_contacts
from storage.zalo_window import record_interaction
from tests.fakes.zalo_server import APP_ID, SECRET_KEY, FakeZaloApi, seed_tokens
from tests.integration.reminder_world import (
    DIRECTORY,
    POLICY,
    TaskSpec,
    add_contact,
    at8,
    calendar,
    dispatcher,
    fixed,
    local,
    reminders,
    save_plan,
)

DUE = date(2023, 12, 29)
PLANNED_AT = local(2023, 12, 22, 7)
DIGEST_AT = at8(date(2023, 12, 22))
WINDOW = InteractionWindow()
HOA_ZALO = "5832619872631786321"  # OA-scoped Zalo user id
HOA_TELEGRAM = "4242"
COORDINATOR = "900"
REPLY = t("digest.closing.reply", "vi")


def run_planning(session: Session, now: datetime = PLANNED_AT) -> int:
    report = plan(
        session, directory=DIRECTORY, calendar=calendar(), policy=POLICY, now=now, lookback_days=1
    )
    session.commit()
    return report.inserted


def add_hoa(
    session: Session, *, silent: timedelta, telegram: bool, zalo_preference: int = 0
) -> tuple[int, int | None]:
    """Chị Hoa's Zalo contact (and Telegram one); the ids."""
    zalo = add_contact(
        session,
        "STC",
        HOA_ZALO,
        channel="zalo",
        name="Nguyễn Thị Hoa",
        person_key="hoa",
        preference=zalo_preference,
        last_interaction_at=DIGEST_AT - silent,
    )
    other = None
    if telegram:
        other = add_contact(
            session, "STC", HOA_TELEGRAM, name="Nguyễn Thị Hoa", person_key="hoa", preference=1
        )
    return zalo, other


def contact(session: Session, contact_id: int) -> Contact:
    session.expire_all()
    found = session.get(Contact, contact_id)
    assert found is not None
    return found


def due_rows(session: Session, moment: datetime = DIGEST_AT) -> list[Reminder]:
    return [r for r in reminders(session) if r.send_at <= moment]


@pytest.fixture
def world(session: Session) -> Session:
    """Task 1 (Sở Tài chính, due 29/12/2023); the coordinator on Telegram."""
    repository.save_directory(session, DIRECTORY)
    save_plan(session, [TaskSpec("1", fixed(DUE))])
    add_contact(session, "SNV", COORDINATOR, role="coordinator", name="Lê Văn Cường")
    return session


def channels() -> tuple[RecordingChannel, RecordingChannel]:
    return RecordingChannel(channel_name="zalo", limit=2000), RecordingChannel(
        channel_name="telegram"
    )


def windowed(engine: Engine, senders: dict[str, Channel]) -> Dispatcher:
    return dispatcher(engine, dict(senders), window=WINDOW)


async def test_silent_on_zalo_for_8_days_the_digest_goes_to_telegram_once(
    engine: Engine, world: Session
) -> None:
    session = world
    zalo_id, telegram_id = add_hoa(session, silent=timedelta(days=8), telegram=True)
    run_planning(session)
    zalo, telegram = channels()
    worker = windowed(engine, {"zalo": zalo, "telegram": telegram})

    report = await worker.tick(DIGEST_AT)
    again = await worker.tick(DIGEST_AT + timedelta(minutes=1))

    assert zalo.attempts == 0
    [digest] = telegram.texts_for(HOA_TELEGRAM)
    assert digest.startswith("Kính gửi Sở Tài chính") and "Hạn: 29/12/2023" in digest
    assert (report.sent, report.unreachable, report.notices) == (1, 0, 0)
    assert again.claimed == 0 and len(telegram.sent) == 1
    # Her rows are her preferred chat's, one per reminder.
    assert {r.contact_id for r in reminders(session) if r.audience == "agency"} == {zalo_id}
    [record] = session.exec(select(SentMessage)).all()
    assert (record.channel, record.contact_id) == ("telegram", telegram_id)  # replies bind there
    assert contact(session, zalo_id).unreachable is False  # she may still write on Zalo
    assert unreachable_contacts(session) == []


async def test_within_the_window_zalo_is_preferred_and_its_digest_invites_a_reply(
    engine: Engine, world: Session
) -> None:
    session = world
    add_hoa(session, silent=timedelta(days=2), telegram=True)
    run_planning(session)
    zalo, telegram = channels()

    await windowed(engine, {"zalo": zalo, "telegram": telegram}).tick(DIGEST_AT)

    [digest] = zalo.texts_for(HOA_ZALO)
    assert digest.endswith(REPLY) and ZALO_REPLY_HINT["vi"] not in digest
    assert zalo.sent[0].buttons  # the channel drops them; the text says what to reply
    assert telegram.sent == []


async def test_silent_on_zalo_alone_the_rows_are_unreachable_and_the_coordinator_told(
    engine: Engine, world: Session
) -> None:
    session = world
    zalo_id, _ = add_hoa(session, silent=timedelta(days=8), telegram=False)
    run_planning(session)
    zalo, telegram = channels()
    worker = windowed(engine, {"zalo": zalo, "telegram": telegram})

    report = await worker.tick(DIGEST_AT)

    assert zalo.attempts == 0
    [row] = [r for r in due_rows(session) if r.contact_id == zalo_id]
    assert (row.state, row.last_error) == ("unreachable", OUTSIDE_ZALO_WINDOW)
    hoa = contact(session, zalo_id)
    assert (hoa.unreachable, hoa.unreachable_reason) == (True, OUTSIDE_ZALO_WINDOW)
    assert (report.unreachable, report.notices) == (1, 1)
    assert unreachable_contacts(session) == ["Nguyễn Thị Hoa (Sở Tài chính, Zalo)"]
    [notice] = [r for r in reminders(session) if r.step == "notice"]
    assert notice.payload is not None
    assert notice.payload["text"] == (
        "Thông báo: hệ thống không gửi được nhắc việc đến Nguyễn Thị Hoa (Sở Tài chính) qua Zalo "
        f"(lý do: {OUTSIDE_ZALO_WINDOW}). Đề nghị liên hệ để cập nhật thông tin đầu mối nhận "
        "nhắc việc."
    )

    await worker.tick(DIGEST_AT + timedelta(seconds=30))
    [told] = telegram.texts_for(COORDINATOR)
    assert "Nguyễn Thị Hoa" in told and zalo.sent == []

    # She writes on Zalo: reachable again, and planning addresses her again.
    record_interaction(session, HOA_ZALO, local(2023, 12, 23, 9))
    session.commit()
    assert contact(session, zalo_id).unreachable is False
    assert unreachable_contacts(session) == []
    assert run_planning(session, local(2023, 12, 25, 7)) > 0
    assert any(
        r.contact_id == zalo_id and r.state == "pending" and r.step == "before:3"
        for r in reminders(session)
    )


@pytest.fixture(scope="module")
def zalo_server() -> Iterator[FakeZaloApi]:
    with FakeZaloApi() as server:
        yield server


@pytest.fixture
def api(zalo_server: FakeZaloApi) -> FakeZaloApi:
    zalo_server.reset()
    return zalo_server


@pytest.fixture
async def zalo_channel(engine: Engine, api: FakeZaloApi) -> AsyncIterator[ZaloChannel]:
    seed_tokens(engine, api, DIGEST_AT, timedelta(hours=25))
    with httpx.Client() as token_http:
        async with httpx.AsyncClient() as send_http:
            tokens = ZaloTokens(
                engine,
                token_http,
                app_id=APP_ID,
                secret_key=SECRET_KEY,
                oauth_base=api.base_url,
                clock=lambda: DIGEST_AT,
            )
            yield ZaloChannel(ZaloClient(send_http, tokens, api_base=api.base_url))


@pytest.mark.parametrize("code", [-230, -232])
async def test_zalo_refusing_for_the_window_mid_run_falls_back_to_telegram_in_the_same_tick(
    engine: Engine, world: Session, api: FakeZaloApi, zalo_channel: ZaloChannel, code: int
) -> None:
    session = world
    # Our record says she wrote yesterday, but Zalo knows better.
    zalo_id, telegram_id = add_hoa(session, silent=timedelta(days=1), telegram=True)
    run_planning(session)
    api.fail_next(HOA_ZALO, code)
    telegram = RecordingChannel(channel_name="telegram")
    worker = windowed(engine, {"zalo": zalo_channel, "telegram": telegram})

    report = await worker.tick(DIGEST_AT)

    assert api.sent == []
    [digest] = telegram.texts_for(HOA_TELEGRAM)
    assert "nhiệm vụ 1" in digest
    assert (report.sent, report.unreachable, report.notices) == (1, 0, 0)
    assert {r.state for r in due_rows(session)} == {"sent"}
    hoa = contact(session, zalo_id)
    assert (hoa.unreachable, hoa.unreachable_reason) == (True, OUTSIDE_ZALO_WINDOW)
    [record] = session.exec(select(SentMessage)).all()
    assert record.contact_id == telegram_id

    # She answers on Zalo: the chat opens again, and the next reminder goes there.
    record_interaction(session, HOA_ZALO, local(2023, 12, 22, 10))
    session.commit()
    run_planning(session, local(2023, 12, 26, 7))
    await worker.tick(at8(date(2023, 12, 26)))
    [sent] = api.sent
    assert sent.user_id == HOA_ZALO and "Hạn: 29/12/2023 (còn 3 ngày)." in sent.text
    assert len(telegram.sent) == 1


async def test_zalo_refusing_with_no_other_chat_reports_the_person(
    engine: Engine, world: Session, api: FakeZaloApi, zalo_channel: ZaloChannel
) -> None:
    session = world
    zalo_id, _ = add_hoa(session, silent=timedelta(days=1), telegram=False)
    run_planning(session)
    api.fail_next(HOA_ZALO, -230)
    telegram = RecordingChannel(channel_name="telegram")

    report = await windowed(engine, {"zalo": zalo_channel, "telegram": telegram}).tick(DIGEST_AT)

    assert (report.unreachable, report.notices) == (1, 1)
    [row] = [r for r in due_rows(session) if r.contact_id == zalo_id]
    assert row.state == "unreachable" and row.last_error is not None
    assert row.last_error.startswith(OUTSIDE_ZALO_WINDOW)
    # Stored without Zalo's details, so that her next message clears it.
    assert contact(session, zalo_id).unreachable_reason == OUTSIDE_ZALO_WINDOW
    assert unreachable_contacts(session) == ["Nguyễn Thị Hoa (Sở Tài chính, Zalo)"]


async def test_two_contacts_of_one_person_get_each_reminder_once(
    engine: Engine, world: Session
) -> None:
    session = world
    zalo_id, telegram_id = add_hoa(session, silent=timedelta(days=1), telegram=True)
    assert telegram_id is not None
    binh = add_contact(session, "STC", "777", name="Trần Văn Bình")  # another focal point

    run_planning(session)
    by_contact = {r.contact_id for r in reminders(session) if r.audience == "agency"}
    assert by_contact == {zalo_id, binh}  # her preferred chat, and Bình's
    # Her Zalo chat closes, then planning again: her rows stay with her preferred chat.
    hoa_zalo = contact(session, zalo_id)
    hoa_zalo.unreachable, hoa_zalo.unreachable_reason = True, OUTSIDE_ZALO_WINDOW
    session.add(hoa_zalo)
    session.commit()
    run_planning(session, local(2023, 12, 22, 7, 30))
    assert telegram_id not in {r.contact_id for r in reminders(session)}
    hoa_zalo = contact(session, zalo_id)
    hoa_zalo.unreachable, hoa_zalo.unreachable_reason = False, None
    session.add(hoa_zalo)
    session.commit()

    zalo, telegram = channels()
    worker = windowed(engine, {"zalo": zalo, "telegram": telegram})
    await worker.tick(DIGEST_AT)
    await worker.tick(DIGEST_AT + timedelta(hours=1))
    assert (len(zalo.texts_for(HOA_ZALO)), telegram.texts_for(HOA_TELEGRAM)) == (1, [])
    assert len(telegram.texts_for("777")) == 1


def test_one_per_person_anchors_on_the_preferred_contact_while_any_can_receive(
    session: Session,
) -> None:
    zalo_id, telegram_id = add_hoa(session, silent=timedelta(days=1), telegram=True)
    assert telegram_id is not None
    alone = add_contact(session, "STC", "777")

    assert [c.id for c in one_per_person(active_contacts(session))] == [zalo_id, alone]
    hoa_zalo = contact(session, zalo_id)
    hoa_zalo.unreachable = True
    session.add(hoa_zalo)
    session.commit()
    assert [c.id for c in one_per_person(active_contacts(session))] == [zalo_id, alone]
    hoa_telegram = contact(session, telegram_id)
    hoa_telegram.unreachable = True
    session.add(hoa_telegram)
    session.commit()
    assert [c.id for c in one_per_person(active_contacts(session))] == [alone]


async def test_a_rows_duplicate_from_another_contact_of_the_person_is_sent_once(
    engine: Engine, world: Session
) -> None:
    session = world
    zalo_id, telegram_id = add_hoa(session, silent=timedelta(days=1), telegram=True)
    assert telegram_id is not None
    run_planning(session)
    # Her preferences changed and planning ran again: Telegram's rows next to Zalo's.
    for contact_id, preference in ((zalo_id, 1), (telegram_id, 0)):
        changed = contact(session, contact_id)
        changed.preference = preference
        session.add(changed)
        session.commit()
    run_planning(session, local(2023, 12, 22, 7, 30))
    assert {r.contact_id for r in due_rows(session)} == {zalo_id, telegram_id}

    zalo, telegram = channels()
    report = await windowed(engine, {"zalo": zalo, "telegram": telegram}).tick(DIGEST_AT)

    assert (len(telegram.texts_for(HOA_TELEGRAM)), zalo.attempts) == (1, 0)
    assert report.skip_reasons == {"trùng nhắc việc gửi cho cùng người qua kênh khác": 1}


async def test_a_notice_on_zalo_ends_by_inviting_a_reply(engine: Engine, world: Session) -> None:
    session = world
    coordinator = add_contact(
        session,
        "SNV",
        "zalo-coordinator",
        role="coordinator",
        channel="zalo",
        last_interaction_at=DIGEST_AT - timedelta(days=1),
    )
    add_hoa(session, silent=timedelta(days=8), telegram=False)
    run_planning(session)
    zalo, telegram = channels()
    worker = windowed(engine, {"zalo": zalo, "telegram": telegram})

    await worker.tick(DIGEST_AT)
    await worker.tick(DIGEST_AT + timedelta(seconds=30))

    [notice] = zalo.texts_for("zalo-coordinator")
    assert notice.startswith("Thông báo: hệ thống không gửi được nhắc việc đến Nguyễn Thị Hoa")
    assert notice.endswith(ZALO_REPLY_HINT["vi"])
    [told] = telegram.texts_for(COORDINATOR)
    assert not told.endswith(ZALO_REPLY_HINT["vi"])
    assert coordinator in {r.contact_id for r in reminders(session) if r.step == "notice"}


def silent_on_zalo(session: Session, chat_id: str, silent: timedelta, **changes: object) -> int:
    last = DIGEST_AT - silent
    return add_contact(session, "STC", chat_id, channel="zalo", last_interaction_at=last, **changes)


async def test_the_check_in_invites_a_reply_once_before_the_window_closes(
    engine: Engine, session: Session
) -> None:
    # Closing within a day; the same person's Telegram is preferred, yet the check-in is for Zalo.
    closing = silent_on_zalo(
        session, "z-closing", timedelta(hours=150), person_key="p", preference=1
    )
    add_contact(session, "STC", "123", person_key="p", preference=0)
    silent_on_zalo(session, "z-fresh", timedelta(days=2))
    silent_on_zalo(session, "z-closed", timedelta(days=8))

    first = queue_zalo_checkins(session, now=DIGEST_AT, window=WINDOW, before=timedelta(hours=24))
    again = queue_zalo_checkins(
        session, now=DIGEST_AT + timedelta(hours=1), window=WINDOW, before=timedelta(hours=24)
    )
    session.commit()

    assert (first, again) == (1, 0)
    [row] = reminders(session)
    assert row.contact_id == closing and row.payload is not None and row.payload["pinned"]
    zalo, telegram = channels()
    await windowed(engine, {"zalo": zalo, "telegram": telegram}).tick(DIGEST_AT)
    [text] = zalo.texts_for("z-closing")
    assert text == (
        "Tài khoản Zalo của hệ thống nhắc việc chỉ gửi được tin nhắn cho anh/chị trong 7 ngày kể "
        f"từ tin nhắn gần nhất của anh/chị. {ZALO_REPLY_HINT['vi']}"
    )
    assert telegram.sent == []


async def test_the_check_in_job_is_scheduled_only_when_asked_for() -> None:
    async def nothing(_now: datetime) -> None:
        return None

    clock = ManualClock(DIGEST_AT)
    plain = ReminderJobs(clock=clock, plan=nothing, dispatch=nothing)
    checking = ReminderJobs(clock=clock, plan=nothing, dispatch=nothing, zalo_checkin=nothing)
    assert plain.scheduler.get_job(CHECKIN_JOB) is None
    job = checking.scheduler.get_job(CHECKIN_JOB)
    assert job is not None and "hour='9'" in str(job.trigger)
