"""The plain records every importer returns, the one error type they raise, and the contract every importer
module keeps (Importer)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from importers import identifiers


class SourceError(Exception):
    """A source answered with something we cannot use. Says which source, where, and what to do."""

    def __init__(self, source: str, message: str, where: str | None = None, hint: str | None = None):
        self.source, self.message, self.where, self.hint = source, message, where, hint
        self.status: int | None = None  # the HTTP status, when the error is an HTTP answer
        self.body: bytes | None = None  # that answer's body: an API may explain the error in it (GraphQL, arXiv)
        text = f"{source}: {message}" + (f" (at {where})" if where else "")
        super().__init__(text + (f"\n{hint}" if hint else ""))


@dataclass
class Notice:
    """Something the user should know that did not stop the import (a link dropped, bytes replaced)."""

    source: str
    message: str
    where: str | None = None

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" + (f" (at {self.where})" if self.where else "")


@dataclass
class Skipped(Notice):
    """One item of a source that could not be read (a library entry without a title, a syntax error in it): it
    fails alone, the items around it are imported, and the import reports it as an error with its place."""


@dataclass
class Link:
    """A relation to another work, named by an identifier the importer knows (e.g. a LessWrong post id)."""

    type: str  # discusses, replies-to, critiques, extends, replicates, cites
    scheme: str
    value: str


@dataclass
class WorkRecord:
    source: str  # e.g. "arxiv", "lesswrong", "feed:https://...", "scholar", "openalex"
    kind: str  # paper, post, comment, report
    title: str
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    date: str | None = None  # ISO date
    venue: str | None = None  # the venue's name alone: its volume and pages go below
    volume: str | None = None  # "126", or "521 (7553)" with its issue
    pages: str | None = None  # "287-296"
    abstract: str | None = None
    url: str | None = None
    ids: dict[str, str] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    withdrawn: bool = False
    more_authors: bool = False  # the source listed only some of the authors
    author_profiles: dict[str, dict] = field(default_factory=dict)  # name -> {"lesswrong": slug, ...}
    categories: list[str] = field(default_factory=list)  # arXiv categories, the primary one first
    updated: str | None = None  # ISO date of the latest version (arXiv), when the source gives it
    affiliations: dict[str, list[str]] = field(default_factory=dict)  # author name -> affiliations
    citation_count: int | None = None
    citations_as_of: str | None = None  # ISO date the count was read
    library: bool = False  # from a researcher's library file, which lists each work once (kb.ingest.merging, rule 2)


@dataclass
class AuthorRecord:
    name: str
    scholar_id: str | None = None
    lesswrong: str | None = None
    homepage: str | None = None
    affiliation: str | None = None


def discussed(html: str | None) -> list[Link]:
    """The works an HTML text links to (arXiv, DOI, forum posts), as `discusses` links. Read from the hrefs before
    any flattening of the text, so a link whose text is "the paper" still counts."""
    hrefs = " ".join(re.findall(r"""href\s*=\s*["']([^"']+)""", html or "", re.I))
    return [Link("discusses", scheme, value) for scheme, value in linked_ids(hrefs)]


def linked_ids(text: str | None) -> list[tuple[str, str]]:
    """(scheme, identifier) of each work a text links to (arXiv, DOI, forum posts), in order, no repeats."""
    return identifiers.linked(text)


@runtime_checkable
class Importer(Protocol):
    """What every importers.<module> is: a module with these two functions (a module satisfies a Protocol).

    A spec is one [[source]] table of data/sources.toml (its "type" names the entry of kb's SOURCES table); `kb
    import <source>` builds the same dict from its options, so both commands go through one fetch."""

    def label(self, spec: dict) -> str:
        """The name its records and errors go by ("feed https://...")."""
        ...

    def fetch(self, http: Polite, spec: dict) -> Iterator[WorkRecord | AuthorRecord | Notice]:
        """WorkRecords, the AuthorRecords of profile owners and Notices (a Skipped item among them), as they are
        read; a SourceError when it must stop early (the records already yielded are kept)."""
        ...


if TYPE_CHECKING:  # the annotation only: importers.http imports this module
    from importers.http import Polite
