"""Reminder buttons' callback data: ids only, within Telegram's 64 bytes, read back exactly."""

import pytest

from domain.callbacks import ReminderAction, ReminderCallback, decode


@pytest.mark.parametrize(
    ("callback", "data"),
    [
        (ReminderCallback(ReminderAction.DONE, 42, "2023-12-31"), "r:d:42:2023-12-31"),
        (
            ReminderCallback(ReminderAction.IN_PROGRESS, 7, "checkin-2024-03"),
            "r:p:7:checkin-2024-03",
        ),
        (ReminderCallback(ReminderAction.BLOCKED, 1, ""), "r:b:1:"),
        (ReminderCallback(ReminderAction.UPDATE_PERCENT, 99, "a:b"), "r:u:99:a:b"),
    ],
)
def test_encode_and_decode_round_trip(callback: ReminderCallback, data: str) -> None:
    assert callback.encode() == data
    assert decode(data) == callback


@pytest.mark.parametrize(
    "data",
    ["", "r", "r:d:42", "x:d:42:2023-12-31", "r:z:42:2023-12-31", "r:d:-4:2023-12-31",
     "r:d:4a:2023-12-31", "r:d:٤٢:2023-12-31", "r:d:1:" + "x" * 60, "lang:en"],
)  # fmt: skip
def test_anything_else_decodes_to_none(data: str) -> None:
    assert decode(data) is None


def test_data_longer_than_64_bytes_is_refused() -> None:
    longest = ReminderCallback(ReminderAction.DONE, 10**12, "checkin-2024-03")
    assert len(longest.encode().encode()) <= 64
    with pytest.raises(ValueError, match="64 bytes"):
        ReminderCallback(ReminderAction.DONE, 1, "ư" * 30).encode()
    with pytest.raises(ValueError, match="negative"):
        ReminderCallback(ReminderAction.DONE, -1, "").encode()
