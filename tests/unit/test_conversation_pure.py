"""The pure parts of the conversation: invite codes, throttling, chat state, button data."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.buttons import (
    Pick,
    ReviewChoice,
    decode_lang,
    decode_pick,
    decode_review,
    pick_button,
    review_button,
)
from bot.core.onboarding import (
    CODE_PATTERN,
    ThrottlePolicy,
    looks_like_code,
    new_invite_code,
    parse_expiry,
)
from bot.core.state import MAX_WAITING_REPLIES, Awaiting, ChatState, loads
from domain.calendar import ZONE

NOW = datetime(2024, 3, 15, 9, 0, tzinfo=ZONE)


def test_invite_codes_are_random_and_fit_a_telegram_deep_link() -> None:
    codes = {new_invite_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", code)
        assert CODE_PATTERN.fullmatch(code) and looks_like_code(code)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("xin chao", False), ("xong", False), ("hoanthanh", False), ("Xk3_9aB-2qLm", True),
     ("Xk3_9aB-2qLm thêm", False), ("a" * 65, False), ("đăngkýmãmời", False)],
)
def test_what_looks_like_a_code(text: str, expected: bool) -> None:
    assert looks_like_code(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7d", timedelta(days=7)), ("12h", timedelta(hours=12)), ("30m", timedelta(minutes=30)),
     ("2w", timedelta(weeks=2)), ("3", timedelta(days=3)), ("7 ngay", timedelta(days=7)),
     (" 48H ", timedelta(hours=48))],
)
def test_expiry_durations(text: str, expected: timedelta) -> None:
    assert parse_expiry(text) == expected


@pytest.mark.parametrize("text", ["", "0d", "-1d", "7x", "d7", "1.5d"])
def test_bad_expiry_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="thời hạn không hợp lệ"):
        parse_expiry(text)


@pytest.mark.parametrize(
    ("failures", "blocked_for"),
    [(1, None), (4, None), (5, timedelta(minutes=15)), (6, None), (9, None),
     (10, timedelta(minutes=30)), (15, timedelta(hours=1)), (40, timedelta(hours=24)),
     (500, timedelta(hours=24))],
)
def test_wrong_codes_block_for_longer_and_longer(failures: int,
                                                 blocked_for: timedelta | None) -> None:
    until = ThrottlePolicy().blocked_until(failures, NOW)
    assert (until - NOW if until else None) == blocked_for


def test_chat_state_round_trips_through_json() -> None:
    state = ChatState(Awaiting.PICK, NOW).with_reply("xong rồi", NOW)
    state = state.with_reply("kèm QĐ 12/QĐ-UBND", NOW + timedelta(minutes=1))
    again = loads(state.dumps())
    assert again == state
    assert [r.text for r in again.replies] == ["xong rồi", "kèm QĐ 12/QĐ-UBND"]
    asked = ChatState(Awaiting.REASON, NOW, 42, "2024-06-30")
    assert loads(asked.dumps()) == asked
    offered = ChatState(Awaiting.PICK, NOW, choices=((3, "2024-12-31"), (9, "")))
    assert loads(offered.dumps()) == offered


def test_a_chat_keeps_at_most_a_few_waiting_replies() -> None:
    state = ChatState(Awaiting.PICK, NOW)
    for i in range(MAX_WAITING_REPLIES + 5):
        state = state.with_reply(f"tin {i}", NOW)
    assert len(state.replies) == MAX_WAITING_REPLIES
    assert state.replies[-1].text == f"tin {MAX_WAITING_REPLIES + 4}"


_DANCE = (
    '{"awaiting": "dance", "since": "2024-03-15T09:00:00+07:00", "assignment_id": null, '
    '"occurrence": "", "replies": []}'
)
_NAIVE = (
    '{"awaiting": "pick", "since": "2024-03-15T09:00:00", "assignment_id": null, '
    '"occurrence": "", "replies": []}'
)


@pytest.mark.parametrize("stored", [None, "", "not json", "{}", "[]", _DANCE, _NAIVE])
def test_unreadable_state_is_no_state(stored: str | None) -> None:
    assert loads(stored) is None


def test_a_state_expires() -> None:
    state = ChatState(Awaiting.PERCENT, NOW, 1, "")
    ttl = timedelta(hours=24)
    assert not state.expired(NOW + ttl, ttl)
    assert state.expired(NOW + ttl + timedelta(seconds=1), ttl)
    assert not state.expired(NOW.astimezone(UTC) + timedelta(hours=1), ttl)


def test_button_data_round_trips_and_fits_64_bytes() -> None:
    pick = pick_button("NV 3", 123456789, "checkin-2024-03")
    assert decode_pick(pick.data) == Pick(123456789, "checkin-2024-03")
    assert decode_pick(pick_button("x", 7, "").data) == Pick(7, "")
    review = review_button("Xác nhận", 99, False)
    assert decode_review(review.data) == ReviewChoice(99, False)
    assert all(len(b.data.encode()) <= 64 for b in (pick, review))


@pytest.mark.parametrize(
    "data",
    ["k:1:2024-13-45x", "k:-1:2024-06-30", "k:1:abc", "k:1", "k::2024-06-30", "c:1:yes",
     "c:-1:y", "c:1:y:extra", "l:fr", "l:", "r:d:1:2024-06-30", "k:1:2024-06-30:9"],
)
def test_malformed_button_data_decodes_to_nothing(data: str) -> None:
    assert decode_pick(data) is None
    assert decode_review(data) is None
    assert decode_lang(data) is None
