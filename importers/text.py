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

from importers.records import AuthorRecord, WorkRecord

# Whole escape sequences first (CSI colours and cursor moves, OSC titles and hyperlinks ended by BEL or ST, DCS/SOS/
# PM/APC strings, two-character escapes, their 8-bit forms), so that no parameter bytes are left behind as text.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # 8-bit strings only when ended: else lone C1s
)
# What is left of C0 (but tab and newline), DEL, C1; and the invisible format characters that reorder or hide text.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*")


def _fix(text: str) -> str:
    import ftfy

    # Curly quotes and HTML entities are left as the source wrote them: both are legitimate in titles, and each
    # importer unescapes HTML where the field is HTML.
    text = ftfy.fix_text(text, uncurl_quotes=False, unescape_html=False, explain=False, normalization="NFC")
    return unicodedata.normalize("NFC", text)


def strip_controls(text: str) -> str:
    """`text` without escape sequences, control characters and invisible reordering characters (nothing else)."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def clean(text: str | None, *, one_line: bool = True) -> str:
    """`text` repaired: mojibake fixed (ftfy), escape sequences and control characters removed, whitespace
    normalised (one_line: every run of whitespace, newlines included, becomes one space; otherwise paragraphs are
    kept, separated by one blank line). None gives ""."""
    if not text:
        return ""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    # ftfy first: mojibake often holds C1 characters ("â€\x9d" is a UTF-8 ”) that it needs to repair the text
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
