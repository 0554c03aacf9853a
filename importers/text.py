"""The one place where text from a source is repaired before it becomes a record.

Sources hand us mojibake (UTF-8 read as Latin-1 or cp1252 somewhere upstream: arXiv's "WÃ¼bben"), control
characters (C0 and C1, terminal escape sequences from JSON strings) and stray whitespace. Every importer passes
its records through `repaired`, which applies `clean` to every text field: names, titles and venues on one line,
prose with its paragraphs.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

from importers.controls import strip_controls, strip_escape_sequences
from importers.records import AuthorRecord, WorkRecord

_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*")


def _fix(text: str) -> str:
    import ftfy

    # Curly quotes and HTML entities are left as the source wrote them: both are legitimate in titles, and each
    # importer unescapes HTML where the field is HTML.
    text = ftfy.fix_text(text, uncurl_quotes=False, unescape_html=False, explain=False, normalization="NFC")
    return unicodedata.normalize("NFC", text)


def clean(text: str | None, *, one_line: bool = True) -> str:
    """`text` repaired: mojibake fixed (ftfy), escape sequences and control characters removed, whitespace
    normalised (one_line: every run of whitespace, newlines included, becomes one space; otherwise paragraphs are
    kept, separated by one blank line). None gives ""."""
    if not text:
        return ""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    # ESC's sequences first, whole (ftfy would drop the ESC and leave the rest as text); then ftfy: mojibake often
    # holds C1 characters ("â€\x9d" is a UTF-8 ”) that it needs to repair the text; then every control left
    text = strip_escape_sequences(text)
    fixed = text if text.isascii() else _fix(text)
    fixed = strip_controls(fixed)
    if one_line:
        return " ".join(fixed.split())
    paragraphs = (_SPACES.sub(" ", p).strip() for p in _BLANK_LINES.split(fixed))
    return "\n\n".join(" ".join(line.strip() for line in p.split("\n") if line.strip()) for p in paragraphs if p)


def _maybe(text: str | None, one_line: bool = True) -> str | None:
    return (clean(text, one_line=one_line) or None) if text is not None else None


def repaired(record: WorkRecord | AuthorRecord):
    """A record with every text field cleaned; a name that cleans to nothing is dropped."""
    if isinstance(record, AuthorRecord):
        return dataclasses.replace(
            record, name=clean(record.name), affiliation=_maybe(record.affiliation), homepage=_maybe(record.homepage)
        )
    authors = [a for a in (clean(a) for a in record.authors) if a]
    names = {a: clean(a) for a in record.authors}
    return dataclasses.replace(
        record,
        title=clean(record.title),
        authors=authors,
        venue=_maybe(record.venue),
        abstract=_maybe(record.abstract, one_line=False),
        url=_maybe(record.url),
        categories=[c for c in (clean(c) for c in record.categories) if c],
        affiliations={
            names.get(a, clean(a)): [x for x in (clean(v) for v in vs) if x]
            for a, vs in record.affiliations.items()
            if names.get(a, clean(a))
        },
        author_profiles={
            names.get(a, clean(a)): p for a, p in record.author_profiles.items() if names.get(a, clean(a))
        },
    )
