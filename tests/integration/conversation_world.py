"""A small province for conversation tests: one plan, four agencies, contacts bound by code.

Sở Tài chính (STC) leads task 1 (due 30/6/2024) and supports task 2 (Sở Nội vụ's, due
31/12/2024); Sở Tư pháp (STP) leads task 3 alone (due 31/12/2023, overdue in March 2024);
Sở Kế hoạch và Đầu tư (SKHDT, merged into STC on 1/3/2025) leads task 4 (mid 2025). The plan's
coordinator is Sở Nội vụ (SNV). "Today" is Friday 15/3/2024, 9:00 in Viet Nam.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.bootstrap import read_directory
from bot.core.conversation import Conversation, Settings
from bot.core.messages import Incoming, Outgoing
from domain.agencies import Directory
from domain.calendar import ZONE, WorkingCalendar
from domain.deadlines import Deadline, DeadlineKind
from domain.plan_import import AssignmentDraft, PlanDraft, Role, TaskDraft
from storage import repository
from storage.contacts import bind_contact
from storage.models import Assignment, ContactRole, ProgressReport, SentMessage, Task

NOW = datetime(2024, 3, 15, 9, 0, tzinfo=ZONE)
PLAN = "289/KH-UBND"
CALENDAR = WorkingCalendar()

FOCAL_STC = "100"  # Telegram chat ids
COORDINATOR = "900"
FOCAL_STP = "300"


@cache
def directory() -> Directory:
    return read_directory("")


def _task(number: str, title: str, due: date, *assignments: AssignmentDraft) -> TaskDraft:
    deadline = Deadline(DeadlineKind.FIXED, f"Trước ngày {due:%d/%m/%Y}", due=due)
    return TaskDraft(number, title, deadline, assignments)


PLAN_DRAFT = PlanDraft(
    number=PLAN,
    issued_on=date(2023, 4, 26),
    issuer="UBND tỉnh Nghệ An",
    title="Kế hoạch thực hiện Nghị quyết số 18-NQ/TW",
    source="test",
    coordinator="SNV",
    tasks=(
        _task("1", "Rà soát quy định về quản lý tài chính", date(2024, 6, 30),
              AssignmentDraft("STC", Role.LEAD)),
        _task("2", "Sắp xếp tổ chức bộ máy các cơ quan chuyên môn", date(2024, 12, 31),
              AssignmentDraft("SNV", Role.LEAD), AssignmentDraft("STC", Role.SUPPORT)),
        _task("3", "Rà soát văn bản quy phạm pháp luật", date(2023, 12, 31),
              AssignmentDraft("STP", Role.LEAD)),
        _task("4", "Xây dựng kế hoạch đầu tư công trung hạn", date(2025, 6, 30),
              AssignmentDraft("SKHDT", Role.LEAD)),
    ),
)


@dataclass
class World:
    engine: Engine
    conversation: Conversation
    now: datetime = NOW
    _ids: int = field(default=1000)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def say(self, chat: str, text: str, *, reply_to: str | None = None,
            at: datetime | None = None, channel: str = "telegram") -> list[Outgoing]:
        self._ids += 1
        return self.conversation.handle(
            Incoming(channel=channel, chat_id=chat, at=at or self.now, text=text,
                     user_id=chat, message_id=str(self._ids), reply_to_message_id=reply_to)
        )

    def press(self, chat: str, data: str, *, message_id: str = "77",
              at: datetime | None = None) -> list[Outgoing]:
        return self.conversation.handle(
            Incoming(channel="telegram", chat_id=chat, at=at or self.now, user_id=chat,
                     message_id=message_id, callback_data=data)
        )

    def assignment(self, task: str, agency: str) -> int:
        with self.session() as session:
            found = session.exec(
                select(Assignment.id)
                .join(Task, col(Task.id) == col(Assignment.task_id))
                .where(Task.number == task, Assignment.agency_code == agency)
            ).one()
        assert found is not None
        return found

    def reports(self) -> list[ProgressReport]:
        with self.session() as session:
            return list(session.exec(select(ProgressReport).order_by(col(ProgressReport.id))))

    def bind(self, chat: str, agency: str, role: ContactRole, channel: str = "telegram") -> int:
        with self.session() as session:
            contact = bind_contact(session, agency_code=agency, role=role, channel=channel,
                                   chat_id=chat, now=self.now - timedelta(days=30))
            session.commit()
            assert contact.id is not None
            return contact.id

    def digest(self, chat: str, message_id: str, *items: tuple[int, str]) -> None:
        """Record a digest message as the dispatcher does, carrying ``items``."""
        with self.session() as session:
            session.add(SentMessage(channel="telegram", chat_id=chat, message_id=message_id,
                                    items=[list(item) for item in items],
                                    sent_at=self.now - timedelta(hours=1)))
            session.commit()


def make_world(engine: Engine, settings: Settings | None = None) -> World:
    with Session(engine) as session:
        repository.save_plan(session, PLAN_DRAFT, NOW - timedelta(days=300))
        session.commit()
    conversation = Conversation(
        lambda: Session(engine, expire_on_commit=False), directory(), CALENDAR, settings
    )
    world = World(engine, conversation)
    world.bind(FOCAL_STC, "STC", ContactRole.FOCAL)
    world.bind(COORDINATOR, "SNV", ContactRole.COORDINATOR)
    world.bind(FOCAL_STP, "STP", ContactRole.FOCAL)
    return world


def texts(out: list[Outgoing]) -> str:
    """Everything the outgoing list says, for assertions."""
    return "\n".join(o.text or o.answer_callback or "" for o in out)


def buttons(out: Outgoing) -> list[str]:
    return [button.data for row in out.buttons for button in row]
