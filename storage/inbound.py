"""Every text a chat sent us, kept with what became of it (the ``inbound_message`` table).

Nothing a person writes may be lost. The conversation stores each incoming text before it reads
it, then records what the text became: a progress report, a command, an invite code, a message
held while the bot asks which task it is about ("pending"), or a message kept with no task to
attach it to ("unbound"), which coordinators list with /tinnhan. Texts from chats bound to no
contact are kept for audit only and never shown to anyone in a chat. Nothing here commits.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select, update

from storage.models import Contact, Disposition, InboundMessage, ProgressKind, ProgressReport

# A held message leaves "pending" once its question is dropped; one swept as stale is already
# "unbound" when its chat next writes, and the person must still be told it was kept.
_HELD = (Disposition.PENDING.value, Disposition.UNBOUND.value)


@dataclass(frozen=True, slots=True)
class KeptMessage:
    """An unbound message as a coordinator sees it."""

    id: int
    agency_code: str
    display_name: str
    text: str
    received_at: datetime


def record_message(
    session: Session,
    *,
    channel: str,
    chat_id: str,
    text: str,
    received_at: datetime,
    disposition: Disposition,
    user_id: str | None = None,
    contact_id: int | None = None,
) -> InboundMessage:
    """Store one incoming text (with its id assigned)."""
    row = InboundMessage(
        channel=channel,
        chat_id=chat_id,
        user_id=user_id,
        contact_id=contact_id,
        text=text,
        received_at=received_at,
        disposition=disposition.value,
    )
    session.add(row)
    session.flush()
    return row


def set_disposition(session: Session, message_id: int, disposition: Disposition) -> None:
    """What became of a message other than a report (a command, a join, held, unbound)."""
    row = session.get(InboundMessage, message_id)
    if row is not None:
        row.disposition = disposition.value
        session.flush()


def attach_report(session: Session, message_id: int, report: ProgressReport) -> None:
    """The message became ``report``: "note" for a note, else "report"; its contact is the
    report's (the one of the agency that answers for the task)."""
    row = session.get(InboundMessage, message_id)
    if row is None:
        return
    note = report.kind == ProgressKind.NOTE.value
    row.disposition = (Disposition.NOTE if note else Disposition.REPORT).value
    row.progress_report_id = report.id
    if report.contact_id is not None:
        row.contact_id = report.contact_id
    session.flush()


def abandon(session: Session, message_ids: Collection[int]) -> list[InboundMessage]:
    """Held messages whose question was dropped: marked unbound. The ones that became no report
    (those to tell the person about), oldest first."""
    if not message_ids:
        return []
    rows = list(
        session.exec(
            select(InboundMessage)
            .where(
                col(InboundMessage.id).in_(list(message_ids)),
                col(InboundMessage.disposition).in_(_HELD),
            )
            .order_by(col(InboundMessage.received_at), col(InboundMessage.id))
        )
    )
    for row in rows:
        row.disposition = Disposition.UNBOUND.value
    session.flush()
    return rows


def abandon_stale(session: Session, *, before: datetime) -> int:
    """Mark unbound the held messages of chats whose question is older than ``before``; how many.

    A chat's question is as old as its latest held message (each one renews it), so a chat with
    a held message received since ``before`` is still being asked and keeps all of its own.
    """
    newer = aliased(InboundMessage)
    still_asked = exists().where(
        col(newer.channel) == col(InboundMessage.channel),
        col(newer.chat_id) == col(InboundMessage.chat_id),
        col(newer.disposition) == Disposition.PENDING.value,
        col(newer.received_at) >= before,
    )
    result = session.exec(
        update(InboundMessage)
        .where(
            col(InboundMessage.disposition) == Disposition.PENDING.value,
            col(InboundMessage.received_at) < before,
            ~still_asked,
        )
        .values(disposition=Disposition.UNBOUND.value),
        execution_options={"synchronize_session": False},
    )
    changed = int(result.rowcount)
    if changed:
        for row in [o for o in session.identity_map.values() if isinstance(o, InboundMessage)]:
            session.expire(row)  # a loaded row must show its new disposition
    return changed


def prune_stranger_messages(session: Session, *, before: datetime, keep_per_chat: int) -> int:
    """Forget what strangers wrote: texts older than ``before``, and in each stranger chat all but
    its ``keep_per_chat`` newest; how many rows went.

    Strangers' texts are kept for audit only (an official who has not used an invite yet, or
    somebody who found the bot), so their table must not grow without bound: a chat that floods
    the bot keeps only its latest texts. Messages of bound chats are never pruned here.
    """
    stranger = col(InboundMessage.disposition) == Disposition.STRANGER.value
    ranked = (
        select(
            col(InboundMessage.id).label("id"),
            func.row_number()
            .over(
                partition_by=(col(InboundMessage.channel), col(InboundMessage.chat_id)),
                order_by=(col(InboundMessage.received_at).desc(), col(InboundMessage.id).desc()),
            )
            .label("rank"),
        )
        .where(stranger)
        .subquery()
    )
    surplus = select(ranked.c.id).where(ranked.c.rank > keep_per_chat)
    old = session.exec(
        delete(InboundMessage).where(stranger, col(InboundMessage.received_at) < before),
        execution_options={"synchronize_session": False},
    )
    extra = session.exec(
        delete(InboundMessage).where(col(InboundMessage.id).in_(surplus)),
        execution_options={"synchronize_session": False},
    )
    return int(old.rowcount) + int(extra.rowcount)


def unbound_messages(
    session: Session, *, since: datetime, limit: int
) -> tuple[list[KeptMessage], int]:
    """Messages of bound chats kept without a task since ``since``, newest first (at most
    ``limit``), and how many there are in all."""
    where = (
        col(InboundMessage.disposition) == Disposition.UNBOUND.value,
        col(InboundMessage.received_at) >= since,
    )
    total = session.exec(
        select(func.count())
        .select_from(InboundMessage)
        .join(Contact, col(Contact.id) == col(InboundMessage.contact_id))
        .where(*where)
    ).one()
    rows = session.exec(
        select(InboundMessage, Contact)
        .join(Contact, col(Contact.id) == col(InboundMessage.contact_id))
        .where(*where)
        .order_by(col(InboundMessage.received_at).desc(), col(InboundMessage.id).desc())
        .limit(limit)
    )
    kept = [
        KeptMessage(
            id=_id(message.id),
            agency_code=contact.agency_code,
            display_name=contact.display_name,
            text=message.text,
            received_at=message.received_at,
        )
        for message, contact in rows
    ]
    return kept, int(total)


def _id(value: int | None) -> int:
    if value is None:
        raise RuntimeError("row has no id")
    return value
