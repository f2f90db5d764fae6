"""Nothing a person writes is lost: every incoming text is stored with what became of it.

Each test is a small conversation on SQLite and PostgreSQL; the ``inbound_message`` rows are
checked: a report points to its progress report, a message held for "which task?" that is
abandoned stays "unbound" (its author is told, coordinators list it with /tinnhan), a message
from an agency with no open task is kept, and a stranger's text is kept while the stranger sees
nothing but how to join.
"""

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.core.conversation import Conversation, Settings
from bot.core.messages import Incoming
from bot.core.state import MAX_WAITING_REPLIES
from domain.i18n import t
from storage.models import Contact, ContactRole, InboundMessage, KeyValue
from tests.integration.conversation_world import (
    COORDINATOR,
    FOCAL_STC,
    FOCAL_STP,
    NOW,
    World,
    make_world,
    texts,
)

STRANGER = "555"
NO_TASKS = "301"  # Sở Y tế: bound, but no task in the plan
KEPT = "Lưu ý: nội dung anh/chị gửi trước đó chưa được gắn với nhiệm vụ nào"
COORDINATOR_ONLY = "Lệnh này dành cho cán bộ điều phối."


@pytest.fixture
def world(engine: Engine) -> World:
    made = make_world(engine)
    made.bind(NO_TASKS, "SYT", ContactRole.FOCAL)
    return made


def inbound(world: World) -> list[InboundMessage]:
    with world.session() as session:
        return list(session.exec(select(InboundMessage).order_by(col(InboundMessage.id))))


def rows(world: World) -> list[tuple[str, str, str]]:
    return [(m.chat_id, m.text, m.disposition) for m in inbound(world)]


def contact_id(world: World, chat: str) -> int:
    with world.session() as session:
        found = session.exec(select(Contact.id).where(Contact.chat_id == chat)).first()
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("chat", "typed", "disposition"),
    [
        (FOCAL_STP, "Đã ban hành QĐ số 12/QĐ-UBND", "report"),  # the agency's only open task
        (FOCAL_STP, "cuối tuần tôi gửi", "note"),  # unparsed: a note on that task
        (FOCAL_STC, "/viec", "command"),
        (FOCAL_STC, "tro giup", "command"),
        (FOCAL_STC, "/start ABCD-EFGH-2345", "join"),  # a second agency for this chat
        (FOCAL_STC, "được 30%", "pending"),  # three open tasks: "which task?"
        (NO_TASKS, "đã xong", "unbound"),  # an agency with no open task
        (STRANGER, "xin chào, tôi muốn xem nhiệm vụ", "stranger"),
        (STRANGER, "/start SAIMA-1234", "join"),
        (STRANGER, "/start", "stranger"),
    ],
)
def test_every_text_is_stored_once_with_what_became_of_it(
    world: World, chat: str, typed: str, disposition: str
) -> None:
    world.say(chat, typed)
    [message] = inbound(world)
    assert (message.channel, message.chat_id, message.user_id) == ("telegram", chat, chat)
    assert (message.text, message.received_at, message.disposition) == (typed, NOW, disposition)
    reports = world.reports()
    if disposition in ("report", "note"):
        assert [r.id for r in reports] == [message.progress_report_id]
        assert reports[0].kind == ("note" if disposition == "note" else "done")
        assert message.contact_id == reports[0].contact_id == contact_id(world, chat)
    else:
        assert message.progress_report_id is None and reports == []
    if chat == STRANGER:
        assert message.contact_id is None
    else:
        assert message.contact_id == contact_id(world, chat)


def test_button_presses_and_empty_texts_are_not_stored(world: World) -> None:
    aid = world.assignment("3", "STP")
    world.press(FOCAL_STP, f"r:d:{aid}:2023-12-31")
    world.say(FOCAL_STP, "   ")
    world.press(STRANGER, "r:d:1:2023-12-31")
    assert inbound(world) == []
    assert len(world.reports()) == 1


def test_held_messages_become_reports_once_the_task_is_picked(world: World) -> None:
    first = world.assignment("1", "STC")
    world.say(FOCAL_STC, "xong rồi")
    world.say(FOCAL_STC, "kèm theo QĐ số 45/QĐ-UBND")
    assert [m.disposition for m in inbound(world)] == ["pending", "pending"]
    out = world.press(FOCAL_STC, f"k:{first}:2024-06-30", message_id="44")
    assert KEPT not in texts(out)
    reports = world.reports()
    assert [(m.text, m.disposition, m.progress_report_id) for m in inbound(world)] == [
        ("xong rồi", "report", reports[0].id),
        ("kèm theo QĐ số 45/QĐ-UBND", "note", reports[1].id),
    ]


def test_a_held_message_picked_by_its_number_on_a_platform_without_buttons(world: World) -> None:
    world.say(FOCAL_STC, "xin gia hạn đến 31/1/2025")
    world.say(FOCAL_STC, "2")
    assert rows(world) == [(FOCAL_STC, "xin gia hạn đến 31/1/2025", "report"),
                           (FOCAL_STC, "2", "command")]
    assert inbound(world)[0].progress_report_id == world.reports()[0].id


def test_a_command_abandons_the_held_message_which_is_kept_and_mentioned(world: World) -> None:
    asked = world.say(FOCAL_STC, "được 30%, đang chờ ý kiến các sở")
    assert "nhiệm vụ nào" in asked[0].text
    out = world.say(FOCAL_STC, "/viec")
    assert "Nhiệm vụ chưa hoàn thành của Sở Tài chính" in out[0].text  # the command's answer
    assert out[-1].chat_id == FOCAL_STC and not out[-1].notify
    assert out[-1].text == t("chat.kept.unbound", "vi",
                             texts="“được 30%, đang chờ ý kiến các sở”")
    assert rows(world) == [(FOCAL_STC, "được 30%, đang chờ ý kiến các sở", "unbound"),
                           (FOCAL_STC, "/viec", "command")]
    assert world.reports() == []
    with world.session() as session:
        assert session.exec(select(KeyValue)).all() == []  # the question is over
    again = world.say(FOCAL_STC, "/viec")
    assert KEPT not in texts(again)  # told once


def test_a_reminder_button_abandons_held_messages_too(world: World) -> None:
    first = world.assignment("1", "STC")
    world.say(FOCAL_STC, "đang làm")
    world.say(FOCAL_STC, "tuần sau gửi dự thảo")
    out = world.press(FOCAL_STC, f"r:b:{first}:2024-06-30")
    assert out[0].answer_callback is not None
    assert out[-1].text == t("chat.kept.unbound", "vi", texts="“đang làm”; “tuần sau gửi dự thảo”")
    assert [m.disposition for m in inbound(world)] == ["unbound", "unbound"]


def test_a_held_message_is_abandoned_after_a_day_and_its_author_told(world: World) -> None:
    second = world.assignment("2", "STC")
    world.say(FOCAL_STC, "được 30%")
    world.digest(FOCAL_STC, "41", (second, "2024-12-31"))
    later = NOW + timedelta(hours=25)
    out = world.say(FOCAL_STC, "được 60%", reply_to="41", at=later)
    assert "Đã ghi nhận tiến độ 60%." in out[0].text
    assert KEPT in out[-1].text and "“được 30%”" in out[-1].text
    reports = world.reports()
    assert [(r.assignment_id, r.percent) for r in reports] == [(second, 60)]
    assert [(m.text, m.disposition, m.progress_report_id) for m in inbound(world)] == [
        ("được 30%", "unbound", None),
        ("được 60%", "report", reports[0].id),
    ]


def test_an_abandoned_message_is_listed_for_the_coordinator(world: World) -> None:
    world.say(FOCAL_STC, "Sở đã gửi dự thảo, đề nghị góp ý", at=NOW - timedelta(hours=2))
    world.say(FOCAL_STC, "/viec", at=NOW - timedelta(hours=1))
    world.say(NO_TASKS, "Sở Y tế xin báo cáo đã hoàn thành", at=NOW - timedelta(days=3))
    world.say(NO_TASKS, "tin cũ", at=NOW - timedelta(days=8))  # older than a week
    world.say(STRANGER, "tôi là người lạ")

    out = world.say(COORDINATOR, "/tinnhan")
    assert len(out) == 1 and out[0].chat_id == COORDINATOR
    assert out[0].text.splitlines()[:3] == [
        t("chat.messages.header", "vi", days=7, n=2),
        "1. Sở Tài chính, ngày 15/03/2024 lúc 07:00: “Sở đã gửi dự thảo, đề nghị góp ý”",
        "2. Sở Y tế, ngày 12/03/2024 lúc 09:00: “Sở Y tế xin báo cáo đã hoàn thành”",
    ]
    assert "tin cũ" not in out[0].text and "người lạ" not in out[0].text
    assert texts(world.say(COORDINATOR, "tin nhắn")) == out[0].text  # no slash, no diacritics


@pytest.mark.parametrize("chat", [FOCAL_STC, FOCAL_STP, NO_TASKS])
def test_the_list_is_refused_to_a_focal_point(world: World, chat: str) -> None:
    world.say(FOCAL_STC, "được 30%")
    world.say(FOCAL_STC, "/viec")
    for typed in ("/tinnhan", "/messages"):
        out = world.say(chat, typed)
        assert texts(out) == COORDINATOR_ONLY
        assert "được 30%" not in texts(out)


def test_a_question_nobody_came_back_to_is_listed_after_a_day(world: World) -> None:
    world.say(FOCAL_STC, "xong phần rà soát")
    early = world.say(COORDINATOR, "/tinnhan", at=NOW + timedelta(hours=23))
    assert early[0].text == t("chat.messages.none", "vi", days=7)
    late = world.say(COORDINATOR, "/tinnhan", at=NOW + timedelta(hours=25))
    assert "1. Sở Tài chính, ngày 15/03/2024 lúc 09:00: “xong phần rà soát”" in late[0].text
    assert inbound(world)[0].disposition == "unbound"
    # The author comes back later: still told that the message was kept.
    out = world.say(FOCAL_STC, "/viec", at=NOW + timedelta(days=2))
    assert out[-1].text == t("chat.kept.unbound", "vi", texts="“xong phần rà soát”")


def test_the_list_in_english_and_its_limit(world: World) -> None:
    world.say(COORDINATOR, "/lang en")
    for n in range(3):
        world.say(NO_TASKS, f"tin số {n}", at=NOW - timedelta(minutes=10 - n))
    small = Conversation(lambda: Session(world.engine, expire_on_commit=False),
                         world.conversation.directory, world.conversation.calendar,
                         Settings(list_limit=2))
    out = small.handle(Incoming("telegram", COORDINATOR, NOW, text="/messages"))
    lines = out[0].text.splitlines()
    assert lines[0] == ("Messages from agencies not attached to any task in the last 7 days (3), "
                        "newest first:")
    assert lines[1:4] == ["1. Sở Y tế, 15/03/2024 at 08:52: “tin số 2”",
                          "2. Sở Y tế, 15/03/2024 at 08:51: “tin số 1”",
                          "… and 1 more."]


def test_a_stranger_s_text_is_kept_but_the_stranger_sees_only_how_to_join(world: World) -> None:
    world.say(FOCAL_STC, "được 30%")
    world.say(FOCAL_STC, "/viec")  # an unbound message exists that a stranger must not see
    for typed in ("/tinnhan", "/status", "xong", "tin nhắn"):
        out = world.say(STRANGER, typed)
        assert [(o.chat_id, o.text, o.buttons, o.notify) for o in out] == [
            (STRANGER, t("chat.stranger", "vi"), (), False)
        ]
    stored = [m for m in inbound(world) if m.chat_id == STRANGER]
    assert [(m.text, m.disposition, m.contact_id) for m in stored] == [
        ("/tinnhan", "stranger", None), ("/status", "stranger", None),
        ("xong", "stranger", None), ("tin nhắn", "stranger", None),
    ]
    with world.session() as session:
        assert session.exec(select(Contact).where(Contact.chat_id == STRANGER)).all() == []


def test_a_joining_code_is_stored_as_a_join(world: World) -> None:
    out = world.say(STRANGER, "ABCD-EFGH-2345")
    assert out[0].text.startswith("Mã mời không hợp lệ")
    assert rows(world) == [(STRANGER, "ABCD-EFGH-2345", "join")]


def test_a_held_message_pushed_out_of_a_full_question_is_kept(world: World) -> None:
    for n in range(MAX_WAITING_REPLIES + 1):
        out = world.say(FOCAL_STC, f"tin {n}")
    assert out[-1].text == t("chat.kept.unbound", "vi", texts="“tin 0”")
    dispositions = [m.disposition for m in inbound(world)]
    assert dispositions == ["unbound"] + ["pending"] * MAX_WAITING_REPLIES


class _CommitFails(Session):
    def commit(self) -> None:
        raise RuntimeError("the database went away")


def test_a_message_whose_handling_failed_is_still_stored(world: World) -> None:
    sessions: list[Session] = []

    def flaky() -> Session:
        kind = _CommitFails if not sessions else Session
        sessions.append(kind(world.engine, expire_on_commit=False))
        return sessions[-1]

    conversation = Conversation(flaky, world.conversation.directory, world.conversation.calendar)
    out = conversation.handle(Incoming("telegram", FOCAL_STP, NOW, text="đã xong", user_id="7"))
    assert len(out) == 1 and out[0].text.startswith("Xin lỗi, hệ thống gặp sự cố")
    assert world.reports() == []  # the report was rolled back with everything else
    assert [(m.text, m.disposition, m.user_id) for m in inbound(world)] == [
        ("đã xong", "unbound", "7")
    ]
    assert len(sessions) == 2

