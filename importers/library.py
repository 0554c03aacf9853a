"""A researcher's library file (BibTeX, CSL-JSON or RIS, as Zotero, Better BibTeX, JabRef or Mendeley export it): what
the three readers share. Each reader (`importers/bibtex.py`, `importers/csljson.py`, `importers/ris.py`) turns the
file's entries into `Entry`s with the line each starts on; `records` turns those into `WorkRecord`s, reading
identifiers wherever libraries keep them (an arXiv id in `eprint`, in a journal field such as "arXiv preprint
arXiv:2310.01405", in a CSL `number` or a RIS note, in a DOI of arXiv's own or in a URL), and one entry that cannot be
read is a `Skipped` that names its line: the entries around it are imported.

Abstracts are not imported: a library's abstract may be anyone's words (a note, a publisher's blurb, text
re-typed from LaTeX), and data/ keeps only the authors' own, which `kb refresh` reads from the source.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from importers import identifiers
from importers.records import Notice, Skipped, SourceError, WorkRecord, linked_ids
from importers.text import repaired

YEARS = range(1900, 2101)  # what data/ accepts (kb.store.records.Work.year)
CODE_HOSTS = ("github.com", "gitlab.com")  # an entry whose only address is a repository there is software
# "arXiv:2310.01405", "arXiv preprint arXiv:2310.01405v2", "arXiv 2310.01405", "arxiv.org/abs/..." in free text
_ARXIV_IN_TEXT = re.compile(r"arxiv(?:\.org/(?:abs|pdf))?[:/\s]\s*([^\s,;()\[\]]+)", re.I)
_DOI = re.compile(r"^10\.[0-9]{4,9}/\S+$")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.I)
# A venue that only says "this is on arXiv" (DBLP calls arXiv CoRR): the venue is arXiv.
_PREPRINT_VENUE = re.compile(r"^\s*(?:arxiv\b|corr\b|arxiv\.org)", re.I)


@dataclass
class Entry:
    """One entry of a library, in the words of its format, read but not yet judged."""

    line: int
    key: str | None  # the citation key (BibTeX), id (CSL-JSON) or ID (RIS)
    # "paper", "report", "web" (a web page or blog post: a post unless it names a paper); "skip: why" for an entry
    # that cannot be read (an error), "omit: why" for one that is no work of the catalogue (software: a notice)
    kind: str
    title: str | None
    authors: list[str] = field(default_factory=list)
    more_authors: bool = False  # "and others", "et al."
    year: str | None = None
    date: str | None = None  # ISO, as far as the entry gives it (2023, 2023-06, 2023-06-29)
    venue: str | None = None
    doi: str | None = None
    arxiv: str | None = None  # an explicit arXiv id (eprint with archivePrefix/eprinttype arXiv)
    urls: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)  # free text that may name an arXiv id (number, note, journal)


def read_file(path: str, where: str) -> tuple[str, list[Notice]]:
    """The file's text: UTF-8 (with or without a byte-order mark), else windows-1252 with a notice."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise SourceError(where, f"cannot read the file: {e.strerror or e}") from None
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as e:
        notice = Notice(where, f"not UTF-8 (byte {e.start}): read as windows-1252")
        return data.decode("cp1252", errors="replace"), [notice]


def records(entries: Iterable[Entry | Notice], source: str, where: str, path: str) -> Iterator:
    """WorkRecords of the entries; a Skipped for each entry that cannot be a work, naming its line."""
    for entry in entries:
        if isinstance(entry, Notice):
            yield entry
            continue
        place = f"{path} line {entry.line}"
        name = f"entry {entry.key!r}" if entry.key else "entry"
        if entry.kind.startswith("skip: "):
            yield Skipped(where, f"{name} skipped: {entry.kind.removeprefix('skip: ')}", place)
            continue
        if entry.kind.startswith("omit: ") or (repository := _code_repository(entry)):
            why = entry.kind.removeprefix("omit: ") if entry.kind.startswith("omit: ") else repository
            yield Notice(where, f"{name} left out: {why}", place)
            continue
        if not entry.title or not entry.title.strip():
            yield Skipped(where, f"{name} skipped: it has no title", place)
            continue
        record, notices = _record(entry, source)
        for notice in notices:
            yield Notice(where, f"{name}: {notice}", place)
        yield repaired(record)


def _code_repository(entry: Entry) -> str | None:
    """Why an entry is a piece of software rather than a work (Zotero exports a program as @misc with its
    repository's address), or None. An entry with an arXiv id or a DOI is a paper, wherever its address points."""
    if entry.arxiv or entry.doi or any(_ARXIV_IN_TEXT.search(h or "") for h in entry.hints):
        return None
    for url in entry.urls:
        host = urlsplit(url.strip()).netloc.lower().removeprefix("www.")
        if host in CODE_HOSTS:
            return f"its address is a code repository ({host}), no kind of work the catalogue holds"
    return None


def _record(entry: Entry, source: str) -> tuple[WorkRecord, list[str]]:
    notices: list[str] = []
    urls = [u.strip() for u in entry.urls if re.match(r"^https?://\S+$", u.strip())]
    found = dict(linked_ids(" ".join(urls)))  # the first of each kind (linked_ids keeps their order)
    arxiv = _arxiv(entry, found, notices)
    doi = _doi(entry.doi, notices) if entry.doi else found.get("doi")
    if doi and arxiv and identifiers.arxiv_from_doi(doi):
        doi = None  # arXiv's own DOI says no more than the arXiv id, and would hold the place of a publisher's
    given = {"arxiv": arxiv, "doi": doi} | {scheme: found.get(scheme) for scheme in ("lesswrong", "alignmentforum")}
    ids = {k: v for k, v in given.items() if v}
    forum = "lesswrong" in ids or "alignmentforum" in ids
    if forum:
        kind = "post"
    elif entry.kind == "web":
        kind = "paper" if (arxiv or doi) else "post"  # an @online entry for a paper's page is still the paper
    else:
        kind = entry.kind
    year, date = _when(entry, notices)
    venue = entry.venue.strip() if entry.venue and entry.venue.strip() else None
    if venue and _PREPRINT_VENUE.match(venue):
        venue = "arXiv"  # as importers/arxiv.py names a preprint's venue
    record = WorkRecord(
        source=source,
        kind=kind,
        title=entry.title or "",
        authors=list(entry.authors),
        more_authors=entry.more_authors,
        year=year,
        date=date,
        venue=venue,
        url=urls[0] if urls else None,  # what the entry says: kb refresh fills the rest from the source
        ids=ids,
        library=True,
    )
    return record, notices


def arxiv_id(text: str) -> str | None:
    """The arXiv id a value is ('2310.01405', 'arXiv:2310.01405v2'), without its version; None if it is none."""
    value = re.sub(r"^arxiv:\s*", "", text.strip(), flags=re.I)
    return identifiers.strip_version(value) if identifiers.is_arxiv_id(value, versioned=True) else None


def _arxiv(entry: Entry, found: dict, notices: list[str]) -> str | None:
    if entry.arxiv:
        value = arxiv_id(entry.arxiv)
        if value:
            return value
        notices.append(f"eprint {entry.arxiv[:60]!r} is not an arXiv id: left out")
    if entry.doi and (value := identifiers.arxiv_from_doi(_DOI_PREFIX.sub("", entry.doi.strip()))):
        return value
    if found.get("arxiv"):
        return found["arxiv"]
    for text in entry.hints:
        for m in _ARXIV_IN_TEXT.finditer(text or ""):
            if value := arxiv_id(m[1].rstrip(".")):
                return value
    return None


def _doi(value: str, notices: list[str]) -> str | None:
    doi = _DOI_PREFIX.sub("", value.strip())
    if _DOI.match(doi):
        return doi
    notices.append(f"doi {value[:60]!r} is not a DOI (10.NNNN/suffix): left out")
    return None


def _when(entry: Entry, notices: list[str]) -> tuple[int | None, str | None]:
    """(year, ISO date when the entry gives a whole one)."""
    date = entry.date.strip() if entry.date else None
    text = entry.year.strip() if entry.year else (date[:4] if date else "")
    year = int(text) if re.fullmatch(r"[0-9]{4}", text) else None
    if text and (year is None or year not in YEARS):
        notices.append(f"year {text[:20]!r} is not a year: left out")
        return None, None
    if date and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", date) and (year is None or date.startswith(str(year))):
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            notices.append(f"date {date!r} is no day of the calendar: left out")
            return year, None
        return year or int(date[:4]), date
    return year, None
