"""The record types of data/: what a work, an author, a tag and a summary are.

These pydantic models are the schema that `kb validate` enforces and that importers' records are
converted into. They hold no database state: the catalogue module maps them to tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from importers.identifiers import ARXIV_ID, DOI
from kb.names import SLUG_RE
from kb.query import RELATIONS, WORK_KINDS

Slug = Annotated[str, Field(pattern=SLUG_RE.pattern)]
HttpUrl = Annotated[str, Field(pattern=r"^https?://\S+$")]

# "cites": the work's reference list names the target (from OpenAlex or arXiv/DOI matches), kept apart from
# the hand-made relations so that a refresh can replace it whole.
RELATION_TYPES = RELATIONS
# Who assigned a tag, most trusted first: the authors say so in the text; a summary's author or a curator
# judged it (a summary is the more considered judgement);
# or an automatic tagger suggested it.
TAG_SOURCES = ("authors", "summariser", "curator", "rule", "model")
ID_SCHEMES = (
    "doi",
    "arxiv",
    "scholar",
    "lesswrong",
    "alignmentforum",
    "openalex",
    "s2",
    "openreview",
    "acl",
    "feed",  # a feed item's guid (RSS <guid>, Atom <id>)
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tag(Strict):
    slug: Slug
    by: Literal[TAG_SOURCES] = "curator"  # type: ignore[valid-type]
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    evidence: str | None = None


class Relation(Strict):
    type: Literal[RELATION_TYPES]  # type: ignore[valid-type]
    target: Slug


class Provenance(Strict):
    source: str
    fetched_at: dt.date | dt.datetime
    fields: list[str] = Field(default_factory=list)  # what this source contributed
    matched_by: str | None = None  # how an imported record was recognised as this work


class Citations(Strict):
    """A citation count as one source gave it on one day: counts change, so the date is part of the fact."""

    count: Annotated[int, Field(ge=0)]
    as_of: dt.date
    source: str  # e.g. "openalex", "scholar"


class Work(Strict):
    id: Slug
    kind: Literal[WORK_KINDS]  # type: ignore[valid-type]
    title: Annotated[str, Field(min_length=1)]
    authors: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    more_authors: bool = False  # the list is known to be incomplete ("et al.")
    withdrawn: bool = False
    year: Annotated[int, Field(ge=1900, le=2100)] | None = None
    date: dt.date | None = None
    venue: str | None = None
    volume: str | None = None  # of the venue, with its issue: "521 (7553)"
    pages: str | None = None
    abstract: str | None = None
    url: HttpUrl | None = None
    urls: dict[str, HttpUrl] = Field(default_factory=dict)
    ids: dict[Literal[ID_SCHEMES], str] = Field(default_factory=dict)  # type: ignore[valid-type]
    categories: list[str] = Field(default_factory=list)  # arXiv categories, the primary one first
    citations: Citations | None = None
    techniques: list[Tag] = Field(default_factory=list)
    motivations: list[Tag] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    provenance: list[Provenance] = Field(default_factory=list)

    @field_validator("techniques", "motivations", mode="before")
    @classmethod
    def _shorthand_tags(cls, value):
        # In data/ a bare slug is shorthand for a curated tag: it keeps hand-written lines short.
        if type(value) is list:
            return [{"slug": v} if type(v) is str else v for v in value]
        return value

    @field_validator("ids")
    @classmethod
    def _identifiers_in_their_registrys_form(cls, ids: dict) -> dict:
        # A version suffix would make the next import of the same preprint (always without it) another work.
        arxiv = ids.get("arxiv")
        if arxiv is not None and not ARXIV_ID.fullmatch(arxiv):
            raise ValueError(f"arxiv {arxiv!r} is not an arXiv id without its version (2310.01405, hep-th/9901001)")
        doi = ids.get("doi")
        if doi is not None and not DOI.fullmatch(doi):
            raise ValueError(f"doi {doi!r} is not a DOI (10.NNNN/suffix, without https://doi.org/)")
        return ids

    @model_validator(mode="after")
    def _date_matches_year(self) -> Work:
        if self.date and self.year and self.date.year != self.year:
            raise ValueError(f"date {self.date} is not in year {self.year}")
        return self

    def to_data(self) -> dict:
        """The canonical data/ form: defaults dropped, curated tags written as bare slugs."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        for key in ("techniques", "motivations"):
            if key in data:
                data[key] = [_compact_tag(t) for t in data[key]]
        return data


def _compact_tag(tag: dict) -> str | dict:
    return tag["slug"] if set(tag) == {"slug"} else tag


class Author(Strict):
    id: Slug
    name: Annotated[str, Field(min_length=1)]
    aliases: list[str] = Field(default_factory=list)
    scholar_id: str | None = None
    lesswrong: str | None = None
    homepage: HttpUrl | None = None
    affiliation: str | None = None


class SummaryMeta(Strict):
    """The front matter of data/summaries/<work-id>.md."""

    work: Slug
    status: Literal["draft", "reviewed"] = "draft"
    contributors: list[str] = Field(min_length=1)
    updated: dt.date | None = None
    motivations: list[Slug] = Field(default_factory=list)
    # "authors": the work itself states the motivation; "summariser": the summary's author infers it.
    motivation_stated_by: Literal["authors", "summariser"] | None = None
    xrisk: str | None = None
    opinion: str | None = None

    @model_validator(mode="after")
    def _stated_by_needs_motivation(self) -> SummaryMeta:
        if self.motivations and not self.motivation_stated_by:
            raise ValueError("motivations are given: say who states them (motivation_stated_by)")
        return self


class Summary(Strict):
    meta: SummaryMeta
    body: str
    path: str


class Technique(Strict):
    slug: Slug
    name: str
    description: str
    parent: Slug | None = None
    keywords: list[str] = Field(default_factory=list)
    implementation: str | None = None  # dotted path of the reference implementation in kb.methods


class Motivation(Strict):
    slug: Slug
    name: str
    description: str
    keywords: list[str] = Field(default_factory=list)
