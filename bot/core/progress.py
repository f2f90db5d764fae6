"""Recording what a focal point reports, and the coordinator's confirmation of a completion.

A reply becomes one ``progress_report`` row (its text kept as written, so nothing is lost), an
acknowledgement for the person, and notifications for the coordinators who must act:
- a completion, when ``require_confirmation``: "reported done", with confirm/return buttons;
- a difficulty (blocked) and an extension request: for information and decision.
Coordinators are those of the plan's coordinating agency when it has any, else every coordinator;
the sender's own chat is never notified, nor a chat known to be unreachable.
A second "done" on a task already reported done is kept as a note instead (a second pending
completion would ask the coordinator twice).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.core.buttons import review_button
from bot.core.messages import Buttons, Outgoing
from bot.core.task_list import report_text, task_label, task_name
from domain.agencies import Directory
from domain.calendar import local_date
from domain.digest import format_date, shorten
from domain.i18n import t
from domain.replies import Reply, ReplyKind, describe_reply
from storage.contacts import coordinators
from storage.models import Contact, ProgressKind, ProgressReport, Review
from storage.progress import AssignmentRef, completion_report, decide_review
from storage.repository import add_progress

NOTICE_TITLE = 100


@dataclass(frozen=True, slots=True)
class Reporter:
    """Who reports: the contact it is recorded for, and the chat the answer goes to."""

    contact: Contact
    channel: str
    chat_id: str
    lang: str


@dataclass(frozen=True, slots=True)
class Recorded:
    ack: str
    notifications: tuple[Outgoing, ...] = ()
    report: ProgressReport | None = None


def agency_name(directory: Directory, code: str) -> str:
    return directory.agencies[code].name if code in directory.agencies else code


def coordinators_for(
    session: Session, plan_coordinator: str | None, *, channel: str, chat_id: str
) -> list[Contact]:
    """The coordinators to tell about an assignment of a plan, other than the sender's chat."""
    everyone = [
        c
        for c in coordinators(session)
        if not c.unreachable and (c.channel, c.chat_id) != (channel, chat_id)
    ]
    own = [c for c in everyone if plan_coordinator and c.agency_code == plan_coordinator]
    chosen = own or everyone
    # One message per chat, even when a chat coordinates for two agencies.
    unique: dict[tuple[str, str], Contact] = {}
    for contact in chosen:
        unique.setdefault((contact.channel, contact.chat_id), contact)
    return list(unique.values())


def _already_text(done: ProgressReport, lang: str, require_confirmation: bool) -> str:
    day = format_date(local_date(done.reported_at))
    accepted = done.review == Review.CONFIRMED.value or (
        done.review is None and not require_confirmation
    )
    return t("chat.already.done" if accepted else "chat.already.pending", lang, date=day)


def completion_notice(report: ProgressReport, ref: AssignmentRef, agency: str, lang: str) -> str:
    return t(
        "chat.notify.done",
        lang,
        agency=agency,
        task=task_name(ref.task, lang),
        plan=ref.plan,
        title=shorten(ref.title, NOTICE_TITLE),
        text=report_text(report.kind, report.text, report.percent, lang),
    )


def _notice(
    kind: ReplyKind, report: ProgressReport, ref: AssignmentRef, agency: str, lang: str
) -> str:
    if kind is ReplyKind.DONE:
        return completion_notice(report, ref, agency, lang) + "\n" + t("chat.notify.ask", lang)
    common = {
        "agency": agency,
        "task": task_name(ref.task, lang),
        "plan": ref.plan,
        "title": shorten(ref.title, NOTICE_TITLE),
    }
    if kind is ReplyKind.BLOCKED:
        said = report.reason or report.text or t("chat.kind.blocked", lang)
        return t("chat.notify.blocked", lang, text=shorten(said, 300), **common)
    until = ""
    if report.requested_until is not None:
        until = t("chat.notify.until", lang, date=format_date(report.requested_until))
    said = report.text or t("chat.kind.extension", lang)
    return t("chat.notify.extension", lang, until=until, text=shorten(said, 300), **common)


def record_reply(
    session: Session,
    *,
    reporter: Reporter,
    ref: AssignmentRef,
    occurrence: str,
    reply: Reply,
    at: datetime,
    directory: Directory,
    require_confirmation: bool,
) -> Recorded:
    """Store ``reply`` on (assignment, occurrence); the acknowledgement and notifications."""
    lang = reporter.lang
    heading = task_label(ref.plan, ref.task, ref.title, lang)
    kind = reply.kind
    if kind is ReplyKind.DONE:
        done = completion_report(session, ref.assignment_id, occurrence if ref.is_series else None)
        if done is not None:
            already = _already_text(done, lang, require_confirmation)
            if not reply.text:
                return Recorded(f"{heading}\n{already}")
            note = add_progress(
                session,
                assignment_id=ref.assignment_id,
                occurrence=occurrence,
                kind=ProgressKind.NOTE,
                reported_at=at,
                text=reply.text,
                evidence=reply.evidence,
                contact_id=reporter.contact.id,
            )
            saved = t("chat.already.saved", lang)
            return Recorded(f"{heading}\n{already} {saved}", report=note)

    pending = kind is ReplyKind.DONE and require_confirmation
    report = add_progress(
        session,
        assignment_id=ref.assignment_id,
        occurrence=occurrence,
        kind=ProgressKind(kind.value),
        reported_at=at,
        percent=reply.percent,
        text=reply.text,
        evidence=reply.evidence,
        reason=reply.reason,
        requested_until=reply.requested_until,
        contact_id=reporter.contact.id,
        review=Review.PENDING if pending else None,
    )
    ack = f"{heading}\n{describe_reply(reply, lang)}"
    if pending:
        ack += "\n" + t("chat.ack.pending", lang)

    notifications: list[Outgoing] = []
    if pending or kind in (ReplyKind.BLOCKED, ReplyKind.EXTENSION):
        who = agency_name(directory, reporter.contact.agency_code)
        for coordinator in coordinators_for(
            session, ref.plan_coordinator, channel=reporter.channel, chat_id=reporter.chat_id
        ):
            their = coordinator.language
            buttons: Buttons = ()
            if pending and report.id is not None:
                buttons = (
                    (
                        review_button(t("chat.button.confirm", their), report.id, True),
                        review_button(t("chat.button.return", their), report.id, False),
                    ),
                )
            notifications.append(
                Outgoing(
                    channel=coordinator.channel,
                    chat_id=coordinator.chat_id,
                    text=_notice(kind, report, ref, who, their),
                    buttons=buttons,
                    notify=True,
                    contact_id=coordinator.id,
                )
            )
    return Recorded(ack, tuple(notifications), report)


@dataclass(frozen=True, slots=True)
class Reviewed:
    decided: bool  # False: someone had decided before (or the report is gone)
    text: str  # the coordinator's message, rewritten with the decision
    answer: str  # the short notice for the button press
    notifications: tuple[Outgoing, ...] = ()


def review_completion(
    session: Session,
    *,
    coordinator: Contact,
    report: ProgressReport,
    ref: AssignmentRef,
    confirm: bool,
    at: datetime,
    directory: Directory,
    lang: str,
) -> Reviewed:
    """Confirm or return a pending completion (first decision wins) and tell the reporter."""
    reporter = session.get(Contact, report.contact_id) if report.contact_id is not None else None
    who = agency_name(directory, reporter.agency_code if reporter else ref.agency_code)
    notice = completion_notice(report, ref, who, lang)
    decision = Review.CONFIRMED if confirm else Review.RETURNED
    if report.id is None or not decide_review(
        session, report.id, decision, at=at, by=coordinator.id
    ):
        session.refresh(report)
        return Reviewed(
            False,
            _with_decision(notice, report, session, directory, lang),
            t("chat.review.already", lang),
        )
    session.refresh(report)
    text = _with_decision(notice, report, session, directory, lang)
    answer = t(
        f"chat.review.{decision.value}",
        lang,
        who=_reviewer(coordinator, directory),
        date=format_date(local_date(at)),
    )
    notifications: list[Outgoing] = []
    if reporter is not None and reporter.active and not reporter.unreachable:
        notifications.append(
            Outgoing(
                channel=reporter.channel,
                chat_id=reporter.chat_id,
                text=t(
                    f"chat.review.to_agency.{decision.value}",
                    reporter.language,
                    task=task_name(ref.task, reporter.language),
                    plan=ref.plan,
                    title=shorten(ref.title, NOTICE_TITLE),
                ),
                notify=True,
                contact_id=reporter.id,
            )
        )
    return Reviewed(True, text, answer, tuple(notifications))


def _reviewer(contact: Contact | None, directory: Directory) -> str:
    if contact is None:
        return "—"
    agency = agency_name(directory, contact.agency_code)
    return f"{contact.display_name}, {agency}" if contact.display_name else agency


def _with_decision(
    notice: str, report: ProgressReport, session: Session, directory: Directory, lang: str
) -> str:
    if report.review not in (Review.CONFIRMED.value, Review.RETURNED.value):
        return notice
    by = session.get(Contact, report.reviewed_by) if report.reviewed_by is not None else None
    day = format_date(local_date(report.reviewed_at)) if report.reviewed_at else ""
    line = t(f"chat.review.{report.review}", lang, who=_reviewer(by, directory), date=day)
    return f"{notice}\n\n{line}"
