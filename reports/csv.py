"""The detail table as CSV, for coordinators who load it into their own spreadsheets or systems.

UTF-8 with a byte-order mark: without it Excel on Windows reads the file as the local code page
and mangles every Vietnamese letter. Dates are written dd/mm/yyyy, as in Vietnamese documents.
"""

import csv
import io
from collections.abc import Iterable
from datetime import date

from domain.status import StatusLine
from reports import DETAIL_HEADERS, detail_row, dmy

BOM = "\ufeff"


def build_csv(lines: Iterable[StatusLine]) -> bytes:
    """The detail table (the columns of the "Chi tiết" sheet) as CSV bytes, BOM first."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(DETAIL_HEADERS)
    for line in lines:
        writer.writerow(_cell(value) for value in detail_row(line))
    return out.getvalue().encode("utf-8")


def _cell(value: str | int | date | None) -> str | int:
    if value is None:
        return ""
    if isinstance(value, date):
        return dmy(value)
    return value
