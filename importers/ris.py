"""A RIS file (Zotero, EndNote, Mendeley, publishers' "export citation"): one work per record (TY ... ER).

A record runs from its `TY` line to its `ER` line; a line without a tag continues the value above it. A record with
no title, or of a type that is no work of the catalogue, fails alone and names the line of its `TY`. Preprints
come as TY UNPB (EndNote), RPRT, GEN, JOUR or MANSCPT depending on the tool; posts as BLOG, ELEC or WEB. An arXiv
id may be in M1 or M3 ("arXiv:2310.01405"), AN, SN (a report number), N1, a 10.48550 DOI, or the UR address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from importers.library import Entry, read_file, records
from importers.records import Notice

_TAG = re.compile(r"^([A-Z][A-Z0-9])  ?-(?: (.*)|\s*)$")
_KINDS = {
    **dict.fromkeys("RPRT GOVDOC STAND".split(), "report"),
    **dict.fromkeys("BLOG ELEC WEB ICOMM".split(), "web"),
    **dict.fromkeys(
        "JOUR JFULL EJOUR ABST MGZN NEWS CONF CPAPER CHAP ECHAP BOOK EBOOK EDBOOK THES UNPB UNPD INPR MANSCPT"
        " GEN SER PAMP GRNT CTLG".split(),
        "paper",
    ),
}
_VENUE_TAGS = ("JF", "T2", "JO", "BT", "JA", "J2")
_HINT_TAGS = ("M1", "M3", "AN", "SN", "N1", "ID", "T2", "JO", "PB", "DB")


def label(spec: dict) -> str:
    return f"ris {spec['path']}"


def fetch(http, spec: dict) -> Iterator:
    """spec: path. The file is read here; http is not used."""
    where = label(spec)
    text, notices = read_file(spec["path"], where)
    yield from notices
    yield from records(entries(text, where, spec["path"]), f"ris:{Path(spec['path']).name}", where, spec["path"])


def entries(text: str, where: str = "ris", path: str = "") -> Iterator[Entry | Notice]:
    """The records of a RIS text, each with the line of its TY."""
    tags: list[tuple[str, str]] = []
    start = 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        m = _TAG.match(line.lstrip("\ufeff"))
        if m and m[1] == "TY":
            if tags:
                yield Notice(where, "a record without ER: it ends where the next TY begins", f"{path} line {start}")
                yield _entry(start, tags)
            tags, start = [("TY", (m[2] or "").strip())], n
        elif m and m[1] == "ER":
            if tags:
                yield _entry(start, tags)
            tags = []
        elif m and tags:
            tags.append((m[1], (m[2] or "").strip()))
        elif tags and line.strip():  # a value continued on the next line (an abstract, a long title)
            tag, value = tags[-1]
            tags[-1] = (tag, f"{value} {line.strip()}")
    if tags:
        yield Notice(where, "the last record has no ER: read to the end of the file", f"{path} line {start}")
        yield _entry(start, tags)


def _first(tags: list[tuple[str, str]], *names: str) -> str | None:
    for name in names:
        for tag, value in tags:
            if tag == name and value:
                return value
    return None


def _name(value: str) -> str:
    """'Zou, Andy' -> 'Andy Zou'; 'King, Martin Luther, Jr.' -> 'Martin Luther King Jr.'; other forms as written."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) == 2:
        return f"{parts[1]} {parts[0]}"
    if len(parts) == 3:
        return f"{parts[1]} {parts[0]} {parts[2]}"
    return " ".join(value.split())


def _date(value: str | None) -> tuple[str | None, str | None]:
    """RIS dates: '2023', '2023/06/29', '2023/06/29/', '2023///', '2023-06-29'."""
    m = re.match(r"^\s*([0-9]{4})(?:[/-]([0-9]{1,2})[/-]([0-9]{1,2}))?", value or "")
    if not m:
        return (value.strip()[:4] if value and value.strip() else None), None
    return m[1], (f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}" if m[2] else None)


def _entry(line: int, tags: list[tuple[str, str]]) -> Entry:
    ty = (_first(tags, "TY") or "").upper()
    authors = [_name(v) for t, v in tags if t in ("AU", "A1") and v]
    more = any(a.lower() in ("others", "et al.", "et al") for a in authors)
    year, date = _date(_first(tags, "DA", "PY", "Y1"))
    if year is None or (date is None and _first(tags, "PY", "Y1")):
        year = _date(_first(tags, "PY", "Y1"))[0] or year
    kind = _KINDS.get(ty, f"omit: TY {ty or '(empty)'} is no kind of work the catalogue holds")
    if ty == "RPRT" and "preprint" in (_first(tags, "M3") or "").lower():
        kind = "paper"  # a preprint written as a report (Zotero reads no preprint type): kb's own export does so
    venue = _first(tags, *_VENUE_TAGS)
    if not venue and _KINDS.get(ty) in ("report", "paper"):
        venue = _first(tags, "PB")  # a report's institution; a preprint's server
    return Entry(
        line=line,
        key=_first(tags, "ID"),
        kind=kind,
        title=_first(tags, "TI", "T1", "CT"),
        authors=[a for a in authors if a.lower() not in ("others", "et al.", "et al")],
        more_authors=more,
        year=year,
        date=date,
        venue=venue,
        doi=_first(tags, "DO"),
        arxiv=None,
        urls=[v for t, v in tags if t in ("UR", "L2") and v],
        hints=[v for t, v in tags if t in _HINT_TAGS and v],
    )
