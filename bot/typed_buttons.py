"""What a chat without buttons (Zalo) shows in place of a message's buttons.

- A task picker's buttons become numbered lines, which the core takes back as a number ("which
  task?": "2").
- A coordinator's confirm/return buttons become the command that does the same for that very
  report, "/xacnhan <n>" (n: the report's id), so that a typed answer cannot act on another report
  whatever else the chat received in between.
- A reminder's one-tap answers need nothing: the text already says what to reply.

``relay_payload`` is a conversation message as the outbox keeps it (``storage.outbox.chat_notice``):
its buttons for a chat that has them, the typed equivalent for one that has not; the dispatcher
picks one or the other once it knows which of the person's chats carries the notice.
``queue_relay`` puts such a message in the outbox for its recipient: what the chat adapters do
with an answer meant for another chat than the one they are answering.
"""

import logging
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core.buttons import decode_pick, decode_review
from bot.core.messages import Buttons, Outgoing
from domain.i18n import DEFAULT_LANG, t
from storage.contacts import chat_contacts
from storage.models import Contact
from storage.outbox import chat_notice
from storage.reminder_queries import queue_notices

log = logging.getLogger(__name__)


def pick_lines(buttons: Buttons) -> list[str]:
    """The task picker's buttons among ``buttons``, as lines (their labels are numbered)."""
    return [b.label for row in buttons for b in row if decode_pick(b.data) is not None]


def review_hint(buttons: Buttons, lang: str) -> str:
    """The commands that do what the confirm/return buttons among ``buttons`` do; "" if none."""
    reports = dict.fromkeys(
        choice.report_id
        for row in buttons
        for b in row
        if (choice := decode_review(b.data)) is not None
    )
    return "\n".join(t("chat.review.typed", lang, id=report) for report in reports)


def has_review(buttons: Buttons) -> bool:
    return any(decode_review(b.data) is not None for row in buttons for b in row)


def relay_payload(session: Session, item: Outgoing, contact_id: int) -> dict[str, Any]:
    """``item`` as an outbox notice for ``contact_id``: its text, its buttons, and what to type
    instead, in the recipient's language."""
    hint = ""
    if has_review(item.buttons):
        contact = session.get(Contact, contact_id)
        hint = review_hint(item.buttons, contact.language if contact else DEFAULT_LANG)
    return chat_notice(item.text, item.buttons, hint)


def recipients(session: Session, item: Outgoing) -> list[int]:
    """The contacts ``item`` is for: its own, or those of its chat."""
    if item.contact_id is not None:
        return [item.contact_id]
    found = chat_contacts(session, item.channel, item.chat_id)
    return [c.id for c in found if c.id is not None]


def queue_relay(session: Session, item: Outgoing, key: str, now: datetime) -> int:
    """Queue ``item`` as an outbox notice for its recipient (its contact, or the first contact
    of its chat), once per ``key``; how many were queued (0 when nobody is there). No commit."""
    ids = recipients(session, item)
    if not ids:
        log.warning("no contact for %s chat %s: dropped", item.channel, item.chat_id)
        return 0
    return queue_notices(
        session,
        key=f"chat:{key}" if key else f"chat:{now.isoformat()}",
        contact_ids=ids[:1],
        payload=relay_payload(session, item, ids[0]),
        now=now,
    )
