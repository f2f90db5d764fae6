"""Plan files on disk as a ``PlanSource``: the one place that knows file formats.

Officials send plans as Word (.docx), Excel (.xlsx), CSV, Markdown or text copied out of a PDF.
Each reader returns the document's paragraphs and tables as text, located so that warnings can
point at a row ("bảng 1, hàng 5", "Phụ lục!7", "dòng 12"). A file that cannot be read becomes a
``PlanFormatError`` naming the file, never a traceback.
"""

import codecs
import csv
import io
from collections import Counter
from collections.abc import Callable
from datetime import date, time
from pathlib import Path

import docx
import openpyxl
from docx.table import Table
from openpyxl.worksheet.worksheet import Worksheet

from domain.plan_text import source_from_markdown, source_from_text
from domain.plans import PlanFormatError, PlanSource, SourceTable

_SUPPORTED = ".docx, .xlsx, .csv, .md, .txt"
# Old binary Office formats get a precise hint: they are the usual cause of a refused file.
_SAVE_AS = {".doc": ".docx", ".xls": ".xlsx", ".pdf": ".docx"}
_CSV_DELIMITERS = (",", ";", "\t")
_CSV_SAMPLE_LINES = 50


def read_plan_source(path: Path) -> PlanSource:
    """Read a plan file by its extension; raise ``PlanFormatError`` naming the file on failure."""
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        hint = f"; hãy lưu lại dưới dạng {_SAVE_AS[suffix]}" if suffix in _SAVE_AS else ""
        raise PlanFormatError(
            f"{path.name}: không hỗ trợ định dạng '{suffix or 'không có đuôi'}' "
            f"(chỉ nhận {_SUPPORTED}){hint}"
        )
    if not path.is_file():
        raise PlanFormatError(f"{path}: không tìm thấy tệp")
    try:
        return reader(path)
    except PlanFormatError:
        raise
    except Exception as error:  # the format libraries raise many types on a damaged file
        raise PlanFormatError(
            f"{path.name}: không đọc được tệp {suffix} (tệp hỏng hoặc không đúng định dạng: "
            f"{type(error).__name__}: {error})"
        ) from error


def _decode(path: Path) -> str:
    data = path.read_bytes()
    # Excel's "Unicode Text" export is UTF-16 with a byte-order mark.
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PlanFormatError(
            f"{path.name}: tệp không được mã hóa UTF-8 (byte lạ ở vị trí {error.start}); "
            "hãy lưu lại tệp với mã hóa UTF-8 (trong Excel: CSV UTF-8)"
        ) from error


def _read_text(path: Path) -> PlanSource:
    return source_from_text(_decode(path), path.name)


def _read_markdown(path: Path) -> PlanSource:
    return source_from_markdown(_decode(path), path.name)


def _read_docx(path: Path) -> PlanSource:
    document = docx.Document(str(path))
    paragraphs: list[str] = []
    tables: list[SourceTable] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            tables.append(_docx_table(block, len(tables) + 1))
        elif block.text.strip():
            paragraphs.append(block.text)
    return PlanSource(name=path.name, paragraphs=tuple(paragraphs), tables=tuple(tables))


def _docx_table(table: Table, number: int) -> SourceTable:
    """Rows as grid-wide cell texts: python-docx repeats a merged cell in each cell it spans."""
    rows: list[tuple[str, ...]] = []
    locations: list[str] = []
    for index, row in enumerate(table.rows, start=1):
        before, after = ("",) * row.grid_cols_before, ("",) * row.grid_cols_after
        rows.append((*before, *(cell.text for cell in row.cells), *after))
        locations.append(f"bảng {number}, hàng {index}")
    return SourceTable(rows=tuple(rows), locations=tuple(locations))


def _read_xlsx(path: Path) -> PlanSource:
    # Not read-only: merged ranges are only known to a fully loaded workbook.
    workbook = openpyxl.load_workbook(path, data_only=True)
    try:
        tables = tuple(_sheet_table(sheet) for sheet in workbook.worksheets)
    finally:
        workbook.close()
    return PlanSource(name=path.name, paragraphs=(), tables=tables)


def _sheet_table(sheet: Worksheet) -> SourceTable:
    """Every non-empty row of a sheet; a merged range shows its value in each cell it covers."""
    merged: dict[tuple[int, int], object] = {}
    for cell_range in sheet.merged_cells.ranges:
        value = sheet.cell(cell_range.min_row, cell_range.min_col).value
        for row in range(cell_range.min_row, cell_range.max_row + 1):
            for column in range(cell_range.min_col, cell_range.max_col + 1):
                merged[(row, column)] = value
    rows: list[tuple[str, ...]] = []
    locations: list[str] = []
    for row_number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = tuple(
            _cell_text(merged.get((row_number, column), value))
            for column, value in enumerate(values, start=1)
        )
        if any(cell.strip() for cell in cells):
            rows.append(cells)
            locations.append(f"{sheet.title}!{row_number}")
    return SourceTable(rows=tuple(rows), locations=tuple(locations))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # "1", not "1.0", in the TT column
    if isinstance(value, date):  # datetime included: the time of a deadline cell is noise
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


def _read_csv(path: Path) -> PlanSource:
    text = _decode(path)
    first_line, _, rest = text.partition("\n")
    hint = first_line.strip()
    skipped = 0
    # Excel honours a first line "sep=;" and so do we; that line still counts in the numbering.
    if len(hint) == len("sep=;") and hint.lower().startswith("sep="):
        delimiter, text, skipped = hint[-1], rest, 1
    else:
        delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[str, ...]] = []
    locations: list[str] = []
    start = 1
    for record in reader:
        if any(cell.strip() for cell in record):
            rows.append(tuple(record))
            locations.append(f"dòng {start + skipped}")
        start = reader.line_num + 1  # a quoted cell may span lines: name the row's first line
    table = SourceTable(rows=tuple(rows), locations=tuple(locations))
    return PlanSource(name=path.name, paragraphs=(), tables=(table,) if rows else ())


def _sniff_delimiter(text: str) -> str:
    """The delimiter that gives the most rows of one width.

    Counting characters would fail: Vietnamese Excel writes ";" files whose quoted cells are full
    of commas ("Các sở, ban, ngành").
    """
    sample = "\n".join(text.splitlines()[:_CSV_SAMPLE_LINES])
    best, best_score = ",", (0, 0)
    for delimiter in _CSV_DELIMITERS:
        widths = Counter(
            len(record)
            for record in csv.reader(io.StringIO(sample), delimiter=delimiter)
            if any(cell.strip() for cell in record)
        )
        wide = [(count, width) for width, count in widths.items() if width > 1]
        if wide and max(wide) > best_score:
            best, best_score = delimiter, max(wide)
    return best


_READERS: dict[str, Callable[[Path], PlanSource]] = {
    ".txt": _read_text,
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".docx": _read_docx,
    ".xlsx": _read_xlsx,
    ".xlsm": _read_xlsx,
    ".csv": _read_csv,
}
