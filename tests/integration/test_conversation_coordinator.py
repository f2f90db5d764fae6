"""What a coordinator asks: /status (overall, agency, task), /overdue, /silent, /confirm."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from storage.models import ContactRole
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


@pytest.mark.parametrize("typed", ["/status", "/tinhhinh", "tinh hinh", "Tình hình", "status"])
def test_status_overall_counts_the_four_states_continuous_and_waiting(
    world: World, typed: str
) -> None:
    out = texts(world.say(COORDINATOR, typed))
    assert out.splitlines() == [
        "Tình hình thực hiện các kế hoạch đến ngày 15/03/2024:",
        "",
        "Kế hoạch 289/KH-UBND (4 nhiệm vụ của các cơ quan chủ trì):",
        "- Hoàn thành đúng hạn: 0",
        "- Hoàn thành quá hạn: 0",
        "- Đang thực hiện trong hạn: 3",
        "- Quá hạn chưa hoàn thành: 1",
        "- Thường xuyên: 0",
        "- Chờ hướng dẫn/điều kiện: 0",
        "Tỷ lệ hoàn thành: 0%",
    ]


def test_only_a_confirmed_completion_counts_as_done(world: World) -> None:
    aid = world.assignment("3", "STP")
    world.press(FOCAL_STP, f"r:d:{aid}:2023-12-31")
    pending = texts(world.say(COORDINATOR, "/status"))
    assert "- Hoàn thành quá hạn: 0" in pending
    assert "- Quá hạn chưa hoàn thành: 1" in pending
    assert "Trong đó báo cáo hoàn thành chờ xác nhận: 1" in pending

    listed = world.say(COORDINATOR, "/xacnhan")
    assert listed[0].text == "Có 1 báo cáo hoàn thành chờ xác nhận:"
    report_id = world.reports()[0].id
    assert "Sở Tư pháp báo cáo hoàn thành nhiệm vụ 3" in listed[1].text
    assert buttons(listed[1]) == [f"c:{report_id}:y", f"c:{report_id}:n"]
    world.press(COORDINATOR, f"c:{report_id}:y")

    done = texts(world.say(COORDINATOR, "/status", at=NOW + timedelta(minutes=5)))
    assert "- Hoàn thành quá hạn: 1" in done and "- Quá hạn chưa hoàn thành: 0" in done
    assert "Tỷ lệ hoàn thành: 25%" in done
    assert "Hiện không có báo cáo hoàn thành nào chờ xác nhận." in texts(
        world.say(COORDINATOR, "/confirm")
    )


@pytest.mark.parametrize("name", ["Sở Tài chính", "so tai chinh", "STC", "Sở TC"])
def test_status_of_one_agency_lists_its_lines_with_roles(world: World, name: str) -> None:
    out = texts(world.say(COORDINATOR, f"/tinhhinh {name}"))
    assert out.startswith("Tình hình thực hiện của Sở Tài chính đến ngày 15/03/2024 (3 nhiệm vụ):")
    assert "nhiệm vụ 1 (chủ trì)" in out and "nhiệm vụ 2 (phối hợp)" in out


def test_status_of_one_task_lists_every_agency(world: World) -> None:
    aid = world.assignment("2", "STC")
    world.press(FOCAL_STC, f"r:p:{aid}:2024-12-31", at=NOW - timedelta(days=1))
    for typed in ("/status 289 2", "tinh hinh 289/KH-UBND 2", "/tinhhinh kế hoạch 289 nhiệm vụ 2"):
        out = texts(world.say(COORDINATOR, typed))
        assert out.splitlines()[:4] == [
            "Tình hình thực hiện nhiệm vụ 2, Kế hoạch 289/KH-UBND đến ngày 15/03/2024:",
            "Sắp xếp tổ chức bộ máy các cơ quan chuyên môn",
            "",
            "1. Sở Nội vụ (chủ trì): Chưa báo cáo",
        ], typed
        assert "2. Sở Tài chính (phối hợp): Đang thực hiện trong hạn" in out
        assert "Báo cáo gần nhất (14/03/2024): “đang thực hiện”." in out


def test_status_of_an_unknown_name_suggests_close_ones(world: World) -> None:
    out = texts(world.say(COORDINATOR, "/status So Tai chin"))
    assert out.startswith("Không tìm thấy cơ quan, kế hoạch hoặc nhiệm vụ “So Tai chin”.")
    assert "Có phải: Sở Tài chính" in out
    missing = texts(world.say(COORDINATOR, "/status 289 99"))
    assert missing == "Kế hoạch 289/KH-UBND không có nhiệm vụ số 99."


def test_overdue_lists_days_overdue(world: World) -> None:
    out = texts(world.say(COORDINATOR, "qua han"))
    assert out.splitlines() == [
        "Nhiệm vụ quá hạn chưa hoàn thành đến ngày 15/03/2024 (1):",
        # 31/12/2023 is a Sunday: effective due Tuesday 2/1/2024 (1/1 is a holiday).
        "1. Sở Tư pháp: nhiệm vụ 3, Kế hoạch 289/KH-UBND, quá hạn 73 ngày (hạn 31/12/2023)",
    ]


def test_silent_lists_agencies_without_news_and_without_a_focal_point(world: World) -> None:
    world.say(FOCAL_STP, "đang thực hiện", at=NOW - timedelta(days=3))
    out = texts(world.say(COORDINATOR, "/chuabaocao"))
    first = out.split("\n\n")[0].splitlines()
    assert first == ["Cơ quan chưa báo cáo trong 14 ngày qua (2):", "- Sở Tài chính", "- Sở Nội vụ"]
    # Sở Nội vụ has a coordinator, but no focal point to receive its reminders.
    assert out.split("\n\n")[1].splitlines() == [
        "Cơ quan chưa có đầu mối đăng ký nhận nhắc việc (1):",
        "- Sở Nội vụ",
    ]
    assert "Sở Tư pháp" not in out
    two_days = texts(world.say(COORDINATOR, "/silent 2"))
    assert "Sở Tư pháp" in two_days


def test_chua_bao_cao_from_a_focal_point_is_a_reply_not_the_silent_list(world: World) -> None:
    out = texts(world.say(FOCAL_STP, "chưa báo cáo"))
    assert "Cơ quan chưa báo cáo" not in out
    assert len(world.reports()) == 1


@pytest.mark.parametrize("typed", ["/status", "/tinhhinh", "/quahan", "/silent", "/xacnhan"])
def test_coordinator_commands_are_refused_to_focal_points(world: World, typed: str) -> None:
    out = texts(world.say(FOCAL_STC, typed))
    assert out == "Lệnh này dành cho cán bộ điều phối."


def test_a_coordinator_can_also_report_for_its_own_agency(world: World) -> None:
    world.bind(COORDINATOR, "SNV", ContactRole.FOCAL)
    aid = world.assignment("2", "SNV")
    out = world.press(COORDINATOR, f"r:p:{aid}:2024-12-31")
    assert out[0].answer_callback == "Đã ghi nhận."
    assert world.reports()[0].assignment_id == aid


def test_a_completion_notice_goes_to_coordinators_in_their_own_language(world: World) -> None:
    world.say(COORDINATOR, "/lang en")
    aid = world.assignment("3", "STP")
    out = world.press(FOCAL_STP, f"r:d:{aid}:2023-12-31")
    notice = next(o for o in out if o.notify)
    assert notice.text.startswith("Sở Tư pháp reports task 3 of plan 289/KH-UBND done")
    assert [b.label for row in notice.buttons for b in row] == ["Confirm", "Return"]
