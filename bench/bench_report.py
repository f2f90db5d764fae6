"""How long the coordinator's exports take for a province: 1,000 tasks x 60 agencies by default.

Every task is given to every agency (60,000 status lines), the worst case a province meets when a
plan's rows say "các sở, ban, ngành và UBND các huyện". The data is synthetic but shaped like the
real thing: fixed, continuous and conditional deadlines, reports of every kind, reviews pending,
confirmed and returned. Prints the time to compute the statuses and to build each format.

    .venv/bin/python bench/bench_report.py [--tasks 1000] [--agencies 60] [--out DIR]
"""

import argparse
import random
import sys
import time
from collections.abc import Callable, Sized
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.calendar import ZONE, WorkingCalendar
from domain.deadlines import DeadlineKind
from domain.status import ReportView, StatusLine, status_of
from reports import ReportMeta
from reports.chart import build_chart_png
from reports.csv import build_csv
from reports.docx import build_docx
from reports.xlsx import build_xlsx

# Nghệ An's provincial agencies and its 21 district-level committees (before the 2025 reform).
AGENCY_NAMES = """
Sở Nội vụ; Sở Tài chính; Sở Kế hoạch và Đầu tư; Sở Tư pháp; Sở Công Thương;
Sở Nông nghiệp và Phát triển nông thôn; Sở Giao thông vận tải; Sở Xây dựng;
Sở Tài nguyên và Môi trường; Sở Thông tin và Truyền thông; Sở Lao động - Thương binh và Xã hội;
Sở Văn hóa và Thể thao; Sở Du lịch; Sở Khoa học và Công nghệ; Sở Giáo dục và Đào tạo; Sở Y tế;
Sở Ngoại vụ; Thanh tra tỉnh; Văn phòng UBND tỉnh; Ban Dân tộc tỉnh;
Ban Quản lý Khu kinh tế Đông Nam Nghệ An; Công an tỉnh; Bộ Chỉ huy Quân sự tỉnh;
Đài Phát thanh và Truyền hình tỉnh; Trường Chính trị tỉnh; Liên minh Hợp tác xã tỉnh;
Bảo hiểm xã hội tỉnh; Cục Thuế tỉnh; Kho bạc Nhà nước tỉnh; Cục Thống kê tỉnh; Hội Nông dân tỉnh;
Tỉnh đoàn Nghệ An; Hội Liên hiệp Phụ nữ tỉnh; Liên đoàn Lao động tỉnh; Ủy ban MTTQ Việt Nam tỉnh;
Hội Cựu chiến binh tỉnh; Báo Nghệ An; Cục Hải quan tỉnh; Ngân hàng Nhà nước Chi nhánh Nghệ An;
UBND thành phố Vinh; UBND thị xã Cửa Lò; UBND thị xã Thái Hòa; UBND thị xã Hoàng Mai;
UBND huyện Quỳnh Lưu; UBND huyện Diễn Châu; UBND huyện Yên Thành; UBND huyện Nghi Lộc;
UBND huyện Hưng Nguyên; UBND huyện Nam Đàn; UBND huyện Thanh Chương; UBND huyện Đô Lương;
UBND huyện Anh Sơn; UBND huyện Con Cuông; UBND huyện Tương Dương; UBND huyện Kỳ Sơn;
UBND huyện Quế Phong; UBND huyện Quỳ Châu; UBND huyện Quỳ Hợp; UBND huyện Nghĩa Đàn;
UBND huyện Tân Kỳ
"""
R = TypeVar("R", bound=Sized)
TITLE = "Nhiệm vụ số {n}: triển khai thực hiện nội dung của Kế hoạch tại cơ quan, đơn vị"
DEADLINES = (
    ("Năm 2023", DeadlineKind.PERIOD_END, date(2023, 12, 31)),
    ("Quý II/2024", DeadlineKind.PERIOD_END, date(2024, 6, 30)),
    ("Trước ngày 15/4/2024", DeadlineKind.FIXED, date(2024, 4, 15)),
    ("Năm 2024", DeadlineKind.PERIOD_END, date(2024, 12, 31)),
    ("Thường xuyên", DeadlineKind.CONTINUOUS, None),
    ("Năm 2024, sau khi có hướng dẫn của Trung ương", DeadlineKind.CONDITIONAL, date(2024, 12, 31)),
)


def agencies(n: int) -> list[tuple[str, str]]:
    names = [" ".join(name.split()) for name in AGENCY_NAMES.split(";")]
    names += [f"Đơn vị số {i}" for i in range(len(names), n)]
    return [(f"A{i:03d}", name) for i, name in enumerate(names[:n])]


def reports_for(rng: random.Random, on: date) -> list[ReportView]:
    start = date(2023, 5, 1)
    span = (on - start).days
    out = []
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        day = start + timedelta(days=rng.randrange(span))
        at = datetime.combine(day, clock(9, rng.randrange(60)), tzinfo=ZONE)
        roll = rng.random()
        if roll < 0.35:
            review = rng.choice(("confirmed", "confirmed", "pending", "returned"))
            out.append(ReportView("done", at, 100, "Đã ban hành văn bản triển khai", review=review))
        elif roll < 0.75:
            out.append(ReportView("percent", at, rng.randrange(10, 95, 5), "Đang thực hiện"))
        elif roll < 0.9:
            out.append(ReportView("blocked", at, None, "vướng", reason="Chờ hướng dẫn của Bộ"))
        else:
            out.append(ReportView("note", at, None, "Đang tổng hợp số liệu"))
    return out


def build_lines(
    tasks: int, n_agencies: int, on: date, calendar: WorkingCalendar
) -> list[StatusLine]:
    rng = random.Random(289)
    lines = []
    for number in range(1, tasks + 1):
        text, kind, due = DEADLINES[number % len(DEADLINES)]
        title = TITLE.format(n=number)
        for i, (code, name) in enumerate(agencies(n_agencies)):
            result = status_of(
                due=due,
                kind=kind,
                precondition_met=rng.random() < 0.3,
                reports=reports_for(rng, on),
                on=on,
                calendar=calendar,
            )
            role = "lead" if i == number % n_agencies else "support"
            lines.append(
                StatusLine("289/KH-UBND", str(number), title, name, code, role, text, due, result)
            )
    return lines


def timed(label: str, build: Callable[..., R], *args: Any) -> R:
    start = time.perf_counter()
    result = build(*args)
    elapsed = time.perf_counter() - start
    size = f"{len(result) / 1e6:7.2f} MB" if isinstance(result, bytes) else f"{len(result)} lines"
    print(f"{label:<28} {elapsed:7.2f} s   {size}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--agencies", type=int, default=60)
    parser.add_argument("--out", type=Path, help="save the files here to look at them")
    args = parser.parse_args()

    on = date(2024, 6, 17)
    calendar = WorkingCalendar()
    print(f"{args.tasks} tasks x {args.agencies} agencies, status on {on:%d/%m/%Y}")
    lines = timed("status_of (all lines)", build_lines, args.tasks, args.agencies, on, calendar)
    meta = ReportMeta(
        plan_number="289/KH-UBND",
        plan_title="về việc thực hiện Chiến lược cải cách hành chính",
        issuer="Ủy ban nhân dân tỉnh Nghệ An",
        coordinator_name="Sở Nội vụ",
        at=on,
        coordinator_code="SNV",
    )
    files = {
        "bao-cao.xlsx": timed("xlsx (Tổng hợp + Chi tiết)", build_xlsx, lines, meta),
        "bao-cao.docx": timed("docx (report + appendix)", build_docx, lines, meta),
        "bieu-do.png": timed("png (top 20 + others)", build_chart_png, lines, meta),
        "chi-tiet.csv": timed("csv", build_csv, lines),
    }
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (args.out / name).write_bytes(data)
        print(f"saved in {args.out}")


if __name__ == "__main__":
    main()
