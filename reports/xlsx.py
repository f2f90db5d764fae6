"""The status workbook: a summary per agency ("Tổng hợp") and every assignment ("Chi tiết").

Coordinators sort, filter and re-total these sheets themselves, so dates are real date cells, rates
are numbers, and each sheet has a frozen bold header row with an autofilter. The workbook is written
in openpyxl's write-only mode: a province's 60,000 lines stream out without building a cell grid.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from domain.status import (
    COUNTED_STATES,
    State,
    StatusLine,
    counts_by_agency,
    done_rate,
    label,
)
from reports import DETAIL_DATE_COLUMNS, DETAIL_HEADERS, ReportMeta, detail_row, dmy

SUMMARY_SHEET = "Tổng hợp"
DETAIL_SHEET = "Chi tiết"

SUMMARY_HEADERS: tuple[str, ...] = (
    "TT",
    "Cơ quan, đơn vị",
    "Tổng số",
    *(label(state) for state in COUNTED_STATES),
    "Tỷ lệ hoàn thành",
    "Trong đó: chờ xác nhận",
    "Trong đó: chưa báo cáo",
)
_RATE_COLUMN = SUMMARY_HEADERS.index("Tỷ lệ hoàn thành")
_SUMMARY_WIDTHS = (6, 42, 9, 13, 13, 13, 13, 12, 13, 12, 13, 13)
_DETAIL_WIDTHS = (16, 6, 60, 34, 10, 24, 14, 24, 10, 14, 50, 40)

DATE_FORMAT = "dd/mm/yyyy"
RATE_FORMAT = "0.0%"
_BOLD = Font(bold=True)
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")


def _setup(
    ws: WriteOnlyWorksheet,
    headers: Sequence[str],
    widths: Sequence[int],
    *,
    data_rows: int,
    print_header: str,
) -> None:
    """Layout, then the bold header row; ``data_rows`` rows below it get the autofilter."""
    # Write-only sheets take their layout before the first row. The stubs lack the attributes
    # openpyxl gives them at run time (column_dimensions, auto_filter), hence ``Any``.
    sheet: Any = ws
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    sheet.oddHeader.center.text = print_header
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{data_rows + 1}"
    header = []
    for text in headers:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = _BOLD
        cell.alignment = _HEADER_ALIGN
        header.append(cell)
    ws.append(header)


def _styled(ws: WriteOnlyWorksheet, value: Any, number_format: str, bold: bool = False) -> Any:
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = number_format
    if bold:
        cell.font = _BOLD
    return cell


def _summary_row(
    ws: WriteOnlyWorksheet,
    number: int | str,
    name: str,
    counter: Counter[State],
    special: Counter[State],
    *,
    bold: bool = False,
) -> list[Any]:
    values = [
        number,
        name,
        sum(counter.values()),
        *(counter[state] for state in COUNTED_STATES),
        done_rate(counter),
        special[State.AWAITING_CONFIRMATION],
        special[State.NO_ANSWER],
    ]
    return [
        _styled(ws, value, RATE_FORMAT if i == _RATE_COLUMN else "General", bold)
        if bold or i == _RATE_COLUMN
        else value
        for i, value in enumerate(values)
    ]


def _write_summary(ws: WriteOnlyWorksheet, lines: Sequence[StatusLine], meta: ReportMeta) -> None:
    # AWAITING_CONFIRMATION and NO_ANSWER are counted inside the official states; shown apart too.
    specials: dict[str, Counter[State]] = {}
    for line in lines:
        specials.setdefault(line.agency, Counter())[line.result.state] += 1
    counts = counts_by_agency(lines)
    # The total row stays outside the filter, so sorting agencies leaves it at the bottom.
    _setup(
        ws,
        SUMMARY_HEADERS,
        _SUMMARY_WIDTHS,
        data_rows=len(counts),
        print_header=f"Tổng hợp Kế hoạch số {meta.plan_number} đến ngày {dmy(meta.at)}",
    )
    total: Counter[State] = Counter()
    total_special: Counter[State] = Counter()
    for number, (agency, counter) in enumerate(counts.items(), start=1):
        total.update(counter)
        total_special.update(specials[agency])
        ws.append(_summary_row(ws, number, agency, counter, specials[agency]))
    ws.append(_summary_row(ws, "", "Tổng cộng", total, total_special, bold=True))


def _detail_rows(ws: WriteOnlyWorksheet, lines: Iterable[StatusLine]) -> Iterable[list[Any]]:
    for line in lines:
        row: list[Any] = list(detail_row(line))
        for column in DETAIL_DATE_COLUMNS:
            if isinstance(row[column], date):
                row[column] = _styled(ws, row[column], DATE_FORMAT)
        yield row


def _write_detail(ws: WriteOnlyWorksheet, lines: Sequence[StatusLine], meta: ReportMeta) -> None:
    _setup(
        ws,
        DETAIL_HEADERS,
        _DETAIL_WIDTHS,
        data_rows=len(lines),
        print_header=f"Chi tiết Kế hoạch số {meta.plan_number} đến ngày {dmy(meta.at)}",
    )
    for row in _detail_rows(ws, lines):
        ws.append(row)


def build_xlsx(lines: Sequence[StatusLine], meta: ReportMeta) -> bytes:
    """The workbook as .xlsx bytes: "Tổng hợp" (per agency) then "Chi tiết" (per line)."""
    workbook = Workbook(write_only=True)
    workbook.properties.title = f"Tình hình thực hiện Kế hoạch số {meta.plan_number}"
    workbook.properties.creator = meta.coordinator_name
    _write_summary(workbook.create_sheet(SUMMARY_SHEET), lines, meta)
    _write_detail(workbook.create_sheet(DETAIL_SHEET), lines, meta)
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()
