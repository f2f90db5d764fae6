"""The data behind a reminder's one-tap buttons, shared by the dispatcher and the conversation core.

Telegram gives a button at most 64 bytes of callback data and sends it back verbatim when pressed,
so the data names the item by ids only: ``r:<action>:<assignment_id>:<occurrence>``, for example
``r:d:42:2023-12-31`` ("done" for assignment 42, occurrence 31/12/2023). The occurrence is the
outbox's occurrence key ("2023-12-31", "checkin-2024-03", or "" for an undated task); it is the last
field, so it may itself hold colons. Anything else decodes to None: a button from an older release
or a forged payload is ignored, never guessed at.
"""

from dataclasses import dataclass
from enum import StrEnum

PREFIX = "r"
MAX_BYTES = 64


class ReminderAction(StrEnum):
    DONE = "d"
    IN_PROGRESS = "p"
    BLOCKED = "b"
    UPDATE_PERCENT = "u"


@dataclass(frozen=True, slots=True)
class ReminderCallback:
    action: ReminderAction
    assignment_id: int
    occurrence: str

    def encode(self) -> str:
        """The callback data; ValueError when it would not fit in Telegram's 64 bytes."""
        if self.assignment_id < 0:
            raise ValueError(f"assignment id must not be negative: {self.assignment_id}")
        data = f"{PREFIX}:{self.action.value}:{self.assignment_id}:{self.occurrence}"
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data longer than {MAX_BYTES} bytes: {data!r}")
        return data


def decode(data: str) -> ReminderCallback | None:
    """The button a callback came from, or None when `data` is not a reminder button's."""
    if len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":", 3)
    if len(parts) != 4 or parts[0] != PREFIX:
        return None
    _, action, assignment, occurrence = parts
    if not assignment.isascii() or not assignment.isdigit():
        return None
    try:
        kind = ReminderAction(action)
    except ValueError:
        return None
    return ReminderCallback(kind, int(assignment), occurrence)
