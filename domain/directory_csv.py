"""The agency directory as two CSV texts, so that an administrator can edit it in a spreadsheet.

Pure: the caller reads the files (app/bootstrap.py) and passes their text. Layout (UTF-8, comma
separated, one header row; rows whose first cell starts with "#" are comments; blank rows skipped):

agencies:  code,name,level,aliases,groups,valid_from,valid_until,successor,note
  code         ASCII capitals, digits and hyphens: SNV, VPUBND, H-QUYNHLUU, X-ANHSON (required)
  name         official name with diacritics: "Sở Nội vụ", "UBND huyện Quỳnh Lưu" (required)
  level        province | district | commune | other (required)
  aliases      other written forms separated by "|": "Sở NV|Sở Nội vụ tỉnh Nghệ An"; forms
               derivable by rule (SKHĐT, "Sở KH&ĐT", "huyện Quỳnh Lưu") need not be listed
  groups       codes of the groups the agency belongs to, separated by "|"
  valid_from   first day the agency exists, YYYY-MM-DD; empty: it always did
  valid_until  last day it exists, YYYY-MM-DD; empty: it still does
  successor    code of the agency taking over its work after valid_until (empty when the work is
               split, as for districts abolished on 2025-07-01)
  note         free remark: sources, why a successor is empty
groups:    code,name,aliases,note     (members are declared in the agencies' groups column)

Only code, name and level are required columns; columns may come in any order; an unknown column
is an error (it is usually a typo that would silently drop data).
"""

import csv
import io
import re
from collections.abc import Iterator
from datetime import date

from domain.agencies import Agency, AgencyLevel, Directory, Group
from domain.text import nfc

AGENCY_COLUMNS = (
    "code", "name", "level", "aliases", "groups", "valid_from", "valid_until", "successor", "note",
)
GROUP_COLUMNS = ("code", "name", "aliases", "note")
_REQUIRED = {"agencies": ("code", "name", "level"), "groups": ("code", "name")}
_TABLE_LABEL = {"agencies": "bảng cơ quan (agencies)", "groups": "bảng nhóm (groups)"}
_CODE = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)*")


class DirectoryFormatError(ValueError):
    """A directory CSV row that cannot be read; the message names source, table, line and column."""

    def __init__(
        self, message: str, *, source: str = "", table: str = "", line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.source, self.table, self.line, self.column = source, table, line, column
        where = [f"Danh bạ {source}" if source else "Danh bạ"]
        if table:
            where.append(_TABLE_LABEL[table])
        if line is not None:
            where.append(f"dòng {line}")
        if column:
            where.append(f"cột {column}")
        super().__init__(f"{', '.join(where)}: {message}")


class _Row:
    """One data row with its line number, read by column name."""

    def __init__(self, cells: dict[str, str], line: int, table: str, source: str) -> None:
        self.cells, self.line, self.table, self.source = cells, line, table, source

    def error(self, column: str, message: str) -> DirectoryFormatError:
        return DirectoryFormatError(
            message, source=self.source, table=self.table, line=self.line, column=column
        )

    def text(self, column: str, *, required: bool = False) -> str:
        value = nfc(self.cells.get(column, ""))
        if required and not value:
            raise self.error(column, "thiếu giá trị.")
        return value

    def listed(self, column: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for p in (nfc(x) for x in self.text(column).split("|")) if p))

    def code(self, column: str, value: str) -> str:
        if not _CODE.fullmatch(value):
            raise self.error(
                column, f"mã {value!r} không hợp lệ (chỉ chữ in hoa không dấu, số và dấu '-')."
            )
        return value

    def day(self, column: str) -> date | None:
        value = self.text(column)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.error(
                column, f"ngày {value!r} không hợp lệ (cần dạng YYYY-MM-DD, ví dụ 2025-03-01)."
            ) from None


def _rows(text: str, table: str, source: str, known: tuple[str, ...]) -> Iterator[_Row]:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header: list[str] | None = None
    for cells in reader:
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [c.strip().lower() for c in cells]
            unknown = [c for c in header if c not in known]
            missing = [c for c in _REQUIRED[table] if c not in header]
            if unknown or missing or len(set(header)) != len(header):
                problem = (
                    f"cột không biết: {', '.join(unknown)}" if unknown
                    else f"thiếu cột: {', '.join(missing)}" if missing
                    else "tên cột bị lặp"
                )
                raise DirectoryFormatError(
                    f"dòng tiêu đề sai ({problem}); các cột hợp lệ: {', '.join(known)}.",
                    source=source, table=table, line=reader.line_num,
                )
            continue
        if len(cells) > len(header):
            raise DirectoryFormatError(
                f"có {len(cells)} ô, nhiều hơn {len(header)} cột của dòng tiêu đề.",
                source=source, table=table, line=reader.line_num,
            )
        yield _Row(dict(zip(header, cells, strict=False)), reader.line_num, table, source)
    if header is None:
        raise DirectoryFormatError("tệp rỗng, không có dòng tiêu đề.", source=source, table=table)


def parse_directory(agencies_csv: str, groups_csv: str, source: str = "") -> Directory:
    """Both CSV texts to a validated Directory; DirectoryFormatError names the first bad cell."""
    notes: dict[str, str] = {}
    group_rows: dict[str, tuple[str, tuple[str, ...]]] = {}
    for row in _rows(groups_csv, "groups", source, GROUP_COLUMNS):
        code = row.code("code", row.text("code", required=True))
        if code in group_rows:
            raise row.error("code", f"mã nhóm {code} bị trùng.")
        group_rows[code] = (row.text("name", required=True), row.listed("aliases"))
        notes[code] = row.text("note")

    agencies: list[Agency] = []
    members: dict[str, list[str]] = {code: [] for code in group_rows}
    successors: list[tuple[_Row, str]] = []
    for row in _rows(agencies_csv, "agencies", source, AGENCY_COLUMNS):
        code = row.code("code", row.text("code", required=True))
        if code in notes:
            raise row.error("code", f"mã {code} bị trùng.")
        name = row.text("name", required=True)
        level_text = row.text("level", required=True).lower()
        try:
            level = AgencyLevel(level_text)
        except ValueError:
            allowed = ", ".join(level.value for level in AgencyLevel)
            raise row.error(
                "level", f"cấp {level_text!r} không hợp lệ (chọn: {allowed})."
            ) from None
        for group in row.listed("groups"):
            if group not in members:
                raise row.error("groups", f"nhóm {group} không có trong bảng nhóm.")
            members[group].append(code)
        valid_from, valid_until = row.day("valid_from"), row.day("valid_until")
        if valid_from and valid_until and valid_from > valid_until:
            raise row.error("valid_until", "ngày kết thúc trước ngày bắt đầu.")
        successor = row.text("successor") or None
        if successor is not None:
            row.code("successor", successor)
            if successor == code:
                raise row.error("successor", "cơ quan không thể kế thừa chính mình.")
            if valid_until is None:
                raise row.error("valid_until", "có cơ quan kế thừa thì phải có ngày kết thúc.")
            successors.append((row, successor))
        agencies.append(
            Agency(code=code, name=name, level=level, aliases=row.listed("aliases"),
                   valid_from=valid_from, valid_until=valid_until, successor=successor)
        )
        notes[code] = row.text("note")
    known = {a.code for a in agencies}
    for row, successor in successors:
        if successor not in known:
            raise row.error("successor", f"cơ quan kế thừa {successor} không có trong danh bạ.")

    groups = [
        Group(code=code, name=name, aliases=aliases, members=tuple(members[code]))
        for code, (name, aliases) in group_rows.items()
    ]
    try:
        return Directory(agencies, groups, notes=notes)
    except ValueError as exc:
        raise DirectoryFormatError(str(exc), source=source) from exc


def _write(header: tuple[str, ...], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def dump_agencies(directory: Directory) -> str:
    """The agencies table as CSV text; parse_directory reads it back to the same directory."""
    belongs: dict[str, list[str]] = {}
    for group in directory.groups.values():
        for code in group.members:
            belongs.setdefault(code, []).append(group.code)
    return _write(AGENCY_COLUMNS, [
        [
            a.code, a.name, a.level.value, "|".join(a.aliases), "|".join(belongs.get(a.code, [])),
            a.valid_from.isoformat() if a.valid_from else "",
            a.valid_until.isoformat() if a.valid_until else "",
            a.successor or "", directory.note(a.code),
        ]
        for a in directory.agencies.values()
    ])


def dump_groups(directory: Directory) -> str:
    """The groups table as CSV text (members are written by dump_agencies)."""
    return _write(GROUP_COLUMNS, [
        [g.code, g.name, "|".join(g.aliases), directory.note(g.code)]
        for g in directory.groups.values()
    ])
