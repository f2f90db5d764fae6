"""Files and pictures for coordinators: status workbooks, draft reports, charts and CSV.

Each format has its own module (``xlsx``, ``docx``, ``chart``, ``csv``), so that importing one does
not load the others' libraries; each takes ``StatusLine`` s from ``domain.status`` and returns the
file as bytes for the caller to save or send. This module holds what they share: the report's
metadata and the columns of the detail table.
"""

import re
from dataclasses import dataclass
from datetime import date

from domain.calendar import local_date
from domain.status import StatusLine, label


@dataclass(frozen=True)
class ReportMeta:
    plan_number: str  # "289/KH-UBND"
    plan_title: str  # "về việc triển khai ..." (the plan's title line(s))
    issuer: str  # the plan's issuer: "Ủy ban nhân dân tỉnh Nghệ An"
    coordinator_name: str  # the agency that compiles the report: "Sở Nội vụ"
    at: date  # the day the status was computed for
    place: str = "Nghệ An"  # for "Nghệ An, ngày ... tháng ... năm ..."
    coordinator_code: str = ""  # "SNV", for "Số: .../BC-SNV"


# Characters XML 1.0 forbids (a stray one pasted into a chat reply breaks .xlsx and .docx files).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def printable(text: str) -> str:
    """``text`` without the control characters that .xlsx and .docx files cannot hold."""
    return _UNPRINTABLE.sub("", text)


ROLE_LABELS = {"lead": "Chủ trì", "support": "Phối hợp"}

DETAIL_HEADERS: tuple[str, ...] = (
    "Kế hoạch",
    "TT",
    "Nhiệm vụ",
    "Cơ quan, đơn vị",
    "Vai trò",
    "Thời hạn (theo văn bản)",
    "Hạn hoàn thành",
    "Tình trạng",
    "Tiến độ (%)",
    "Ngày báo cáo gần nhất",
    "Nội dung báo cáo gần nhất",
    "Khó khăn, vướng mắc",
)

# Positions of the date columns in DETAIL_HEADERS, formatted as dates by every writer.
DETAIL_DATE_COLUMNS = frozenset({6, 9})

DetailRow = tuple[str, str, str, str, str, str, date | None, str, int | None, date | None, str, str]


def detail_row(line: StatusLine) -> DetailRow:
    """One line of the detail table, in the order of DETAIL_HEADERS; dates stay dates."""
    result = line.result
    report = result.last_report
    return (
        printable(line.plan),
        printable(line.task),
        printable(line.title),
        printable(line.agency),
        ROLE_LABELS.get(line.role, line.role),
        printable(line.deadline_text),
        line.due,
        label(result.state, "vi"),
        result.percent,
        local_date(report.reported_at) if report is not None else None,
        printable(report.text) if report is not None else "",
        printable(result.blocker or ""),
    )


def dmy(day: date) -> str:
    """dd/mm/yyyy, the way Vietnamese documents write dates in tables."""
    return day.strftime("%d/%m/%Y")
