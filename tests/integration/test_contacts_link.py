"""One person on several channels: `nhacviec link` makes their contacts one recipient."""

import pytest
from sqlmodel import Session

from storage.contacts import LinkError, link_contacts
from storage.models import Contact
from tests.integration.reminder_world import add_contact


def test_linked_contacts_share_a_person_and_keep_the_given_order(session: Session) -> None:
    zalo = add_contact(session, "STC", "z-1", channel="zalo")
    telegram = add_contact(session, "STC", "t-1", channel="telegram")
    link_contacts(session, [zalo, telegram])
    session.commit()
    first, second = session.get(Contact, zalo), session.get(Contact, telegram)
    assert first is not None and second is not None
    assert first.person_key is not None and first.person_key == second.person_key
    assert (first.preference, second.preference) == (0, 1)


@pytest.mark.parametrize(
    ("other", "message"),
    [
        ({"agency": "SNV", "channel": "telegram"}, "cùng cơ quan"),
        ({"agency": "STC", "channel": "zalo"}, "mỗi kênh"),
        ({"agency": "STC", "channel": "telegram", "role": "head"}, "cùng vai trò"),
    ],
)
def test_contacts_that_cannot_be_one_person_are_refused(
    session: Session, other: dict[str, str], message: str
) -> None:
    zalo = add_contact(session, "STC", "z-1", channel="zalo")
    second = add_contact(
        session, other["agency"], "x-2", channel=other["channel"], role=other.get("role", "focal")
    )
    with pytest.raises(LinkError, match=message):
        link_contacts(session, [zalo, second])


def test_a_missing_contact_is_named(session: Session) -> None:
    zalo = add_contact(session, "STC", "z-1", channel="zalo")
    with pytest.raises(LinkError, match="999"):
        link_contacts(session, [zalo, 999])
