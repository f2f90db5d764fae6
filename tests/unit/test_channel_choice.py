"""Choosing one person's channel: the Zalo interaction window, preferences, and nobody left."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from domain.channel_choice import (
    OUTSIDE_ZALO_WINDOW,
    InteractionWindow,
    choose_channel,
    unreachable_reason,
)

NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
SEVEN_DAYS = InteractionWindow()


@dataclass(frozen=True)
class Contact:
    name: str
    channel: str
    preference: int = 0
    last_interaction_at: datetime | None = None
    unreachable: bool = False
    active: bool = True


def zalo(silent: timedelta | None, preference: int = 0, unreachable: bool = False) -> Contact:
    last = None if silent is None else NOW - silent
    return Contact("zalo", "zalo", preference, last, unreachable=unreachable)


def telegram(preference: int = 1, unreachable: bool = False, active: bool = True) -> Contact:
    return Contact("telegram", "telegram", preference, unreachable=unreachable, active=active)


@pytest.mark.parametrize(
    ("contacts", "chosen"),
    [
        # The acceptance case: silent for 8 days on Zalo, so Telegram takes the reminder...
        ([zalo(timedelta(days=8)), telegram()], "telegram"),
        # ...or nobody does, and the caller reports the person unreachable.
        ([zalo(timedelta(days=8))], None),
        ([zalo(timedelta(days=2)), telegram()], "zalo"),
        ([zalo(timedelta(days=7)), telegram()], "zalo"),  # the window's last instant still counts
        ([zalo(timedelta(days=7, seconds=1)), telegram()], "telegram"),
        ([zalo(None), telegram()], "telegram"),  # never wrote to the OA: Zalo cannot start a chat
        ([telegram(preference=0), zalo(timedelta(hours=1), preference=1)], "telegram"),
        ([zalo(timedelta(hours=1), preference=5), telegram(preference=2)], "telegram"),
        ([zalo(timedelta(hours=1), unreachable=True), telegram()], "telegram"),
        ([zalo(timedelta(hours=1)), telegram(preference=0, active=False)], "zalo"),
        ([telegram(unreachable=True)], None),
        ([], None),
    ],
)
def test_the_first_contact_by_preference_that_can_take_the_message_is_chosen(
    contacts: list[Contact], chosen: str | None
) -> None:
    found = choose_channel(contacts, NOW, SEVEN_DAYS)

    assert (found.name if found else None) == chosen


def test_a_48_hour_window_keeps_zalo_messages_free_of_charge() -> None:
    free_only = InteractionWindow(limit=timedelta(hours=48))
    contacts = [zalo(timedelta(days=3)), telegram()]

    assert choose_channel(contacts, NOW, free_only) == contacts[1]
    assert choose_channel(contacts, NOW, SEVEN_DAYS) == contacts[0]


@pytest.mark.parametrize("limit", [timedelta(days=8), timedelta(0), timedelta(hours=-1)])
def test_a_window_beyond_what_zalo_allows_is_refused(limit: timedelta) -> None:
    with pytest.raises(ValueError, match="7 days"):
        InteractionWindow(limit=limit)


@pytest.mark.parametrize(
    ("silent", "free", "closing_within_a_day"),
    [
        (timedelta(hours=10), True, False),
        (timedelta(days=3), False, False),
        (timedelta(days=6, hours=2), False, True),
        (timedelta(days=8), False, False),  # already closed: a check-in could not be sent
    ],
)
def test_free_and_closing_parts_of_the_window(
    silent: timedelta, free: bool, closing_within_a_day: bool
) -> None:
    last = NOW - silent

    assert SEVEN_DAYS.is_free(last, NOW) is free
    assert SEVEN_DAYS.closes_within(last, NOW, timedelta(days=1)) is closing_within_a_day


@pytest.mark.parametrize(
    ("contacts", "reason"),
    [
        ([zalo(timedelta(days=8))], OUTSIDE_ZALO_WINDOW),
        ([zalo(timedelta(days=9)), telegram(unreachable=True)], OUTSIDE_ZALO_WINDOW),
        ([telegram(unreachable=True)], "không liên lạc được trên kênh nào đã đăng ký"),
        ([], "chưa đăng ký kênh nhận tin"),
    ],
)
def test_the_reason_nobody_can_be_reached_is_given_for_the_coordinator(
    contacts: list[Contact], reason: str
) -> None:
    assert choose_channel(contacts, NOW, SEVEN_DAYS) is None
    assert unreachable_reason(contacts, NOW, SEVEN_DAYS) == reason
