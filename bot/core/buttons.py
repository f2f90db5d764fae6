"""The conversation's own buttons, besides the reminders' ``r:`` ones (``domain.callbacks``).

Like those, they carry ids only (Telegram allows 64 bytes), and every id is checked again when
pressed, since a button's data can be forged:
- ``k:<assignment_id>:<occurrence>``: a task picked from a list ("which task?", /report);
- ``c:<report_id>:y`` / ``c:<report_id>:n``: a coordinator confirms or returns a completion;
- ``l:vi`` / ``l:en``: a language chosen with /lang.
"""

import re
from dataclasses import dataclass

from domain.callbacks import ReminderAction, ReminderCallback
from domain.delivery import Button

_PICK = re.compile(r"k:(\d{1,12}):([A-Za-z0-9-]{0,20})")
_REVIEW = re.compile(r"c:(\d{1,12}):([yn])")
_LANG = re.compile(r"l:(vi|en)")
# The occurrence keys the outbox and status lines use: "2024-12-31", "checkin-2024-03" or "".
OCCURRENCE = re.compile(r"(\d{4}-\d{2}-\d{2}|checkin-\d{4}-\d{2})?")


@dataclass(frozen=True, slots=True)
class Pick:
    assignment_id: int
    occurrence: str


@dataclass(frozen=True, slots=True)
class ReviewChoice:
    report_id: int
    confirm: bool


@dataclass(frozen=True, slots=True)
class LangChoice:
    lang: str


def pick_button(label: str, assignment_id: int, occurrence: str) -> Button:
    return Button(label, f"k:{assignment_id}:{occurrence}")


def review_button(label: str, report_id: int, confirm: bool) -> Button:
    return Button(label, f"c:{report_id}:{'y' if confirm else 'n'}")


def lang_button(label: str, lang: str) -> Button:
    return Button(label, f"l:{lang}")


def reminder_button(
    label: str, action: ReminderAction, assignment_id: int, occurrence: str
) -> Button:
    return Button(label, ReminderCallback(action, assignment_id, occurrence).encode())


def decode_pick(data: str) -> Pick | None:
    match = _PICK.fullmatch(data)
    if match is None or not OCCURRENCE.fullmatch(match.group(2)):
        return None
    return Pick(int(match.group(1)), match.group(2))


def decode_review(data: str) -> ReviewChoice | None:
    match = _REVIEW.fullmatch(data)
    return None if match is None else ReviewChoice(int(match.group(1)), match.group(2) == "y")


def decode_lang(data: str) -> LangChoice | None:
    match = _LANG.fullmatch(data)
    return None if match is None else LangChoice(match.group(1))
