"""Joining by invite code, strangers, throttling, revoking: messages in, replies out."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.core.onboarding import new_invite_code
from storage.contacts import chat_contacts, revoke_contact
from storage.invites import add_invite
from storage.models import Contact, ContactRole, Invite
from tests.integration.conversation_world import FOCAL_STC, NOW, World, make_world, texts

STRANGER = "555"


@pytest.fixture
def world(engine: Engine) -> World:
    return make_world(engine)


def invite(world: World, agency: str = "STC", role: ContactRole = ContactRole.FOCAL,
           expires_in: timedelta = timedelta(days=7)) -> str:
    code = new_invite_code()
    with world.session() as session:
        add_invite(session, code=code, agency_code=agency, role=role, created_at=NOW,
                   expires_at=NOW + expires_in)
        session.commit()
    return code


def bound(world: World, chat: str) -> list[tuple[str, str]]:
    with world.session() as session:
        return [(c.agency_code, c.role) for c in chat_contacts(session, "telegram", chat)]


@pytest.mark.parametrize(
    "message",
    ["xin chào", "/start", "/help", "/viec", "tinh hinh", "/status", "xong rồi", "được 50%"],
)
def test_a_stranger_gets_only_the_way_to_join(world: World, message: str) -> None:
    out = world.say(STRANGER, message)
    assert len(out) == 1
    assert "mã mời" in out[0].text and "/start" in out[0].text
    for secret in ("289/KH-UBND", "Sở Tài chính", "Rà soát", "Quá hạn"):
        assert secret not in out[0].text
    assert bound(world, STRANGER) == []


def test_a_stranger_pressing_a_forged_button_records_nothing(world: World) -> None:
    aid = world.assignment("1", "STC")
    out = world.press(STRANGER, f"r:d:{aid}:2024-06-30")
    assert [o.text for o in out] == [""]
    assert out[0].answer_callback is not None and "/start" in out[0].answer_callback
    assert world.reports() == []


@pytest.mark.parametrize("how", ["/start {code}", "{code}", "  {code} "])
def test_a_valid_code_binds_the_chat_to_the_agency_and_role(world: World, how: str) -> None:
    code = invite(world, "STC", ContactRole.HEAD)
    out = world.say(STRANGER, how.format(code=code))
    assert "Đăng ký thành công: Sở Tài chính, vai trò thủ trưởng cơ quan" in texts(out)
    assert bound(world, STRANGER) == [("STC", "head")]
    with world.session() as session:
        used = session.exec(select(Invite).where(Invite.code == code)).one()
    assert used.used_at == NOW and used.used_by_chat == f"telegram:{STRANGER}"


def test_a_code_works_once(world: World) -> None:
    code = invite(world)
    world.say(STRANGER, f"/start {code}")
    again = world.say(STRANGER, f"/start {code}")
    assert "đã được đăng ký" in texts(again)
    other = world.say("556", f"/start {code}")
    assert "không hợp lệ, đã được sử dụng hoặc đã hết hạn" in texts(other)
    assert bound(world, "556") == []
    assert bound(world, STRANGER) == [("STC", "focal")]


def test_an_expired_code_binds_nothing(world: World) -> None:
    code = invite(world, expires_in=timedelta(hours=1))
    out = world.say(STRANGER, f"/start {code}", at=NOW + timedelta(hours=1, seconds=1))
    assert "đã hết hạn" in texts(out)
    assert bound(world, STRANGER) == []


@pytest.mark.parametrize("code", ["AAAAAAAAAAAA", "x" * 64, "abc'; DROP TABLE contact;--"])
def test_a_wrong_code_binds_nothing(world: World, code: str) -> None:
    invite(world)
    out = world.say(STRANGER, f"/start {code}")
    assert "không hợp lệ" in texts(out)
    assert bound(world, STRANGER) == []


def test_many_wrong_codes_block_the_chat_even_for_a_right_code(world: World) -> None:
    good = invite(world)
    answers = [texts(world.say(STRANGER, f"/start WRONGCODE{i:03d}")) for i in range(5)]
    assert all("không hợp lệ" in a for a in answers)
    assert "thử lại sau 09:15 ngày 15/03/2024" in answers[-1]
    assert "thử lại sau" not in answers[-2]

    blocked = world.say(STRANGER, f"/start {good}", at=NOW + timedelta(minutes=10))
    assert "nhập sai mã mời nhiều lần" in texts(blocked)
    assert bound(world, STRANGER) == []

    later = world.say(STRANGER, f"/start {good}", at=NOW + timedelta(minutes=16))
    assert "Đăng ký thành công" in texts(later)
    assert bound(world, STRANGER) == [("STC", "focal")]


def test_the_block_doubles_after_each_round_of_failures(world: World) -> None:
    at = NOW
    for i in range(5):
        world.say(STRANGER, f"WRONGCODE{i:03d}", at=at)
    at += timedelta(minutes=16)
    for i in range(4):
        assert "thử lại sau" not in texts(world.say(STRANGER, f"WRONGCODE9{i:02d}", at=at))
    tenth = texts(world.say(STRANGER, "WRONGCODE999", at=at))
    assert "thử lại sau 09:46 ngày 15/03/2024" in tenth  # 9:16 + 30 minutes


def test_a_bound_chat_sends_its_code_again_as_plain_text_as_a_reply_not_a_code(
    world: World,
) -> None:
    code = invite(world, "STP")
    out = world.say(FOCAL_STC, code)
    assert "Đăng ký thành công" not in texts(out)
    assert bound(world, FOCAL_STC) == [("STC", "focal")]


def test_a_bound_chat_can_join_a_second_role_with_start(world: World) -> None:
    code = invite(world, "STC", ContactRole.COORDINATOR)
    out = world.say(FOCAL_STC, f"/start {code}")
    assert "vai trò cán bộ điều phối" in texts(out)
    assert sorted(bound(world, FOCAL_STC)) == [("STC", "coordinator"), ("STC", "focal")]


def test_a_revoked_contact_becomes_a_stranger(world: World) -> None:
    with world.session() as session:
        contact = session.exec(select(Contact).where(Contact.chat_id == FOCAL_STC)).one()
        assert contact.id is not None
        revoke_contact(session, contact.id)
        session.commit()
    out = world.say(FOCAL_STC, "/viec")
    assert "mã mời" in texts(out) and "Rà soát" not in texts(out)


def test_an_unreachable_contact_who_writes_again_is_reachable(world: World) -> None:
    with world.session() as session:
        contact = session.exec(select(Contact).where(Contact.chat_id == FOCAL_STC)).one()
        contact.unreachable = True
        contact.unreachable_reason = "Forbidden"
        session.commit()
    world.say(FOCAL_STC, "/trogiup", at=NOW + timedelta(days=1))
    with Session(world.engine) as session:
        contact = session.exec(select(Contact).where(Contact.chat_id == FOCAL_STC)).one()
    assert not contact.unreachable
    assert contact.last_interaction_at == NOW + timedelta(days=1)
