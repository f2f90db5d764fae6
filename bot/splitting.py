"""Cutting a long text into messages a platform accepts, at line boundaries.

A reminder listing many tasks can exceed Telegram's 4096 or Zalo's 2000 characters. Cutting
between lines keeps each task line whole; only a single line longer than the limit is cut inside,
at the last space that fits (or hard, for a line without spaces). Blank lines at a cut are
dropped: platforms trim them anyway and refuse a message that is only whitespace.
"""


def split_text(text: str, limit: int) -> list[str]:
    """Parts of ``text``, each 1..``limit`` characters, in order; [] for a blank text."""
    if limit < 1:
        raise ValueError(f"limit must be positive: {limit}")
    parts: list[str] = []
    current: list[str] = []
    size = 0  # length of "\n".join(current)
    for line in text.split("\n"):
        pieces = _cut_line(line, limit) if len(line) > limit else [line]
        for piece in pieces:
            added = len(piece) + (1 if current else 0)
            if current and size + added > limit:
                parts.append("\n".join(current))
                current, size = [], 0
                added = len(piece)
            current.append(piece)
            size += added
    if current:
        parts.append("\n".join(current))
    trimmed = (part.strip("\n") for part in parts)
    return [part for part in trimmed if part.strip()]


def _cut_line(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    while len(line) > limit:
        cut = line.rfind(" ", 1, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(line[:cut].rstrip(" "))
        line = line[cut:].lstrip(" ")
    if line:
        pieces.append(line)
    return pieces
