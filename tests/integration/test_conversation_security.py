"""A focal point sees and reports only its own agency's tasks, whatever button data it forges."""

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from storage.models import KeyValue
from tests.integration.conversation_world import (
    COORDINATOR,
    FOCAL_STC,
    FOCAL_STP,
    World,
    make_world,
    texts,
)

DENIED = "Anh/chị không có quyền báo cáo nhiệm vụ này."


@pytest.fixture
def world(engine: Engine) -> World:
    return make_world(engine)


@pytest.mark.parametrize("action", ["d", "p", "b", "u"])
def test_a_forged_reminder_button_for_another_agency_records_nothing(
    world: World, action: str
) -> None:
    other = world.assignment("3", "STP")
    out = world.press(FOCAL_STC, f"r:{action}:{other}:2023-12-31")
    assert [(o.text, o.answer_callback, o.notify) for o in out] == [("", DENIED, False)]
    assert world.reports() == []
    with world.session() as session:
        assert session.exec(select(KeyValue)).all() == []  # no question left open either
    world.say(FOCAL_STC, "vướng kinh phí")
    assert all(r.assignment_id != other for r in world.reports())


@pytest.mark.parametrize(
    "data",
    [
        "r:d:999999:2024-06-30",  # no such assignment: the button is stale
        "r:d:{own}:2024-06-30:x",  # an occurrence that is no occurrence key
        "r:d:{own}:../../etc/passwd",
        "r:x:{own}:2024-06-30",  # unknown action
        "k:{other}:2023-12-31",
        "k:{own}:2024-06-30';--",
        "c:abc:y",
        "l:fr",
        "zz",
    ],
)
def test_malformed_or_forged_button_data_does_nothing(world: World, data: str) -> None:
    data = data.format(own=world.assignment("1", "STC"), other=world.assignment("3", "STP"))
    out = world.press(FOCAL_STC, data)
    assert len(out) == 1 and out[0].text == ""
    assert out[0].answer_callback in (DENIED, "Nút này không còn hiệu lực.")
    assert world.reports() == []


def test_a_forged_pick_does_not_apply_a_waiting_reply_to_another_agency(world: World) -> None:
    asked = world.say(FOCAL_STC, "xong rồi")  # two open tasks: the bot asks which
    assert "nhiệm vụ nào" in asked[0].text
    other = world.assignment("3", "STP")
    out = world.press(FOCAL_STC, f"k:{other}:2023-12-31")
    assert out[0].answer_callback == DENIED
    assert world.reports() == []


def test_a_focal_point_cannot_confirm_a_completion(world: World) -> None:
    aid = world.assignment("3", "STP")
    world.press(FOCAL_STP, f"r:d:{aid}:2023-12-31")
    report_id = world.reports()[0].id
    refused = "Chỉ cán bộ điều phối mới xác nhận hoặc trả lại báo cáo hoàn thành."
    out = world.press(FOCAL_STC, f"c:{report_id}:y")
    assert out[0].answer_callback == refused
    out = world.press(FOCAL_STP, f"c:{report_id}:y")  # nor its own
    assert out[0].answer_callback == refused
    assert world.reports()[0].review == "pending"


def test_a_reply_to_another_chat_s_digest_binds_nothing_of_that_chat(world: World) -> None:
    other = world.assignment("3", "STP")
    world.digest(FOCAL_STP, "90", (other, "2023-12-31"))
    out = world.say(FOCAL_STC, "xong", reply_to="90")
    assert "nhiệm vụ nào" in out[0].text  # treated as unbound: STC's own tasks are offered
    assert f"k:{other}:" not in "".join(b.data for row in out[0].buttons for b in row)
    assert world.reports() == []


def test_a_digest_item_of_another_agency_is_never_bound(world: World) -> None:
    own, other = world.assignment("1", "STC"), world.assignment("3", "STP")
    world.digest(FOCAL_STC, "91", (other, "2023-12-31"), (own, "2024-06-30"))
    asked = world.say(FOCAL_STC, "1. xong", reply_to="91")  # item 1 is not STC's
    assert "nhiệm vụ nào" in asked[0].text
    assert [b.data for row in asked[0].buttons for b in row] == [f"k:{own}:2024-06-30"]
    world.say(FOCAL_STC, "được 20%", reply_to="91")
    assert [(r.assignment_id, r.kind) for r in world.reports()] == [(own, "percent")]


def test_task_lists_show_only_the_agency_s_own_tasks(world: World) -> None:
    stc = texts(world.say(FOCAL_STC, "/viec"))
    stp = texts(world.say(FOCAL_STP, "/viec"))
    assert "Rà soát văn bản quy phạm pháp luật" not in stc
    assert "Rà soát quy định về quản lý tài chính" not in stp
    assert "Rà soát văn bản quy phạm pháp luật" in stp
    assert "Sở Tư pháp" not in texts(world.say(FOCAL_STC, "/status Sở Tư pháp"))


def test_the_coordinator_sees_every_agency(world: World) -> None:
    out = texts(world.say(COORDINATOR, "/status Sở Tư pháp"))
    assert "Rà soát văn bản quy phạm pháp luật" in out
