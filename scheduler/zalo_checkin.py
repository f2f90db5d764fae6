"""The Zalo check-in: a short invitation to reply, for those whose interaction window is closing.

A Zalo OA may write to a person only for a while after the person last wrote (see
``domain.channel_choice``). Someone who reads reminders without ever answering would drop out of
reach once the window closes; when ``zalo.weekly_checkin`` is on, a daily job finds the Zalo chats
whose window closes within ``checkin_before_hours`` and queues a notice asking for any reply. With
the 7-day window that is at most one check-in a week per silent person.

The notice is pinned to the Zalo chat (the dispatcher never carries it to the person's other
channel, where it would make no sense), and its key holds the last interaction, so each silence
gets one check-in however often the job runs.
"""

from datetime import datetime, timedelta

from sqlmodel import Session

from domain.channel_choice import InteractionWindow
from scheduler.dispatcher import ZALO_REPLY_HINT
from storage.reminder_queries import queue_notices
from storage.zalo_window import closing_soon

CHECKIN_NOTICE = {
    "vi": "Tài khoản Zalo của hệ thống nhắc việc chỉ gửi được tin nhắn cho anh/chị trong {span} "
    "kể từ tin nhắn gần nhất của anh/chị. ",
    "en": "The reminder service's Zalo account can only write to you for {span} after your last "
    "message. ",
}


def _span(limit: timedelta, lang: str) -> str:
    hours = int(limit.total_seconds() // 3600)
    if hours % 24 == 0:
        days = hours // 24
        return f"{days} ngày" if lang == "vi" else f"{days} day{'s' if days != 1 else ''}"
    return f"{hours} giờ" if lang == "vi" else f"{hours} hours"


def checkin_texts(window: InteractionWindow) -> dict[str, str]:
    """The notice's text in each language: why, then what to do."""
    return {
        lang: CHECKIN_NOTICE[lang].format(span=_span(window.limit, lang)) + ZALO_REPLY_HINT[lang]
        for lang in CHECKIN_NOTICE
    }


def queue_zalo_checkins(
    session: Session, *, now: datetime, window: InteractionWindow, before: timedelta
) -> int:
    """Queue a check-in for each Zalo chat whose window closes within ``before``; how many.

    The caller commits.
    """
    texts = checkin_texts(window)
    payload = {"kind": "zalo_checkin", "pinned": True, "text": texts["vi"], "text_en": texts["en"]}
    queued = 0
    for contact in closing_soon(session, now, window, before):
        if contact.id is None or contact.last_interaction_at is None:
            continue
        queued += queue_notices(
            session,
            key=f"zalo-checkin:{contact.last_interaction_at.isoformat()}",
            contact_ids=[contact.id],
            payload=payload,
            now=now,
        )
    return queued
