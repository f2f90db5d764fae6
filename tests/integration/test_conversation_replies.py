"""Progress replies: one-tap buttons, free text bound to a digest or a task, questions asked back.

Each test is a small conversation (messages in, replies out) on SQLite and PostgreSQL; the stored
progress reports are checked, since nothing a focal point writes may be lost.
"""

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.core.conversation import Conversation, Settings
from bot.core.messages import Incoming
from storage.models import Assignment, Contact, ContactRole, KeyValue
from tests.integration.conversation_world import (
    COORDINATOR,
    FOCAL_STC,
    FOCAL_STP,
    NOW,
    World,
    buttons,
    make_world,
    texts,
)


@pytest.fixture
def world(engine: Engine) -> World:
    return make_world(engine)


def kinds(world: World) -> list[tuple[int, str, str, int | None, str]]:
    return [(r.assignment_id, r.occurrence, r.kind, r.percent, r.text) for r in world.reports()]


@pytest.mark.parametrize(
    ("data", "kind", "percent"),
    [("d", "done", 100), ("p", "in_progress", None)],
)
def test_a_one_tap_answer_is_recorded(world: World, data: str, kind: str,
                                      percent: int | None) -> None:
    aid = world.assignment("1", "STC")
    out = world.press(FOCAL_STC, f"r:{data}:{aid}:2024-06-30")
    assert out[0].answer_callback == "Đã ghi nhận."
    assert out[0].chat_id == FOCAL_STC and "Kế hoạch 289/KH-UBND, nhiệm vụ 1" in out[0].text
    assert kinds(world) == [(aid, "2024-06-30", kind, percent, "")]


def test_done_waits_for_confirmation_and_the_coordinator_confirms(world: World) -> None:
    aid = world.assignment("1", "STC")
    out = world.press(FOCAL_STC, f"r:d:{aid}:2024-06-30")
    assert "Đã ghi nhận: hoàn thành." in out[0].text
    assert "sau khi cơ quan điều phối xác nhận" in out[0].text
    notices = [o for o in out if o.notify]
    assert [(o.chat_id, o.channel) for o in notices] == [(COORDINATOR, "telegram")]
    assert notices[0].text.startswith("Sở Tài chính báo cáo hoàn thành nhiệm vụ 1, Kế hoạch 289")
    report_id = world.reports()[0].id
    assert buttons(notices[0]) == [f"c:{report_id}:y", f"c:{report_id}:n"]
    assert world.reports()[0].review == "pending"

    decided = world.press(COORDINATOR, f"c:{report_id}:y", message_id="501",
                          at=NOW + timedelta(hours=2))
    assert decided[0].edit_message_id == "501"
    assert "Đã xác nhận hoàn thành" in decided[0].text and decided[0].buttons == ()
    assert [o.chat_id for o in decided if o.notify] == [FOCAL_STC]
    assert "đã xác nhận hoàn thành nhiệm vụ 1" in decided[1].text
    report = world.reports()[0]
    assert report.review == "confirmed" and report.reviewed_at == NOW + timedelta(hours=2)

    again = world.press(COORDINATOR, f"c:{report_id}:n", message_id="501")
    assert again[0].answer_callback == "Báo cáo này đã được xử lý trước đó."
    assert world.reports()[0].review == "confirmed"


def test_a_returned_completion_is_not_done_and_the_agency_is_told(world: World) -> None:
    aid = world.assignment("1", "STC")
    world.press(FOCAL_STC, f"r:d:{aid}:2024-06-30")
    report_id = world.reports()[0].id
    out = world.press(COORDINATOR, f"c:{report_id}:n")
    assert "Đã trả lại báo cáo hoàn thành" in out[0].text
    assert "Đề nghị tiếp tục thực hiện" in out[1].text and out[1].chat_id == FOCAL_STC
    assert world.reports()[0].review == "returned"
    # Reported again after the return: a new pending completion, not "already done".
    again = world.press(FOCAL_STC, f"r:d:{aid}:2024-06-30")
    assert "Đã ghi nhận: hoàn thành." in again[0].text
    assert [r.review for r in world.reports()] == ["returned", "pending"]


def test_without_confirmation_done_is_done_and_nobody_is_asked(engine: Engine) -> None:
    world = make_world(engine, Settings(require_confirmation=False))
    aid = world.assignment("1", "STC")
    out = world.press(FOCAL_STC, f"r:d:{aid}:2024-06-30")
    assert [o for o in out if o.notify] == []
    assert "xác nhận" not in out[0].text
    assert world.reports()[0].review is None
    tasks = texts(world.say(FOCAL_STC, "/viec"))
    assert "nhiệm vụ 1 (chủ trì)" not in tasks and "nhiệm vụ 2 (phối hợp)" in tasks


def test_done_twice_asks_nobody_twice_and_keeps_the_second_text(world: World) -> None:
    aid = world.assignment("1", "STC")
    world.press(FOCAL_STC, f"r:d:{aid}:2024-06-30")
    pressed = world.press(FOCAL_STC, f"r:d:{aid}:2024-06-30")
    assert "đã được báo cáo hoàn thành ngày 15/03/2024" in pressed[0].text
    assert [o for o in pressed if o.notify] == []
    world.digest(FOCAL_STC, "60", (aid, "2024-06-30"))
    typed = world.say(FOCAL_STC, "đã ban hành QĐ số 12/QĐ-UBND", reply_to="60")
    assert "Nội dung anh/chị gửi đã được lưu thêm." in texts(typed)
    assert [k[2] for k in kinds(world)] == ["done", "note"]
    assert world.reports()[1].text == "đã ban hành QĐ số 12/QĐ-UBND"


def test_blocked_asks_the_reason_then_tells_the_coordinator(world: World) -> None:
    aid = world.assignment("1", "STC")
    asked = world.press(FOCAL_STC, f"r:b:{aid}:2024-06-30")
    assert "Đề nghị cho biết khó khăn, vướng mắc" in asked[0].text
    assert world.reports() == []
    out = world.say(FOCAL_STC, "chưa có hướng dẫn của Bộ Tài chính")
    report = world.reports()[0]
    assert (report.kind, report.occurrence) == ("blocked", "2024-06-30")
    assert report.reason and "hướng dẫn của Bộ Tài chính" in report.reason
    assert "Đã ghi nhận khó khăn, vướng mắc" in out[0].text
    notice = [o for o in out if o.notify]
    assert len(notice) == 1 and notice[0].chat_id == COORDINATOR
    assert "Sở Tài chính báo cáo khó khăn, vướng mắc khi thực hiện nhiệm vụ 1" in notice[0].text
    # The question was answered: the next message is an ordinary reply again (two open tasks).
    again = world.say(FOCAL_STC, "được 70%")
    assert "nhiệm vụ nào" in again[0].text
    assert len(world.reports()) == 1


@pytest.mark.parametrize(
    ("typed", "kind", "percent"),
    [("60", "percent", 60), ("45 %", "percent", 45), ("100", "done", 100), ("0", "percent", 0),
     ("đã xong", "done", 100), ("đang trình UBND tỉnh", "in_progress", None)],
)
def test_update_percent_asks_then_records(world: World, typed: str, kind: str,
                                          percent: int | None) -> None:
    aid = world.assignment("1", "STC")
    asked = world.press(FOCAL_STC, f"r:u:{aid}:2024-06-30")
    assert "tỷ lệ hoàn thành, từ 0 đến 100" in asked[0].text
    world.say(FOCAL_STC, typed)
    assert [(k[0], k[2], k[3]) for k in kinds(world)] == [(aid, kind, percent)]


def test_a_percent_over_100_is_asked_again(world: World) -> None:
    aid = world.assignment("1", "STC")
    world.press(FOCAL_STC, f"r:u:{aid}:2024-06-30")
    again = world.say(FOCAL_STC, "150")
    assert "phải từ 0 đến 100" in texts(again)
    world.say(FOCAL_STC, "80")
    assert [(k[2], k[3]) for k in kinds(world)] == [("percent", 80)]


def test_a_question_left_unanswered_for_a_day_is_dropped(world: World) -> None:
    aid = world.assignment("3", "STP")
    world.press(FOCAL_STP, f"r:b:{aid}:2023-12-31")
    world.say(FOCAL_STP, "đã xong", at=NOW + timedelta(days=2))
    assert [k[2] for k in kinds(world)] == ["done"]


def test_a_reply_to_a_one_item_digest_binds_to_its_item(world: World) -> None:
    aid = world.assignment("2", "STC")
    world.digest(FOCAL_STC, "41", (aid, "2024-12-31"))
    out = world.say(FOCAL_STC, "được 60%", reply_to="41")
    assert "Đã ghi nhận tiến độ 60%." in out[0].text
    assert "nhiệm vụ 2" in out[0].text
    assert kinds(world) == [(aid, "2024-12-31", "percent", 60, "được 60%")]


def test_a_numbered_reply_to_a_digest_binds_to_that_item(world: World) -> None:
    first, second = world.assignment("1", "STC"), world.assignment("2", "STC")
    world.digest(FOCAL_STC, "42", (first, "2024-06-30"), (second, "2024-12-31"))
    world.say(FOCAL_STC, "2. vướng: chờ ý kiến của Sở Nội vụ", reply_to="42")
    report = world.reports()[0]
    assert (report.assignment_id, report.kind) == (second, "blocked")
    assert report.text == "vướng: chờ ý kiến của Sở Nội vụ"


def test_an_ambiguous_reply_is_kept_until_the_task_is_picked(world: World) -> None:
    first, second = world.assignment("1", "STC"), world.assignment("2", "STC")
    world.digest(FOCAL_STC, "43", (first, "2024-06-30"), (second, "2024-12-31"))
    asked = world.say(FOCAL_STC, "xong rồi", reply_to="43")
    assert "Anh/chị báo cáo cho nhiệm vụ nào?" in asked[0].text
    assert buttons(asked[0]) == [f"k:{first}:2024-06-30", f"k:{second}:2024-12-31"]
    assert world.reports() == []
    world.say(FOCAL_STC, "kèm theo QĐ số 45/QĐ-UBND", reply_to="43")  # a second message, kept too
    picked = world.press(FOCAL_STC, f"k:{first}:2024-06-30", message_id="44")
    assert picked[0].edit_message_id == "44"
    assert "→ Kế hoạch 289/KH-UBND, nhiệm vụ 1" in picked[0].text
    assert [(k[0], k[2], k[4]) for k in kinds(world)] == [
        (first, "done", "xong rồi"),
        (first, "note", "kèm theo QĐ số 45/QĐ-UBND"),
    ]
    with world.session() as session:
        assert session.exec(select(KeyValue)).all() == []


def test_the_only_open_task_takes_an_unbound_reply(world: World) -> None:
    aid = world.assignment("3", "STP")
    out = world.say(FOCAL_STP, "Đã ban hành QĐ số 12/QĐ-UBND ngày 10/3/2024")
    assert "Đã ghi nhận: hoàn thành (QĐ số 12/QĐ-UBND ngày 10/3/2024)." in out[0].text
    report = world.reports()[0]
    assert (report.assignment_id, report.occurrence, report.kind) == (aid, "2023-12-31", "done")
    assert report.evidence == "QĐ số 12/QĐ-UBND ngày 10/3/2024"


@pytest.mark.parametrize(
    ("typed", "kind"),
    [("xin gia hạn đến 30/6", "extension"), ("chưa triển khai", "not_started"),
     ("Dang thuc hien", "in_progress"), ("70 %", "percent"), ("cuối tuần tôi gửi", "note")],
)
def test_every_kind_of_reply_is_stored_with_its_text(world: World, typed: str, kind: str) -> None:
    out = world.say(FOCAL_STP, typed)
    assert out[0].chat_id == FOCAL_STP
    assert [(k[2], k[4]) for k in kinds(world)] == [(kind, typed)]


def test_an_extension_request_reaches_the_coordinator_with_its_date(world: World) -> None:
    out = world.say(FOCAL_STP, "xin gia hạn đến 30/6 vì chờ ý kiến thẩm định")
    notice = [o for o in out if o.notify]
    assert len(notice) == 1
    assert "Sở Tư pháp đề nghị gia hạn nhiệm vụ 3, Kế hoạch 289/KH-UBND đến ngày 30/06/2024" in (
        notice[0].text
    )
    assert world.reports()[0].requested_until == date(2024, 6, 30)


def test_several_open_tasks_and_no_digest_asks_which(world: World) -> None:
    asked = world.say(FOCAL_STC, "được 30%")
    assert "nhiệm vụ nào" in asked[0].text
    # Tasks 1 and 2, and task 4: Sở Kế hoạch và Đầu tư's, but due after it merges into Sở Tài chính.
    assert len(buttons(asked[0])) == 3
    assert world.reports() == []


def test_report_command_picks_a_task_then_a_state(world: World) -> None:
    out = world.say(FOCAL_STC, "bao cao")
    first = world.assignment("1", "STC")
    assert f"k:{first}:2024-06-30" in buttons(out[0])
    prompt = world.press(FOCAL_STC, f"k:{first}:2024-06-30", message_id="70")
    assert prompt[0].edit_message_id == "70"
    assert "Hạn: 01/07/2024 (còn 108 ngày)." in prompt[0].text  # 30/6 is a Sunday
    assert "Tình trạng: Chưa báo cáo." in prompt[0].text
    assert buttons(prompt[0]) == [f"r:{a}:{first}:2024-06-30" for a in "dpbu"]
    world.say(FOCAL_STC, "đang lấy ý kiến các sở")
    assert kinds(world) == [(first, "2024-06-30", "in_progress", None, "đang lấy ý kiến các sở")]


def test_report_with_one_open_task_goes_straight_to_the_states(world: World) -> None:
    out = world.say(FOCAL_STP, "/baocao")
    assert "Rà soát văn bản quy phạm pháp luật" in out[0].text
    assert len(buttons(out[0])) == 4


def test_tasks_lists_the_agency_s_open_tasks_with_status_and_last_report(world: World) -> None:
    aid = world.assignment("1", "STC")
    world.digest(FOCAL_STC, "45", (aid, "2024-06-30"))
    world.say(FOCAL_STC, "được 40%, vướng kinh phí", reply_to="45", at=NOW - timedelta(days=2))
    for typed in ("/tasks", "/viec", "viec", "Việc", "nhiem vu"):
        out = texts(world.say(FOCAL_STC, typed))
        assert "Nhiệm vụ chưa hoàn thành của Sở Tài chính đến ngày 15/03/2024 (3)" in out, typed
        assert "1. Kế hoạch 289/KH-UBND, nhiệm vụ 1 (chủ trì)" in out
        assert "Vướng mắc: kinh phí." in out
        assert "Báo cáo gần nhất (13/03/2024): “được 40%, vướng kinh phí”." in out
        assert "2. Kế hoạch 289/KH-UBND, nhiệm vụ 2 (phối hợp)" in out
        assert "3. Kế hoạch 289/KH-UBND, nhiệm vụ 4 (chủ trì)" in out  # due after the merger
        assert "nhiệm vụ 3" not in out


def test_language_can_be_switched_to_english_and_back(world: World) -> None:
    out = world.say(FOCAL_STC, "/lang en")
    assert out[0].text == "Language set to English."
    assert "Commands (the slash is optional):" in texts(world.say(FOCAL_STC, "/help"))
    chooser = world.say(FOCAL_STC, "ngon ngu")
    assert buttons(chooser[0]) == ["l:vi", "l:en"]
    back = world.press(FOCAL_STC, "l:vi", message_id="80")
    assert back[0].text == "Đã chuyển sang tiếng Việt." and back[0].edit_message_id == "80"
    with world.session() as session:
        language = select(Contact.language).where(Contact.chat_id == FOCAL_STC)
        assert session.exec(language).one() == "vi"


def test_help_lists_commands_with_their_vietnamese_aliases(world: World) -> None:
    focal = texts(world.say(FOCAL_STC, "tro giup"))
    assert "/viec hoặc /tasks" in focal and "/baocao hoặc /report" in focal
    assert "/tinhhinh" not in focal
    coordinator = texts(world.say(COORDINATOR, "/help"))
    for alias in ("/tinhhinh hoặc /status", "/quahan hoặc /overdue", "/chuabaocao hoặc /silent",
                  "/xacnhan hoặc /confirm"):
        assert alias in coordinator


def test_an_unknown_command_is_answered_politely(world: World) -> None:
    out = world.say(FOCAL_STC, "/xoa_het")
    assert out[0].text == "Không có lệnh /xoa_het. Gõ /trogiup (hoặc /help) để xem các lệnh."


def test_an_error_is_an_apology_not_a_stack_trace(world: World) -> None:
    def broken() -> Session:
        raise RuntimeError("database is down")

    conversation = Conversation(broken, world.conversation.directory,
                                world.conversation.calendar)
    out = conversation.handle(Incoming("telegram", FOCAL_STC, NOW, text="xong"))
    assert len(out) == 1 and out[0].text.startswith("Xin lỗi, hệ thống gặp sự cố")
    assert "RuntimeError" not in out[0].text and "database" not in out[0].text
    pressed = conversation.handle(Incoming("telegram", FOCAL_STC, NOW, callback_data="r:d:1:"))
    assert pressed[0].answer_callback == "Xin lỗi, hệ thống gặp sự cố. Đề nghị thử lại sau."


def test_reports_are_bound_to_what_a_successor_answers_for(world: World) -> None:
    # After the merger Sở Tài chính answers for Sở Kế hoạch và Đầu tư's task 4.
    aid = world.assignment("4", "SKHDT")
    later = NOW.replace(year=2025, month=4)
    out = world.press(FOCAL_STC, f"r:p:{aid}:2025-06-30", at=later)
    assert out[0].answer_callback == "Đã ghi nhận."
    report = world.reports()[0]
    with world.session() as session:
        contact = session.get(Contact, report.contact_id)
    assert report.assignment_id == aid and contact is not None and contact.agency_code == "STC"


def test_a_chat_without_open_tasks_is_answered_and_nothing_is_invented(world: World) -> None:
    world.bind("301", "SYT", ContactRole.FOCAL)
    out = world.say("301", "đã xong")
    assert "Sở Y tế không có nhiệm vụ nào đang theo dõi" in out[0].text
    assert world.reports() == []


def test_without_buttons_a_task_is_picked_by_its_number(world: World) -> None:
    # Zalo shows no buttons: the person answers "which task?" with the number shown.
    second = world.assignment("2", "STC")
    asked = world.say(FOCAL_STC, "xin gia hạn đến 31/1/2025")
    assert f"k:{second}:2024-12-31" == buttons(asked[0])[1]
    out = world.say(FOCAL_STC, "2")
    assert "nhiệm vụ 2" in out[0].text and "Đã ghi nhận đề nghị gia hạn" in out[0].text
    assert kinds(world) == [(second, "2024-12-31", "extension", None, "xin gia hạn đến 31/1/2025")]

    world.say(FOCAL_STC, "/baocao")
    prompt = world.say(FOCAL_STC, "#1")
    assert "Đề nghị bấm chọn tình hình thực hiện" in prompt[0].text
    assert prompt[0].edit_message_id is None  # the number was typed: nothing to edit
    world.say(FOCAL_STC, "được 10%")
    assert kinds(world)[-1][2:4] == ("percent", 10)


def test_a_number_out_of_range_is_an_ordinary_reply(world: World) -> None:
    world.say(FOCAL_STC, "/baocao")
    out = world.say(FOCAL_STC, "70")
    assert "nhiệm vụ nào" in out[0].text  # "70" is no task number; kept and asked again
    assert world.reports() == []


def test_a_button_of_a_task_removed_from_the_plan_is_stale(world: World) -> None:
    aid = world.assignment("1", "STC")
    with world.session() as session:
        assignment = session.get(Assignment, aid)
        assert assignment is not None
        assignment.active = False
        session.commit()
    out = world.press(FOCAL_STC, f"r:d:{aid}:2024-06-30")
    assert out[0].answer_callback == "Nút này không còn hiệu lực."
    assert world.reports() == []
