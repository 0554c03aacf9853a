"""What a reader of the catalogue gets per work: the seam between the catalogue and the CLI, the site and the exports.

Rows come out of SQL as plain dicts; these say which keys they hold (the columns of kb.catalogue.schema.Work less those
only the search index and Datasette read, with the work's authors, identifiers, tags, relations and summary). No
`from __future__ import annotations` here: with it, Python 3.11 cannot see NotRequired at run time, and
tests/test_build.py reads the required keys to hold the records to them.
"""

from typing import Any, NotRequired, TypedDict


class AuthorRef(TypedDict):
    id: str
    name: str


class TechniqueTag(TypedDict):
    slug: str
    name: NotRequired[str]  # get_work only
    by: str
    confidence: float
    evidence: str | None


class MotivationTag(TypedDict):
    slug: str
    name: NotRequired[str]  # get_work only
    by: str
    confidence: float
    status: str
    quote: str | None
    where: str | None
    reasoning: str | None


class RelationRef(TypedDict):
    type: str
    id: str  # the other work's
    title: NotRequired[str]  # get_work only
    year: NotRequired[int | None]  # get_work only


class SummaryRecord(TypedDict):
    status: str
    contributors: list[str]
    updated: str | None
    xrisk: str | None
    opinion: str | None
    body: str
    path: str


class ExportedWork(TypedDict):
    """One work as `export` gives it."""

    id: str
    kind: str
    title: str
    more_authors: bool
    year: int | None
    date: str | None
    venue: str | None
    abstract: str | None
    url: str | None
    urls: dict[str, str]
    added: str | None
    withdrawn: bool
    categories: list[str]
    citation_count: int | None
    citations_as_of: str | None
    citations_source: str | None
    abstract_source: str | None
    curator_note: str | None
    motivation_status: str
    authors: list[AuthorRef]
    ids: dict[str, str]  # scheme -> the identifier as shown
    techniques: list[TechniqueTag]
    motivations: list[MotivationTag]
    relations: list[RelationRef]  # this work -> another
    cited_by: list[RelationRef]  # another work -> this one
    summary: SummaryRecord | None


class WorkDetail(ExportedWork):
    """One work as `get_work` gives it: the export's record, with citation counts within the catalogue and where
    each field came from."""

    cites_in_catalogue: int
    cited_by_in_catalogue: int
    provenance: list[dict[str, Any]]


class Export(TypedDict):
    """The whole catalogue, as `export` gives it."""

    works: list[ExportedWork]
    authors: list[dict[str, Any]]
    techniques: list[dict[str, Any]]
    motivations: list[dict[str, Any]]
