"""A synthetic province (or country) for the benchmarks, loaded straight into SQLite or PostgreSQL.

``build(Spec(...))`` makes, in memory and deterministically from a seed:

- a ``Directory`` of N agencies: provincial departments (a third of a province, fewer in a larger
  world), mass organisations, and communes; groups the way plans name them ("Các sở, ban, ngành",
  "UBND các xã", the communes of one former district, of one region, "các tổ chức đoàn thể");
  a few departments merged into others on 1/3/2025, as in the 2025 reform;
- M plans of K tasks, each with a deadline cell read by the real parser
  (``domain.deadlines.parse_deadline``) from a realistic mix: fixed dates, period ends, yearly,
  half-yearly, quarterly and monthly series, ranges, continuous tasks, conditional ones;
  each task has one lead department and supporting agencies named one by one or as a group, so
  the plans expand to (close to) the wanted number of assignments;
- contacts: one or two focal points per agency, on Telegram or Zalo, some people on both (one
  ``person_key``, Telegram preferred); heads for a third of the agencies; two coordinators at the
  coordinating department (the plans' ``coordinator``);
- optionally progress reports on a share of the assignments (done, percentages, blocked, ...).

``load(engine, world)`` writes it with Core ``executemany`` inserts (no ORM objects: a country is
a million assignments), into a database migrated to the current schema.

    .venv/bin/python bench/synthetic.py --db sqlite:///tmp/country.db --agencies 10000 \\
        --plans 200 --tasks 25 --assignments 100000 [--reports 0.3]
"""

import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from sqlalchemy import Engine, insert, select

from domain.agencies import Agency, AgencyLevel, Directory, Group
from domain.calendar import ZONE
from domain.deadlines import Deadline, DeadlineKind, parse_deadline
from domain.plan_import import AssignmentDraft, PlanDraft, Role, TaskDraft
from domain.reminders import AssignmentView
from storage.engine import make_engine
from storage.mapping import agency_row, deadline_columns, group_row
from storage.migrate import upgrade
from storage.models import (
    AgencyRow,
    Assignment,
    Contact,
    GroupMember,
    GroupRow,
    Plan,
    ProgressReport,
    Task,
)

NOW = datetime(2026, 12, 10, 7, 0, tzinfo=ZONE)  # a busy moment: year-end deadlines are near
COORDINATOR = "S0000"  # the first department, "Sở Nội vụ" in a real province
CHUNK = 20_000  # rows per executemany

_SYLLABLES = (
    "An", "Bình", "Châu", "Diễn", "Đông", "Hòa", "Hưng", "Kim", "Lạc", "Minh", "Nam", "Phú",
    "Quang", "Sơn", "Tân", "Thanh", "Thịnh", "Trung", "Vĩnh", "Xuân", "Yên", "Hồng", "Long",
    "Nghĩa", "Phúc", "Quỳnh", "Thái", "Đức", "Hải", "Cẩm",
)  # fmt: skip
_DEPARTMENTS = (
    "Nội vụ", "Tài chính", "Tư pháp", "Công Thương", "Nông nghiệp và Môi trường", "Xây dựng",
    "Khoa học và Công nghệ", "Giáo dục và Đào tạo", "Y tế", "Văn hóa, Thể thao và Du lịch",
    "Dân tộc và Tôn giáo", "Ngoại vụ", "Kế hoạch và Đầu tư", "Giao thông vận tải",
    "Thông tin và Truyền thông",
)  # fmt: skip
_ORGANISATIONS = (
    "Hội Nông dân", "Hội Liên hiệp Phụ nữ", "Liên đoàn Lao động", "Hội Cựu chiến binh",
    "Tỉnh đoàn", "Liên minh Hợp tác xã", "Hội Chữ thập đỏ",
)  # fmt: skip
# (weight, deadline cell); "{y}" is the plan's year, "{n}" the next one.
_DEADLINES: tuple[tuple[float, str], ...] = (
    (0.07, "Trước ngày 15/12/{y}"),
    (0.05, "Trước ngày 30/11/{y}"),
    (0.05, "Trước ngày 31/3/{n}"),
    (0.05, "Tháng 6/{n}"),
    (0.09, "Năm {y}"),
    (0.06, "Quý IV/{y}"),
    (0.04, "Quý I/{n}"),
    (0.03, "Quý III/{y}"),
    (0.04, "Trước ngày 15/12 hằng năm"),
    (0.04, "Năm {y} và những năm tiếp theo"),
    (0.03, "Định kỳ 6 tháng"),
    (0.06, "Hằng quý"),
    (0.03, "Trước ngày 20 hằng tháng"),
    (0.03, "Từ tháng 6 đến tháng 12/{y}"),
    (0.03, "Giai đoạn {y}-{n}"),
    (0.16, "Thường xuyên"),
    (0.06, "Năm {y}, sau khi có hướng dẫn của Bộ"),
    (0.04, "Sau khi Trung ương ban hành hướng dẫn"),
)
_TITLES = (
    "Rà soát, sửa đổi, bổ sung các quy định thuộc lĩnh vực quản lý",
    "Tổ chức tuyên truyền, phổ biến nội dung Kế hoạch đến cán bộ, công chức",
    "Xây dựng cơ sở dữ liệu và kết nối với hệ thống thông tin của tỉnh",
    "Kiểm tra, đôn đốc việc thực hiện tại cơ quan, đơn vị và địa phương",
    "Báo cáo kết quả thực hiện gửi Sở Nội vụ để tổng hợp",
    "Bố trí kinh phí thực hiện theo quy định",
)


@dataclass(frozen=True)
class Spec:
    agencies: int = 150
    plans: int = 20
    tasks_per_plan: int = 25
    assignments: int = 10_000  # aimed at; the world says how many it has
    group_share: float = 0.4  # tasks whose supporting agencies are named as a group
    reports: float = 0.0  # share of assignments with progress reports
    seed: int = 2026


@dataclass
class World:
    spec: Spec
    directory: Directory
    plans: list[PlanDraft]
    contacts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def assignments(self) -> int:
        return sum(len(task.assignments) for plan in self.plans for task in plan.tasks)

    @property
    def tasks(self) -> int:
        return sum(len(plan.tasks) for plan in self.plans)

    def views(self) -> list[AssignmentView]:
        """The planner's input, ids numbered in the order ``load`` inserts the assignments."""
        found: list[AssignmentView] = []
        next_id = 1
        for plan in self.plans:
            for task in plan.tasks:
                for assignment in task.assignments:
                    found.append(
                        AssignmentView(
                            assignment_id=next_id,
                            agency=assignment.agency,
                            role=assignment.role,
                            plan=plan.number,
                            task=task.number,
                            title=task.title,
                            deadline=task.deadline,
                            plan_date=plan.issued_on,
                        )
                    )
                    next_id += 1
        return found

    def plan_of(self) -> dict[int, str]:
        out: dict[int, str] = {}
        next_id = 1
        for plan in self.plans:
            for task in plan.tasks:
                for _ in task.assignments:
                    out[next_id] = plan.number
                    next_id += 1
        return out


# --- the directory ------------------------------------------------------------------------------


def _place(i: int) -> str:
    n = len(_SYLLABLES)
    name = f"{_SYLLABLES[i % n]} {_SYLLABLES[(i // n) % n]}"
    return name if i < n * n else f"{name} {i // (n * n) + 1}"


def directory(agencies: int) -> Directory:
    provincial = max(3, min(round(0.3 * agencies), 40 + round(0.04 * agencies)))
    organisations = max(1, round(0.03 * agencies))
    communes = max(1, agencies - provincial - organisations)
    found: list[Agency] = []
    departments: list[str] = []
    for i in range(provincial):
        base = _DEPARTMENTS[i % len(_DEPARTMENTS)]
        name = f"Sở {base}" if i < len(_DEPARTMENTS) else f"Sở {base} khu vực {i // 15 + 1}"
        code = f"S{i:04d}"
        departments.append(code)
        found.append(Agency(code, name, AgencyLevel.PROVINCE))
    # The 2025 reform: one department in twenty merged into the one before it.
    merged: set[str] = set()
    for i in range(13, provincial, 20):
        old = found[i]
        found[i] = Agency(
            old.code, old.name, old.level, valid_until=date(2025, 2, 28), successor=f"S{i - 1:04d}"
        )
        merged.add(old.code)
    for i in range(organisations):
        base = _ORGANISATIONS[i % len(_ORGANISATIONS)]
        name = f"{base} tỉnh" if i < len(_ORGANISATIONS) else f"{base} cơ sở {i}"
        found.append(Agency(f"T{i:04d}", name, AgencyLevel.OTHER))
    commune_codes = [f"X{i:05d}" for i in range(communes)]
    found += [
        Agency(code, f"UBND xã {_place(i)}", AgencyLevel.COMMUNE)
        for i, code in enumerate(commune_codes)
    ]
    groups = [
        Group(
            "SO-BAN-NGANH",
            "Các sở, ban, ngành cấp tỉnh",
            members=tuple(c for c in departments if c not in merged),
        ),
        Group("UBND-XA", "UBND các xã, phường", members=tuple(commune_codes)),
        Group(
            "DOAN-THE",
            "Các tổ chức chính trị - xã hội",
            members=tuple(f"T{i:04d}" for i in range(organisations)),
        ),
    ]
    # Former districts (about 15 communes each) and regions (about 200) as groups of communes.
    for size, head, label in ((15, "HUYEN", "huyện"), (200, "VUNG", "vùng")):
        for k, start in enumerate(range(0, communes, size)):
            members = tuple(commune_codes[start : start + size])
            if len(members) > 1:
                groups.append(
                    Group(f"{head}-{k:04d}", f"Các xã thuộc {label} {_place(k + 7)}", (), members)
                )
    return Directory(found, groups)


# --- plans ----------------------------------------------------------------------------------------


@cache
def _deadline(cell: str, year: int) -> Deadline:
    deadline = parse_deadline(cell, default_year=year)
    if deadline.kind is DeadlineKind.UNKNOWN:
        raise ValueError(f"the synthetic deadline {cell!r} is not understood by the parser")
    return deadline


def _cell(rng: random.Random, year: int) -> str:
    weights = [w for w, _ in _DEADLINES]
    template = rng.choices([c for _, c in _DEADLINES], weights)[0]
    return template.format(y=year, n=year + 1)


def _widths(rng: random.Random, spec: Spec, groups: Sequence[Group]) -> Iterator[Group | int]:
    """Per task: a group its supporting agencies come from, or a number of agencies named one by
    one; the group sizes follow what is left of the wanted assignments, so the total lands near
    it."""
    sizes = sorted(groups, key=lambda g: len(g.members))
    total = spec.plans * spec.tasks_per_plan
    used = 0
    for done in range(total):
        left = max(1, total - done)
        wanted = (spec.assignments - used) / left  # average still needed per task
        individual = rng.randint(1, 5)
        share = spec.group_share
        if wanted <= 3.0 or not sizes:
            choice: Group | int = min(individual, max(1, round(wanted * 2)))
        elif rng.random() < share:
            aim = max(1.0, (wanted - 3.0 * (1 - share)) / share - 1) * rng.uniform(0.6, 1.4)
            choice = min(sizes, key=lambda g: abs(len(g.members) - aim))
        else:
            choice = individual
        used += 1 + (len(choice.members) if isinstance(choice, Group) else choice - 1)
        yield choice


def plans(spec: Spec, where: Directory, rng: random.Random) -> list[PlanDraft]:
    departments = list(where.groups["SO-BAN-NGANH"].members)
    everyone = list(where.agencies)
    shapes = _widths(rng, spec, list(where.groups.values()))
    found: list[PlanDraft] = []
    for p in range(spec.plans):
        issued = date(2025, 1, 6) + timedelta(days=(p * 37) % 600)
        tasks: list[TaskDraft] = []
        for k in range(spec.tasks_per_plan):
            cell = _cell(rng, issued.year)
            lead = rng.choice(departments)
            shape = next(shapes)
            drafts = [AssignmentDraft(lead, Role.LEAD)]
            if isinstance(shape, Group):
                support_text = shape.name
                drafts += [
                    AssignmentDraft(code, Role.SUPPORT, shape.code)
                    for code in shape.members
                    if code != lead
                ]
            else:
                named = rng.sample(everyone, min(len(everyone), shape - 1))
                drafts += [AssignmentDraft(code, Role.SUPPORT) for code in named if code != lead]
                support_text = ", ".join(where.display_name(c) for c in named[:3])
            tasks.append(
                TaskDraft(
                    number=str(k + 1),
                    title=f"{rng.choice(_TITLES)} (nhiệm vụ {k + 1})",
                    deadline=_deadline(cell, issued.year),
                    assignments=tuple(drafts),
                    lead_text=where.display_name(lead),
                    support_text=support_text,
                )
            )
        found.append(
            PlanDraft(
                number=f"{100 + p}/KH-UBND",
                issued_on=issued,
                issuer="Ủy ban nhân dân tỉnh",
                title=f"Kế hoạch thử tải số {p + 1}",
                source="bench/synthetic.py",
                coordinator=COORDINATOR,
                tasks=tuple(tasks),
            )
        )
    return found


# --- contacts -------------------------------------------------------------------------------------


def contacts(where: Directory, rng: random.Random) -> list[dict[str, Any]]:
    """Contact rows: focal points on Telegram (60 %), Zalo (30 %) or both (10 %, one person_key)."""
    rows: list[dict[str, Any]] = []
    telegram_id, zalo_id = 10_000_000, 0

    def add(agency: str, channel: str, role: str, **extra: Any) -> None:
        nonlocal telegram_id, zalo_id
        if channel == "telegram":
            telegram_id += 1
            chat = str(telegram_id)
        else:
            zalo_id += 1
            chat = str(4_000_000_000_000_000_000 + zalo_id)  # Zalo ids overflow 64 bits
        rows.append(
            {
                "agency_code": agency,
                "channel": channel,
                "chat_id": chat,
                "user_id": chat,
                "display_name": f"Cán bộ {len(rows) + 1}",
                "role": role,
                "language": "en" if rng.random() < 0.1 else "vi",
                "person_key": extra.get("person_key"),
                "preference": extra.get("preference", 0),
                "unreachable": False,
                "unreachable_reason": None,
                "last_interaction_at": None,
                "created_at": NOW - timedelta(days=30),
                "active": True,
            }
        )

    for code in where.agencies:
        for n in range(1 if rng.random() < 0.85 else 2):
            draw = rng.random()
            if draw < 0.6:
                add(code, "telegram", "focal")
            elif draw < 0.9:
                add(code, "zalo", "focal")
            else:
                key = f"{code}-{n}"
                add(code, "telegram", "focal", person_key=key, preference=0)
                add(code, "zalo", "focal", person_key=key, preference=1)
        if rng.random() < 0.33:
            add(code, "telegram", "head")
    add(COORDINATOR, "telegram", "coordinator")
    add(COORDINATOR, "zalo", "coordinator")
    return rows


def build(spec: Spec) -> World:
    rng = random.Random(spec.seed)
    where = directory(spec.agencies)
    return World(spec, where, plans(spec, where, rng), contacts(where, rng))


# --- loading --------------------------------------------------------------------------------------


def _insert(engine: Engine, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            connection.execute(insert(table), rows[start : start + CHUNK])


def load(engine: Engine, world: World, now: datetime = NOW) -> dict[str, int]:
    """Write ``world`` into an empty, migrated database; the number of rows per table."""
    where = world.directory
    _insert(
        engine,
        AgencyRow.__table__,
        [agency_row(a, i).model_dump() for i, a in enumerate(where.agencies.values())],
    )
    _insert(
        engine,
        GroupRow.__table__,
        [group_row(g, i).model_dump() for i, g in enumerate(where.groups.values())],
    )
    members = [
        {"group_code": g.code, "agency_code": code, "position": i}
        for g in where.groups.values()
        for i, code in enumerate(g.members)
    ]
    _insert(engine, GroupMember.__table__, members)
    plan_rows = [
        {
            "number": p.number,
            "issued_on": p.issued_on,
            "issuer": p.issuer,
            "title": p.title,
            "source": p.source,
            "coordinator": p.coordinator,
            "created_at": now,
            "updated_at": now,
        }
        for p in world.plans
    ]
    _insert(engine, Plan.__table__, plan_rows)
    with engine.connect() as connection:
        plan_ids = dict(connection.execute(select(Plan.number, Plan.id)).all())
    task_rows = [
        {
            "plan_id": plan_ids[p.number],
            "number": t.number,
            "title": t.title,
            "section": None,
            "position": i,
            "is_report_duty": False,
            "product": "",
            "note": "",
            "lead_text": t.lead_text,
            "support_text": t.support_text,
            "location": "",
            "precondition_met_on": None,
            "active": True,
            **deadline_columns(t.deadline),
        }
        for p in world.plans
        for i, t in enumerate(p.tasks)
    ]
    _insert(engine, Task.__table__, task_rows)
    with engine.connect() as connection:
        task_ids = {
            (plan_id, number): task_id
            for plan_id, number, task_id in connection.execute(
                select(Task.plan_id, Task.number, Task.id)
            )
        }
    count = 0
    with engine.begin() as connection:
        batch: list[dict[str, Any]] = []
        for p in world.plans:
            for t in p.tasks:
                task_id = task_ids[(plan_ids[p.number], t.number)]
                batch.extend(
                    {
                        "task_id": task_id,
                        "agency_code": a.agency,
                        "role": a.role.value,
                        "via_group": a.via_group,
                        "active": True,
                    }
                    for a in t.assignments
                )
                if len(batch) >= CHUNK:
                    connection.execute(insert(Assignment.__table__), batch)
                    count += len(batch)
                    batch = []
        if batch:
            connection.execute(insert(Assignment.__table__), batch)
            count += len(batch)
    _insert(engine, Contact.__table__, world.contacts)
    reports = _reports(engine, world, now) if world.spec.reports > 0 else 0
    return {
        "agencies": len(where.agencies),
        "groups": len(where.groups),
        "plans": len(plan_rows),
        "tasks": len(task_rows),
        "assignments": count,
        "contacts": len(world.contacts),
        "progress_reports": reports,
    }


_REPORT_KINDS = (
    ("done", 100, "Đã hoàn thành, đã ban hành văn bản"),
    ("percent", 50, "Đạt khoảng 50%"),
    ("in_progress", None, "Đang triển khai"),
    ("blocked", None, "Vướng kinh phí"),
    ("percent", 80, "Cơ bản hoàn thành"),
)


def _reports(engine: Engine, world: World, now: datetime) -> int:
    rng = random.Random(world.spec.seed + 1)
    with engine.connect() as connection:
        coordinator = connection.execute(
            select(Contact.id).where(Contact.role == "coordinator")
        ).scalar()
        focal = dict(
            connection.execute(
                select(Contact.agency_code, Contact.id).where(Contact.role == "focal")
            ).all()
        )
        ids = connection.execute(select(Assignment.id, Assignment.agency_code)).all()
    rows: list[dict[str, Any]] = []
    for aid, agency in ids:
        if rng.random() >= world.spec.reports:
            continue
        for n in range(rng.choice((1, 1, 2, 3))):
            kind, percent, text_ = rng.choice(_REPORT_KINDS)
            review = None
            if kind == "done":
                review = rng.choice(("pending", "confirmed", "confirmed", "returned"))
            decided = review not in (None, "pending")
            rows.append(
                {
                    "assignment_id": aid,
                    "occurrence": "",
                    "kind": kind,
                    "percent": percent,
                    "text": text_,
                    "evidence": None,
                    "reason": "Chưa được bố trí kinh phí" if kind == "blocked" else None,
                    "requested_until": None,
                    "reported_at": now - timedelta(days=rng.randint(1, 200), hours=n),
                    "contact_id": focal.get(agency),
                    "review": review,
                    "reviewed_at": now - timedelta(hours=n) if decided else None,
                    "reviewed_by": coordinator if decided else None,
                }
            )
    _insert(engine, ProgressReport.__table__, rows)
    return len(rows)


def create(url: str, spec: Spec) -> tuple[World, dict[str, int], float]:
    """Build ``spec``'s world and load it at ``url`` (migrated first): world, rows, seconds."""
    world = build(spec)
    engine = make_engine(url)
    try:
        upgrade(url, engine=engine)
        counts, seconds = common.timed(lambda: load(engine, world))
    finally:
        engine.dispose()
    return world, counts, seconds


def main(argv: list[str] | None = None) -> common.Result | None:
    parser = common.parser(__doc__)
    parser.add_argument("--db", default="sqlite", help="database URL, 'sqlite' or 'postgresql'")
    parser.add_argument("--agencies", type=int, default=150)
    parser.add_argument("--plans", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=25, help="tasks per plan")
    parser.add_argument("--assignments", type=int, default=10_000)
    parser.add_argument("--reports", type=float, default=0.0, help="share with progress reports")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if common.compared(args):
        return None
    spec = Spec(args.agencies, args.plans, args.tasks, args.assignments, reports=args.reports,
                seed=args.seed)  # fmt: skip
    result = common.Result("synthetic", vars(args))
    start = time.perf_counter()
    world = build(spec)
    result.add("build_s", time.perf_counter() - start)
    with common.scratch_database(args.db, "bench_synthetic", keep=True) as url:
        engine = make_engine(url)
        try:
            upgrade(url, engine=engine)
            counts, seconds = common.timed(lambda: load(engine, world))
        finally:
            engine.dispose()
    kinds: dict[str, int] = {}
    for plan in world.plans:
        for task in plan.tasks:
            kinds[task.deadline.kind.value] = kinds.get(task.deadline.kind.value, 0) + 1
    result.note(
        f"synthetic world [{common.backend_name(url)}]: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        + f"; loaded in {seconds:.1f} s"
    )
    result.note(
        "deadline kinds (tasks): " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
    )
    for key, value in counts.items():
        result.add(key, value)
    result.add("load_s", seconds)
    result.add("rows_per_s", sum(counts.values()) / seconds if seconds else 0.0)
    return common.finish(result, args.out)


if __name__ == "__main__":
    main()
