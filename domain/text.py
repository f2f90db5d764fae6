"""Text folding shared by every parser that accepts Vietnamese with or without diacritics."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese diacritics, keeping case: "Sở Nội vụ" -> "So Noi vu"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def fold(text: str) -> str:
    """Lower-case, diacritic-free, single-spaced: " Quý  II/2024" -> "quy ii/2024"."""
    return _SPACES.sub(" ", strip_diacritics(text).lower()).strip()


def nfc(text: str) -> str:
    """Compose to NFC and collapse white space; the form stored and shown to users."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()
