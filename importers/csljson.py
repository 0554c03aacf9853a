"""A CSL-JSON file (Zotero's "CSL JSON" export, Better CSL JSON, pandoc, citeproc): one work per item.

The items are read one at a time, so an item that is not an object, or has no title, fails alone and names the line
it starts on. Zotero keeps a preprint's arXiv id in `number` ("arXiv:2306.13455") with `publisher` "arXiv", and
often in `note` ("arXiv:2306.13455 [cs]"); a DOI in `DOI`, the page in `URL`. Titles may hold CSL's rich-text tags
(<i>, <b>, <sup>, <sc>, <span class="nocase">): their text is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from importers.library import Entry, read_file, records
from importers.records import SourceError

_KINDS = {
    **dict.fromkeys(
        "article article-journal article-magazine article-newspaper paper-conference chapter book manuscript"
        " thesis speech review review-book collection entry entry-encyclopedia pamphlet document".split(),
        "paper",
    ),
    "report": "report",
    **dict.fromkeys("post post-weblog webpage".split(), "web"),
}
_TAG = re.compile(r"</?(?:i|b|sup|sub|sc|span)\b[^>]*>", re.I)


def label(spec: dict) -> str:
    return f"csl-json {spec['path']}"


def fetch(http, spec: dict) -> Iterator:
    """spec: path. The file is read here; http is not used."""
    where = label(spec)
    text, notices = read_file(spec["path"], where)
    yield from notices
    yield from records(entries(text, where), f"csl-json:{Path(spec['path']).name}", where, spec["path"])


def entries(text: str, where: str = "csl-json") -> Iterator[Entry]:
    """The items of a CSL-JSON text (a list of items, or one item), each with the line it starts on."""
    decoder = json.JSONDecoder()
    i = _skip(text, 0)
    if i < len(text) and text[i] == "{":
        items = [(i, _decode(decoder, text, i, where))]
    elif i < len(text) and text[i] == "[":
        items = list(_array(decoder, text, i, where))
    else:
        raise SourceError(where, "not CSL-JSON: it must be a list of items ([...]) or one item ({...})", "line 1")
    for offset, item in items:
        line = text.count("\n", 0, offset) + 1
        if not isinstance(item, dict):
            yield Entry(line, None, f"skip: an item must be an object, not {type(item).__name__}", None)
            continue
        yield _entry(line, item)


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _decode(decoder: json.JSONDecoder, text: str, i: int, where: str):
    try:
        return decoder.raw_decode(text, i)[0]
    except json.JSONDecodeError as e:  # the file's syntax: nothing after this point can be told apart
        raise SourceError(where, f"not valid JSON: {e.msg}", f"line {e.lineno}, column {e.colno}") from None


def _array(decoder: json.JSONDecoder, text: str, start: int, where: str) -> Iterator[tuple[int, object]]:
    i = _skip(text, start + 1)
    while i < len(text) and text[i] != "]":
        try:
            item, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as e:
            raise SourceError(where, f"not valid JSON: {e.msg}", f"line {e.lineno}, column {e.colno}") from None
        yield i, item
        i = _skip(text, end)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
        elif i < len(text) and text[i] != "]":
            line = text.count("\n", 0, i) + 1
            raise SourceError(where, "not valid JSON: ',' or ']' expected between items", f"line {line}")
    if i >= len(text):
        raise SourceError(where, "not valid JSON: the list of items is never closed", "end of file")


def _text(value) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = " ".join(_TAG.sub("", str(value)).split())
        return text or None
    return None


def _name(person) -> str | None:
    if not isinstance(person, dict):
        return _text(person)
    if literal := _text(person.get("literal")):
        return literal
    parts = [person.get(k) for k in ("given", "dropping-particle", "non-dropping-particle", "family")]
    name = " ".join(t for t in map(_text, parts) if t)
    if suffix := _text(person.get("suffix")):
        name = f"{name} {suffix}"
    return name or None


def _issued(value) -> tuple[str | None, str | None]:
    """(year, ISO date) of a CSL date: date-parts [[2023, 6, 29]] (numbers or strings), or raw/literal text."""
    if not isinstance(value, dict):
        return None, None
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        first = [str(p).strip() for p in parts[0] if isinstance(p, int | str) and not isinstance(p, bool)]
        if not first:
            return None, None
        if len(first) >= 3 and all(p.isdigit() for p in first[:3]):
            return first[0], f"{int(first[0]):04d}-{int(first[1]):02d}-{int(first[2]):02d}"
        return first[0], None
    raw = _text(value.get("raw")) or _text(value.get("literal"))
    m = re.match(r"^\s*([0-9]{4})(?:-([0-9]{2})-([0-9]{2}))?", raw or "")
    if not m:
        return None, None
    return m[1], (m[0].strip() if m[2] else None)


def _entry(line: int, item: dict) -> Entry:
    kind = _text(item.get("type")) or "article"
    authors = [n for n in map(_name, item.get("author") or []) if n] if isinstance(item.get("author"), list) else []
    more = any(a.lower() in ("others", "et al.", "et al") for a in authors)
    year, date = _issued(item.get("issued"))
    venue = _text(item.get("container-title"))
    if not venue and kind in ("report", "article"):
        venue = _text(item.get("publisher"))  # a report's institution; a preprint's server
    urls = [u for u in (_text(item.get("URL")),) if u]
    hints = [_text(item.get(k)) or "" for k in ("number", "note", "archive_location", "publisher", "container-title")]
    return Entry(
        line=line,
        key=_text(item.get("id")),
        kind=_KINDS.get(kind, f"omit: type {kind!r} is no kind of work the catalogue holds"),
        title=_text(item.get("title")),
        authors=[a for a in authors if a.lower() not in ("others", "et al.", "et al")],
        more_authors=more,
        year=year,
        date=date,
        venue=venue,
        doi=_text(item.get("DOI")),
        arxiv=None,
        urls=urls,
        hints=[h for h in hints if h],
    )
