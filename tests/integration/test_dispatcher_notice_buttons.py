"""The dispatcher on SQLite and PostgreSQL: a notice with buttons never joins the digest."""

from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from bot.recording import RecordingChannel
from domain.delivery import Button
from scheduler.planning import plan
from storage.outbox import chat_notice
from storage.reminder_queries import queue_notices
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

ESCALATION_DAY = at8(date(2023, 12, 20))  # task 1 due 13/12: the coordinator's escalation
REVIEW = ((Button("Xác nhận hoàn thành", "c:7:y"), Button("Trả lại", "c:7:n")),)


async def test_the_digest_and_a_notice_with_buttons_go_as_two_messages(
    engine: Engine, session: Session
) -> None:
    save_plan(session, [TaskSpec("1", fixed(date(2023, 12, 13)))])
    add_contact(session, "STC", "100")
    coordinator = add_contact(session, "SNV", "900", role="coordinator")
    plan(session, directory=DIRECTORY, calendar=calendar(), policy=POLICY,
         now=local(2023, 12, 20, 7))  # fmt: skip
    for key, payload in [
        ("chat:u1:1", chat_notice("Đề nghị xác nhận báo cáo số 7.", REVIEW, "/xacnhan 7")),
        ("chat:u2:1", chat_notice("Thông báo thử nghiệm.")),
    ]:
        queue_notices(session, key=key, contact_ids=[coordinator], payload=payload,
                      now=ESCALATION_DAY)  # fmt: skip
    session.commit()
    channel = RecordingChannel(channel_name="telegram")

    report = await dispatcher(engine, {"telegram": channel}).tick(ESCALATION_DAY)

    digest, asked = [m for m in channel.sent if m.chat_id == "900"]
    assert "Nhiệm vụ quá hạn, đề nghị đôn đốc:" in digest.text
    assert digest.text.endswith("\n\nThông báo thử nghiệm.")
    assert all(not b.data.startswith("c:") for row in digest.buttons for b in row)
    assert (asked.text, asked.buttons) == ("Đề nghị xác nhận báo cáo số 7.", REVIEW)
    assert "/xacnhan" not in asked.text  # the typed form is for chats without buttons
    assert report.messages == 3  # with Sở Tài chính's own overdue reminder
    assert {r.state for r in reminders(session) if r.contact_id == coordinator} == {"sent"}
