"""The deadline grammar, checked on a table of cells as officials write them, and its labels."""

import random
import unicodedata
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from domain.deadlines import Deadline, DeadlineKind, Frequency, describe, parse_deadline

SEED_PLAN = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "seed"
    / "ke-hoach-289-KH-UBND-2023-nghe-an.txt"
)


def fixed(y: int, m: int, d: int) -> Deadline:
    return Deadline(DeadlineKind.FIXED, "", due=date(y, m, d))


def end(y: int, m: int, d: int) -> Deadline:
    return Deadline(DeadlineKind.PERIOD_END, "", due=date(y, m, d))


def span(start: date, due: date) -> Deadline:
    return Deadline(DeadlineKind.RANGE, "", due=due, start=start)


def series(
    frequency: Frequency,
    start: date | None = None,
    due: date | None = None,
    until: date | None = None,
    month: int | None = None,
    day: int | None = None,
) -> Deadline:
    return Deadline(
        DeadlineKind.RECURRING,
        "",
        due=due,
        start=start,
        until=until,
        frequency=frequency,
        anchor_month=month,
        anchor_day=day,
    )


def waiting(precondition: str, soft: Deadline | None = None) -> Deadline:
    if soft is None:
        return Deadline(DeadlineKind.CONDITIONAL, "", precondition=precondition)
    return replace(
        soft, kind=DeadlineKind.CONDITIONAL, precondition=precondition, soft_kind=soft.kind
    )


YEARLY, HALF, QUARTERLY, MONTHLY = (
    Frequency.YEARLY,
    Frequency.HALF_YEARLY,
    Frequency.QUARTERLY,
    Frequency.MONTHLY,
)
ONGOING = Deadline(DeadlineKind.CONTINUOUS, "")
UNREADABLE = Deadline(DeadlineKind.UNKNOWN, "")
CENTRAL = "sau khi có hướng dẫn của Trung ương"

CASES: list[tuple[str, Deadline]] = [
    # a day
    ("Trước ngày 30/6/2024", fixed(2024, 6, 30)),
    ("ngày 15/12/2023", fixed(2023, 12, 15)),
    ("30/6/2024", fixed(2024, 6, 30)),
    ("30/06/2024", fixed(2024, 6, 30)),
    ("Hoàn thành trước ngày 15/12/2023", fixed(2023, 12, 15)),
    ("trước 30/6/2024", fixed(2024, 6, 30)),
    ("30-6-2024", fixed(2024, 6, 30)),
    ("30.6.2024", fixed(2024, 6, 30)),
    ("ngày 15 tháng 12 năm 2023", fixed(2023, 12, 15)),
    ("TRƯỚC NGÀY 30/6/2024", fixed(2024, 6, 30)),
    ("Truoc ngay 30/6/2024", fixed(2024, 6, 30)),
    ("Trước ngày\n30/6/2024", fixed(2024, 6, 30)),
    ("  30 / 6 / 2024  ", fixed(2024, 6, 30)),
    ("Chậm nhất ngày 30/6/2024", fixed(2024, 6, 30)),
    ("2024-06-30", fixed(2024, 6, 30)),
    ("Trước ngày 29/2/2024", fixed(2024, 2, 29)),
    ("Trước ngày 30/6/2024;", fixed(2024, 6, 30)),
    # the end of a period
    ("Năm 2023", end(2023, 12, 31)),
    ("Năm 2024", end(2024, 12, 31)),
    ("Năm 2025", end(2025, 12, 31)),
    ("NĂM 2025", end(2025, 12, 31)),
    ("nam 2025", end(2025, 12, 31)),
    ("Năm\n2024", end(2024, 12, 31)),
    ("(Năm 2024)", end(2024, 12, 31)),
    ("Trong năm 2024", end(2024, 12, 31)),
    ("Xong trong năm 2024", end(2024, 12, 31)),
    ("Cuối năm 2024", end(2024, 12, 31)),
    ("Cuoi nam 2024", end(2024, 12, 31)),
    ("Quý II/2024", end(2024, 6, 30)),
    ("Quý 3 năm 2024", end(2024, 9, 30)),
    ("Quí IV/2024", end(2024, 12, 31)),
    ("Quý II năm 2024", end(2024, 6, 30)),
    ("Quý 2/2024", end(2024, 6, 30)),
    ("Quý II / 2024", end(2024, 6, 30)),
    ("QUY II/2024", end(2024, 6, 30)),
    ("quy i/2025", end(2025, 3, 31)),
    ("Quý II, 2024", end(2024, 6, 30)),
    ("Trong quý II/2024", end(2024, 6, 30)),
    ("Tháng 6/2024", end(2024, 6, 30)),
    ("Tháng 06/2024", end(2024, 6, 30)),
    ("6/2024", end(2024, 6, 30)),
    ("tháng 6 năm 2024", end(2024, 6, 30)),
    ("Hoàn thành trong tháng 6/2024", end(2024, 6, 30)),
    ("Tháng 2/2024", end(2024, 2, 29)),
    ("Tháng 2/2023", end(2023, 2, 28)),
    ("6 tháng đầu năm 2024", end(2024, 6, 30)),
    ("6 tháng cuối năm 2024", end(2024, 12, 31)),
    # "trước <period>": due when the previous period ends
    ("Trước quý III/2024", end(2024, 6, 30)),
    ("Trước quý I/2025", end(2024, 12, 31)),
    ("Trước tháng 9/2024", end(2024, 8, 31)),
    ("Trước tháng 1/2025", end(2024, 12, 31)),
    ("Trước năm 2025", end(2024, 12, 31)),
    # "đầu <period>": the end of its first month, or of a month's first ten days
    ("Đầu năm 2024", end(2024, 1, 31)),
    ("Đầu quý II/2024", end(2024, 4, 30)),
    ("Đầu tháng 6/2024", end(2024, 6, 10)),
    # ranges
    ("Quý III, IV/2026", span(date(2026, 7, 1), date(2026, 12, 31))),
    ("Quý III-IV/2026", span(date(2026, 7, 1), date(2026, 12, 31))),
    ("Tháng 6, 7/2024", span(date(2024, 6, 1), date(2024, 7, 31))),
    ("Tháng 6, 7, 8/2024", span(date(2024, 6, 1), date(2024, 8, 31))),
    ("2023-2025", span(date(2023, 1, 1), date(2025, 12, 31))),
    ("2023 - 2025", span(date(2023, 1, 1), date(2025, 12, 31))),
    ("2023–2025", span(date(2023, 1, 1), date(2025, 12, 31))),
    ("2023 — 2025", span(date(2023, 1, 1), date(2025, 12, 31))),
    ("2023 -2025", span(date(2023, 1, 1), date(2025, 12, 31))),
    ("Giai đoạn 2023 - 2025", span(date(2023, 1, 1), date(2025, 12, 31))),
    ("Giai doan 2023-2025", span(date(2023, 1, 1), date(2025, 12, 31))),
    ("GIAI ĐOẠN 2023-2025", span(date(2023, 1, 1), date(2025, 12, 31))),
    ("Giai đoạn\n2023 -\n2025", span(date(2023, 1, 1), date(2025, 12, 31))),
    ("Từ năm 2024 đến năm 2026", span(date(2024, 1, 1), date(2026, 12, 31))),
    ("Năm 2024-2025", span(date(2024, 1, 1), date(2025, 12, 31))),
    ("Từ tháng 3/2024 đến tháng 6/2024", span(date(2024, 3, 1), date(2024, 6, 30))),
    ("Từ tháng 3 đến tháng 6/2024", span(date(2024, 3, 1), date(2024, 6, 30))),
    ("01/3/2024 - 30/6/2024", span(date(2024, 3, 1), date(2024, 6, 30))),
    ("Quý IV/2023 - Quý II/2024", span(date(2023, 10, 1), date(2024, 6, 30))),
    # series
    ("Hằng năm", series(YEARLY)),
    ("Hàng năm", series(YEARLY)),
    ("HANG NAM", series(YEARLY)),
    ("Định kỳ hằng quý", series(QUARTERLY)),
    ("Hàng quý", series(QUARTERLY)),
    ("Hằng tháng", series(MONTHLY)),
    ("6 tháng một lần", series(HALF)),
    ("Định kỳ 6 tháng", series(HALF)),
    ("Định kỳ 6 tháng, hằng năm", series(HALF)),
    ("Năm 2023 và những năm tiếp theo", series(YEARLY, date(2023, 1, 1), date(2023, 12, 31))),
    ("Nam 2023 va nhung nam tiep theo", series(YEARLY, date(2023, 1, 1), date(2023, 12, 31))),
    ("NĂM 2023 VÀ NHỮNG NĂM TIẾP THEO", series(YEARLY, date(2023, 1, 1), date(2023, 12, 31))),
    ("Năm 2023 và những\nnăm tiếp theo", series(YEARLY, date(2023, 1, 1), date(2023, 12, 31))),
    ("Từ năm 2024 và các năm tiếp theo", series(YEARLY, date(2024, 1, 1), date(2024, 12, 31))),
    ("Tháng 12 hằng năm", series(YEARLY, month=12, day=31)),
    ("Tháng 2 hằng năm", series(YEARLY, month=2, day=29)),
    ("Trước ngày 15/12 hằng năm", series(YEARLY, month=12, day=15)),
    ("Quý IV hằng năm", series(YEARLY, month=12, day=31)),
    ("Quý I hằng năm", series(YEARLY, month=3, day=31)),
    ("6 tháng đầu năm hằng năm", series(YEARLY, month=6, day=30)),
    ("Trước ngày 20 hằng tháng", series(MONTHLY, day=20)),
    (
        "Hằng năm, giai đoạn 2023-2025",
        series(YEARLY, date(2023, 1, 1), date(2023, 12, 31), date(2025, 12, 31)),
    ),
    (
        "Hàng năm từ 2023 đến 2025",
        series(YEARLY, date(2023, 1, 1), date(2023, 12, 31), date(2025, 12, 31)),
    ),
    ("Hằng năm đến năm 2025", series(YEARLY, until=date(2025, 12, 31))),
    (
        "Hàng quý năm 2024",
        series(QUARTERLY, date(2024, 1, 1), date(2024, 3, 31), date(2024, 12, 31)),
    ),
    ("Hằng tháng, từ tháng 3/2024", series(MONTHLY, date(2024, 3, 1), date(2024, 3, 31))),
    (
        "Hằng quý, năm 2023 và những năm tiếp theo",
        series(QUARTERLY, date(2023, 1, 1), date(2023, 3, 31)),
    ),
    ("Định kỳ hàng năm (hoặc đột xuất khi có yêu cầu)", series(YEARLY)),
    # continuous
    ("Thường xuyên", ONGOING),
    ("Thường xuyên, liên tục", ONGOING),
    ("Liên tục", ONGOING),
    ("Thường xuyên hằng năm", ONGOING),
    ("THUONG XUYEN", ONGOING),
    # conditional: the precondition keeps the original words
    (f"Năm 2024, {CENTRAL}", waiting(CENTRAL, end(2024, 12, 31))),
    (
        "Nam 2024, sau khi co huong dan cua Trung uong",
        waiting("sau khi co huong dan cua Trung uong", end(2024, 12, 31)),
    ),
    (
        "NĂM 2024, SAU KHI CÓ HƯỚNG DẪN CỦA TRUNG ƯƠNG",
        waiting("SAU KHI CÓ HƯỚNG DẪN CỦA TRUNG ƯƠNG", end(2024, 12, 31)),
    ),
    ("Năm 2024,\nsau khi có hướng dẫn\ncủa Trung ương", waiting(CENTRAL, end(2024, 12, 31))),
    ("Năm 2024 (sau khi có hướng dẫn)", waiting("sau khi có hướng dẫn", end(2024, 12, 31))),
    ("Sau khi Bộ Nội vụ ban hành hướng dẫn", waiting("Sau khi Bộ Nội vụ ban hành hướng dẫn")),
    (
        "Sau khi Bộ Nội vụ, Bộ Tài chính ban hành hướng dẫn",
        waiting("Sau khi Bộ Nội vụ, Bộ Tài chính ban hành hướng dẫn"),
    ),
    ("Khi có hướng dẫn của Bộ", waiting("Khi có hướng dẫn của Bộ")),
    ("Sau khi được phê duyệt", waiting("Sau khi được phê duyệt")),
    ("Theo yêu cầu", waiting("Theo yêu cầu")),
    ("Khi có yêu cầu", waiting("Khi có yêu cầu")),
    ("Đột xuất", waiting("Đột xuất")),
    (
        "Sau khi Đề án được phê duyệt, năm 2025",
        waiting("Sau khi Đề án được phê duyệt", end(2025, 12, 31)),
    ),
    ("Hằng năm, sau khi có hướng dẫn", waiting("sau khi có hướng dẫn", series(YEARLY))),
    ("Thường xuyên, sau khi có hướng dẫn", waiting("sau khi có hướng dẫn", ONGOING)),
    # an alternative on request does not make the schedule conditional
    ("Quý II/2024 (hoặc khi có yêu cầu)", end(2024, 6, 30)),
    # unreadable: kept, flagged, never an exception
    ("", UNREADABLE),
    ("   ", UNREADABLE),
    ("abc", UNREADABLE),
    ("Theo tiến độ dự án", UNREADABLE),
    ("31/2/2024", UNREADABLE),
    ("Quý V/2024", UNREADABLE),
    ("Quý 0/2024", UNREADABLE),
    ("Tháng 13/2024", UNREADABLE),
    ("0/6/2024", UNREADABLE),
    ("30/6/24", UNREADABLE),
    ("Năm 24", UNREADABLE),
    ("Năm 1800", UNREADABLE),
    ("2025-2023", UNREADABLE),
    ("Từ năm 2024", UNREADABLE),
    ("Đầu quý", UNREADABLE),
    ("Quý II", UNREADABLE),
    ("Năm 2024, abc", UNREADABLE),
    ("Trước ngày 31/2 hằng năm", UNREADABLE),
    ("Trước ngày 32 hằng tháng", UNREADABLE),
]


def test_the_table_is_large_and_has_no_repeats() -> None:
    texts = [text for text, _ in CASES]
    assert len(texts) >= 100
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_reads_cell(text: str, expected: Deadline) -> None:
    assert parse_deadline(text) == replace(expected, text=text.strip())


@pytest.mark.parametrize(
    ("text", "year", "expected"),
    [
        ("Hằng năm", 2024, series(YEARLY, date(2024, 1, 1), date(2024, 12, 31))),
        (
            "Trước ngày 20 hằng tháng",
            2024,
            series(MONTHLY, date(2024, 1, 1), date(2024, 1, 20), day=20),
        ),
        (
            "Trước ngày 15/12 hằng năm",
            2024,
            series(YEARLY, date(2024, 1, 1), date(2024, 12, 15), month=12, day=15),
        ),
        (
            "Năm 2023 và những năm tiếp theo",
            2030,
            series(YEARLY, date(2023, 1, 1), date(2023, 12, 31)),
        ),
        (
            "Hằng năm, sau khi có hướng dẫn",
            2024,
            waiting("sau khi có hướng dẫn", series(YEARLY, date(2024, 1, 1), date(2024, 12, 31))),
        ),
        ("Quý II", 2024, end(2024, 6, 30)),
        ("Trước 30/6", 2024, fixed(2024, 6, 30)),
        ("Đầu năm", 2024, end(2024, 1, 31)),
        ("Tháng 6, 7", 2024, span(date(2024, 6, 1), date(2024, 7, 31))),
        ("Năm 2025", 2024, end(2025, 12, 31)),
        ("abc", 2024, UNREADABLE),
    ],
)
def test_plan_year_fills_a_missing_year(text: str, year: int, expected: Deadline) -> None:
    assert parse_deadline(text, default_year=year) == replace(expected, text=text)


def test_text_keeps_the_cell_as_written_without_outer_space() -> None:
    assert parse_deadline("  Năm 2024,\n sau khi có hướng dẫn  \n").text == (
        "Năm 2024,\n sau khi có hướng dẫn"
    )


def test_decomposed_input_gives_a_composed_precondition() -> None:
    cell = unicodedata.normalize("NFD", f"Năm 2024, {CENTRAL}")
    deadline = parse_deadline(cell)
    assert deadline.text == cell
    assert deadline.precondition == CENTRAL
    assert deadline.due == date(2024, 12, 31)


TOKENS = (
    "Năm", "năm", "Quý", "quí", "II", "IV", "V", "tháng", "ngày", "trước", "đầu", "cuối", "hằng",
    "hàng", "và", "những", "tiếp theo", "sau khi", "khi có", "hoặc", "theo yêu cầu", "giai đoạn",
    "từ", "đến", "thường xuyên", "6", "12", "20", "31", "0", "2023", "2024", "99999", "-", "–",
    "/", ".", ",", "(", ")", ";", ":", "\n", "  ", "đ", "\u0301", "İ", "٣",
)  # fmt: skip


def test_never_raises_on_scrambled_cells() -> None:
    rng = random.Random(289)
    for _ in range(3000):
        cell = " ".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 9)))
        deadline = parse_deadline(cell)
        assert deadline.text == cell.strip()
        if deadline.kind is DeadlineKind.UNKNOWN:
            assert deadline == Deadline(DeadlineKind.UNKNOWN, cell.strip())


@pytest.mark.parametrize(
    "cell",
    ["2023-" * 2000, "trước " * 5000 + "2024", "Quý " * 3000, "sau khi, " * 2000, "-," * 3000],
)
def test_huge_cells_are_read_without_error(cell: str) -> None:
    assert parse_deadline(cell).text == cell.strip()


def seed_deadline_cells() -> list[str]:
    lines = SEED_PLAN.read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines]
    return [row[2] for row in rows if len(row) >= 5 and row[0].strip().isdigit()]


@pytest.mark.skipif(not SEED_PLAN.exists(), reason="../shared/seed is absent (reference only)")
def test_every_seed_plan_cell_is_read() -> None:
    cells = seed_deadline_cells()
    assert set(cells) == {
        "Năm 2023 và những năm tiếp theo",
        "Năm 2023",
        "Năm 2024",
        f"Năm 2024, {CENTRAL}",
        "Năm 2025",
    }
    assert all(parse_deadline(cell).kind is not DeadlineKind.UNKNOWN for cell in cells)


LABELS: list[tuple[str, str, str]] = [
    ("Năm 2023 và những năm tiếp theo", "hằng năm từ 2023", "yearly from 2023"),
    ("Năm 2024", "trước 31/12/2024", "by 31/12/2024"),
    ("Trước ngày 30/6/2024", "trước 30/06/2024", "by 30/06/2024"),
    ("2023-2025", "từ 01/01/2023 đến 31/12/2025", "from 01/01/2023 to 31/12/2025"),
    ("Thường xuyên", "thường xuyên", "ongoing"),
    (
        f"Năm 2024, {CENTRAL}",
        f"chờ điều kiện: {CENTRAL} (dự kiến trước 31/12/2024)",
        f"waiting for: {CENTRAL} (tentatively by 31/12/2024)",
    ),
    (
        "Sau khi Bộ Nội vụ ban hành hướng dẫn",
        "chờ điều kiện: sau khi Bộ Nội vụ ban hành hướng dẫn",
        "waiting for: sau khi Bộ Nội vụ ban hành hướng dẫn",
    ),
    (
        "Hằng năm, sau khi có hướng dẫn",
        "chờ điều kiện: sau khi có hướng dẫn (dự kiến hằng năm)",
        "waiting for: sau khi có hướng dẫn (tentatively yearly)",
    ),
    ("Hằng năm, giai đoạn 2023-2025", "hằng năm từ 2023 đến 2025", "yearly from 2023 until 2025"),
    ("Trước ngày 15/12 hằng năm", "hằng năm, hạn ngày 15/12", "yearly, due on 15/12"),
    ("Trước ngày 20 hằng tháng", "hằng tháng, hạn ngày 20", "monthly, due on day 20"),
    (
        "Hàng quý năm 2024",
        "hằng quý từ 01/2024 đến 12/2024",
        "quarterly from 01/2024 until 12/2024",
    ),
    ("6 tháng một lần", "6 tháng một lần", "every 6 months"),
    ("abc", "không đọc được", "unreadable"),
]


@pytest.mark.parametrize(("text", "vi", "en"), LABELS)
def test_describe_gives_short_labels(text: str, vi: str, en: str) -> None:
    deadline = parse_deadline(text)
    assert describe(deadline) == vi
    assert describe(deadline, "en") == en


def test_describe_rejects_an_unknown_language() -> None:
    with pytest.raises(ValueError, match="fr"):
        describe(parse_deadline("Năm 2024"), "fr")
