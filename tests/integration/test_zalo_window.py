"""The Zalo interaction window as stored: interactions, follow/unfollow, a person's channels."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from domain.channel_choice import OUTSIDE_ZALO_WINDOW, InteractionWindow, choose_channel
from storage.models import Contact
from storage.zalo_window import (
    UNFOLLOWED,
    closing_soon,
    contacts_of_person,
    mark_followed,
    mark_unfollowed,
    record_interaction,
)

NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
USER = "5832619872631786321"
WINDOW = InteractionWindow()


def add(session: Session, **fields: Any) -> Contact:
    values: dict[str, Any] = {
        "agency_code": "STC",
        "channel": "zalo",
        "chat_id": USER,
        "created_at": NOW - timedelta(days=60),
    } | fields
    contact = Contact(**values)
    session.add(contact)
    session.commit()
    return contact


def reload(session: Session, contact: Contact) -> Contact:
    session.expire_all()
    found = session.get(Contact, contact.id)
    assert found is not None
    return found


def test_an_interaction_moves_the_window_forward_never_back(session: Session) -> None:
    contact = add(session, last_interaction_at=NOW - timedelta(days=2))
    other_user = add(session, chat_id="111", last_interaction_at=NOW - timedelta(days=2))

    moved = record_interaction(session, USER, NOW)
    late = record_interaction(session, USER, NOW - timedelta(days=1))  # an older event, late
    session.commit()

    assert (moved, late) == (1, 0)
    assert reload(session, contact).last_interaction_at == NOW
    assert reload(session, other_user).last_interaction_at == NOW - timedelta(days=2)


@pytest.mark.parametrize(
    ("reason", "reachable_after_writing"),
    [(OUTSIDE_ZALO_WINDOW, True), (UNFOLLOWED, False), ("bị chặn", False)],
)
def test_writing_again_reopens_only_a_chat_closed_by_the_window(
    session: Session, reason: str, reachable_after_writing: bool
) -> None:
    contact = add(session, unreachable=True, unreachable_reason=reason)

    record_interaction(session, USER, NOW)
    session.commit()

    assert reload(session, contact).unreachable is not reachable_after_writing


def test_unfollow_closes_the_chat_and_follow_reopens_it(session: Session) -> None:
    contact = add(session, last_interaction_at=NOW - timedelta(days=1))

    assert mark_unfollowed(session, USER) == 1
    session.commit()
    gone = reload(session, contact)
    assert (gone.unreachable, gone.unreachable_reason) == (True, UNFOLLOWED)

    mark_followed(session, USER, NOW)
    session.commit()
    back = reload(session, contact)
    assert (back.unreachable, back.unreachable_reason, back.last_interaction_at) == (
        False,
        None,
        NOW,
    )


def test_a_person_silent_8_days_on_zalo_is_reminded_on_telegram(session: Session) -> None:
    silent = NOW - timedelta(days=8)
    zalo = add(session, person_key="hoa", preference=0, last_interaction_at=silent)
    telegram = add(session, person_key="hoa", preference=1, channel="telegram", chat_id="4242")
    add(session, person_key="someone-else", channel="telegram", chat_id="99")

    person = contacts_of_person(session, zalo)
    chosen = choose_channel(person, NOW, WINDOW)

    assert [c.id for c in person] == [zalo.id, telegram.id]
    assert chosen is not None and chosen.id == telegram.id


def test_a_person_silent_8_days_with_zalo_only_is_nobody_to_send_to(session: Session) -> None:
    zalo = add(session, last_interaction_at=NOW - timedelta(days=8))

    assert contacts_of_person(session, zalo) == [zalo]
    assert choose_channel(contacts_of_person(session, zalo), NOW, WINDOW) is None


def test_contacts_whose_window_closes_soon_are_found_for_a_check_in(session: Session) -> None:
    closing = add(session, chat_id="1", last_interaction_at=NOW - timedelta(days=6, hours=12))
    add(session, chat_id="2", last_interaction_at=NOW - timedelta(days=2))  # plenty left
    add(session, chat_id="3", last_interaction_at=NOW - timedelta(days=8))  # already closed
    add(session, chat_id="4", last_interaction_at=NOW - timedelta(days=6, hours=12), active=False)
    add(session, chat_id="5", channel="telegram")

    found = closing_soon(session, NOW, WINDOW, margin=timedelta(days=1))

    assert [c.id for c in found] == [closing.id]
