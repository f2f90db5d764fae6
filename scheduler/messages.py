"""One recipient's due rows as chat messages: digest text, coordinator notices, one-tap buttons.

``domain.digest.render_digest`` words the digest and splits it under the channel's limit; the
dispatcher also needs to know which rows ended up in which part, so that a part that went out
marks exactly its rows sent, and so that each part carries the buttons of its own items. Items are
numbered across parts in the order the digest shows them; that order is learnt from the digest
itself (rendered once with a marker in place of each title, titles being no part of the order)
rather than copied here, so the two can never disagree.

Coordinator notices (a contact that cannot be reached, ...) are plain texts: they ride at the end
of the recipient's digest when they fit, else as their own message. A notice with buttons (a
completion to confirm or return, relayed from the conversation) comes after them, alone in its
message: pressing one of its buttons rewrites that message with the decision, which must
neither wipe a digest nor leave another report's buttons acting on a message that no longer shows
it.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from domain.callbacks import ReminderAction, ReminderCallback
from domain.delivery import Button
from domain.digest import DigestItem, render_digest

MAX_BUTTON_ROWS = 20  # Telegram allows 100 buttons per message; four per item
_UNLIMITED = 1 << 30
_MARK = re.compile("\ue000(\\d+)\ue001")
_ITEM_NUMBER = re.compile(r"^(\d+)\. ", re.MULTILINE)

BUTTON_LABELS: dict[str, dict[ReminderAction, str]] = {
    "vi": {
        ReminderAction.DONE: "Đã xong",
        ReminderAction.IN_PROGRESS: "Đang làm",
        ReminderAction.BLOCKED: "Vướng mắc",
        ReminderAction.UPDATE_PERCENT: "Cập nhật %",
    },
    "en": {
        ReminderAction.DONE: "Done",
        ReminderAction.IN_PROGRESS: "In progress",
        ReminderAction.BLOCKED: "Blocked",
        ReminderAction.UPDATE_PERCENT: "Update %",
    },
}


@dataclass(frozen=True, slots=True)
class Line:
    """A reminder row shown as one digest item."""

    row_id: int
    item: DigestItem
    assignment_id: int
    occurrence: str
    actionable: bool  # the recipient answers for it: it gets buttons


@dataclass(frozen=True, slots=True)
class Notice:
    row_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()  # a notice with buttons is a message of its own


@dataclass(frozen=True, slots=True)
class Part:
    text: str
    row_ids: tuple[int, ...]  # the rows this message delivers
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Composed:
    parts: tuple[Part, ...]
    items: tuple[tuple[int, str], ...]  # (assignment, occurrence) of the digest items, as numbered


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def shown_order(items: Sequence[DigestItem], *, today: date, lang: str) -> list[int]:
    """Indexes of ``items`` in the order ``render_digest`` numbers them."""
    marked = [replace(item, title=f"\ue000{i}\ue001") for i, item in enumerate(items)]
    texts = render_digest(marked, today=today, lang=lang, agency_name="", limit=_UNLIMITED)
    order = [int(found) for text in texts for found in _MARK.findall(text)]
    if sorted(order) != list(range(len(items))):
        raise RuntimeError("the digest did not show every item exactly once")
    return order


def _buttons(numbered: Sequence[tuple[int, Line]], lang: str) -> tuple[tuple[Button, ...], ...]:
    labels = BUTTON_LABELS.get(lang, BUTTON_LABELS["vi"])
    rows: list[tuple[Button, ...]] = []
    for number, line in numbered:
        if not line.actionable or len(rows) == MAX_BUTTON_ROWS:
            continue
        rows.append(
            tuple(
                Button(
                    f"{number}. {labels[action]}",
                    ReminderCallback(action, line.assignment_id, line.occurrence).encode(),
                )
                for action in ReminderAction
            )
        )
    return tuple(rows)


def _digest_parts(
    lines: Sequence[Line], *, today: date, lang: str, agency_name: str, limit: int
) -> tuple[list[Part], tuple[tuple[int, str], ...]]:
    items = [line.item for line in lines]
    ordered = [lines[i] for i in shown_order(items, today=today, lang=lang)]
    texts = render_digest(items, today=today, lang=lang, agency_name=agency_name, limit=limit)
    numbers = [[int(n) for n in _ITEM_NUMBER.findall(text)] for text in texts]
    shown = tuple((line.assignment_id, line.occurrence) for line in ordered)
    if sorted(n for found in numbers for n in found) != list(range(1, len(ordered) + 1)):
        # The wording changed in a way we cannot read back: deliver all rows with the last part,
        # so none is marked sent before the whole digest went out.
        every = tuple(line.row_id for line in ordered)
        parts = [Part(text, every if k == len(texts) - 1 else ()) for k, text in enumerate(texts)]
        return parts, shown
    parts = []
    for text, found in zip(texts, numbers, strict=True):
        numbered = [(n, ordered[n - 1]) for n in found]
        parts.append(
            Part(text, tuple(line.row_id for _, line in numbered), _buttons(numbered, lang))
        )
    return parts, shown


def compose(
    lines: Sequence[Line],
    notices: Sequence[Notice],
    *,
    today: date,
    lang: str,
    agency_name: str,
    limit: int,
) -> Composed:
    """The messages for one recipient: the digest (if any line), then the notices."""
    parts: list[Part] = []
    items: tuple[tuple[int, str], ...] = ()
    if lines:
        parts, items = _digest_parts(
            lines, today=today, lang=lang, agency_name=agency_name, limit=limit
        )
    # Notices with buttons come last, each a message of its own: nothing can join them.
    for notice in sorted(notices, key=lambda n: bool(n.buttons)):
        last = parts[-1] if parts and not notice.buttons else None
        if last is not None and utf16_length(f"{last.text}\n\n{notice.text}") <= limit:
            parts[-1] = replace(
                last, text=f"{last.text}\n\n{notice.text}", row_ids=(*last.row_ids, notice.row_id)
            )
        else:
            parts.append(Part(notice.text, (notice.row_id,), notice.buttons))
    return Composed(tuple(parts), items)
