"""The chat state keeps the ``inbound_message`` id of each held message, and still reads the
form stored before it did."""

from datetime import datetime

import pytest

from bot.core.state import Awaiting, ChatState, WaitingReply, loads
from domain.calendar import ZONE

NOW = datetime(2024, 3, 15, 9, 0, tzinfo=ZONE)


def test_held_messages_keep_their_inbound_ids() -> None:
    state = ChatState(Awaiting.PICK, NOW).with_reply("xong rồi", NOW, 41)
    state = state.with_reply("không rõ", NOW, None)
    again = loads(state.dumps())
    assert again == state
    assert again is not None and [r.inbound_id for r in again.replies] == [41, None]


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ('["xong", "2024-03-15T09:00:00+07:00"]', WaitingReply("xong", NOW)),
        ('["xong", "2024-03-15T09:00:00+07:00", 7]', WaitingReply("xong", NOW, 7)),
        ('["xong", "2024-03-15T09:00:00+07:00", "7"]', None),
        ('["xong"]', None),
    ],
)
def test_held_messages_are_read_in_both_forms(stored: str, expected: WaitingReply | None) -> None:
    text = (
        '{"awaiting": "pick", "since": "2024-03-15T09:00:00+07:00", "assignment_id": null, '
        f'"occurrence": "", "replies": [{stored}]}}'
    )
    state = loads(text)
    assert (state.replies[0] if state is not None else None) == expected
