"""Plain text and Markdown plans as a ``PlanSource`` (pure).

Plans often arrive as text copied or extracted from Word and PDF files, with the appendix table as
tab-separated lines and Markdown marks left in the prose, or as Markdown written by hand with pipe
tables. Both become paragraphs and tables located by line number ("dòng 57"), so that the table
reader in ``domain.plans`` never sees a file format.
"""

import re
from collections.abc import Iterable
from itertools import groupby

from domain.plans import PlanSource, SourceTable
from domain.text import nfc

# A tab-separated line is a table row only from three cells on: two could be a label and its value.
_MIN_TEXT_CELLS = 3

_HEADING_MARK = re.compile(r"^\s{0,3}(?:#{1,6}|>)\s*")
_EMPHASIS_MARK = re.compile(r"\*+")
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_SEPARATOR_CELL = re.compile(r":?-+:?")

# A classified line: a table row (its cells; empty for a Markdown |---| line, which belongs to the
# table but holds no cells) or prose (possibly empty, which ends a table).
_Line = tuple[str, ...] | str


def source_from_text(text: str, name: str) -> PlanSource:
    """Read plain text: runs of tab-separated lines become tables, every other line a paragraph."""
    return _assemble(name, (_text_line(line) for line in _lines(text)))


def source_from_markdown(text: str, name: str) -> PlanSource:
    """Read Markdown: pipe tables become tables, every other line a paragraph without its marks."""
    return _assemble(name, (_markdown_line(line) for line in _lines(text)))


def _lines(text: str) -> list[str]:
    # Only newlines count, as in an editor's line numbers; a form feed (page break) is a blank.
    unified = text.replace("\r\n", "\n").replace("\r", "\n")
    return unified.replace("\f", "").split("\n")


def _unmark(line: str) -> str:
    """Drop the Markdown marks that extracted text keeps: headings, quotes, bold and italics."""
    return nfc(_EMPHASIS_MARK.sub("", _HEADING_MARK.sub("", line)))


def _text_line(line: str) -> _Line:
    cells = line.split("\t")
    if len(cells) >= _MIN_TEXT_CELLS and line.strip():
        return tuple(_unmark(cell) for cell in cells)
    return _unmark(line)


def _markdown_line(line: str) -> _Line:
    stripped = line.strip()
    if not stripped.startswith("|"):
        return _markdown_prose(line)
    body = stripped[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    raw_cells = [cell.strip() for cell in _UNESCAPED_PIPE.split(body)]
    if all(_SEPARATOR_CELL.fullmatch(cell) for cell in raw_cells):
        return ()
    return tuple(_markdown_prose(_HTML_BREAK.sub(" ", cell)) for cell in raw_cells)


def _markdown_prose(text: str) -> str:
    return _MARKDOWN_ESCAPE.sub(r"\1", _unmark(text))


def _assemble(name: str, lines: Iterable[_Line]) -> PlanSource:
    paragraphs: list[str] = []
    tables: list[SourceTable] = []
    numbered = enumerate(lines, start=1)
    for is_table, group in groupby(numbered, key=lambda item: isinstance(item[1], tuple)):
        if is_table:
            rows = [
                (number, cells) for number, cells in group if isinstance(cells, tuple) and cells
            ]
            if rows:
                tables.append(
                    SourceTable(
                        rows=tuple(cells for _, cells in rows),
                        locations=tuple(f"dòng {number}" for number, _ in rows),
                    )
                )
        else:
            paragraphs.extend(text for _, text in group if isinstance(text, str) and text)
    return PlanSource(name=name, paragraphs=tuple(paragraphs), tables=tuple(tables))
