"""The record types of data/: what a work, an author, a tag and a summary are.

These pydantic models are the schema that `kb validate` enforces and that importers' records are
converted into. They hold no database state: the catalogue module maps them to tables.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from importers.identifiers import ARXIV_ID, DOI
from kb.names import SLUG_RE
from kb.query import CURATED, MOTIVATION_STATUSES, RELATIONS, SUGGESTED, WORK_KINDS

Slug = Annotated[str, Field(pattern=SLUG_RE.pattern)]
HttpUrl = Annotated[str, Field(pattern=r"^https?://\S+$")]

# "cites": the work's reference list names the target (from OpenAlex or arXiv/DOI matches), kept apart from
# the hand-made relations so that a refresh can replace it whole.
RELATION_TYPES = RELATIONS
# Who assigned a tag, most trusted first: the authors say so in the text; a summary's author or a curator
# judged it (a summary is the more considered judgement);
# or an automatic tagger suggested it.
TAG_SOURCES = (*CURATED, *SUGGESTED)
# Where a quote stands in the work: its abstract, a post's own text, a named section, or a numbered paragraph.
QUOTE_PLACE = re.compile(r"abstract|post|section: \S.*|paragraph [1-9]\d*")
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


# `Literal[A_TUPLE]` below: Python reads it as the tuple's values, so each list of allowed words stays one tuple that
# the query syntax and the CLI share (kb.query); mypy wants the words written out, hence its `type: ignore`s.


class Tag(Strict):
    slug: Slug
    by: Literal[TAG_SOURCES] = "curator"  # type: ignore[valid-type]
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    evidence: str | None = None


class MotivationTag(Strict):
    """A motivation with its evidence: a verbatim quote and where it stands (stated, partly-stated) or a reader's
    reasoning (inferred). The schema keeps the two kinds of evidence apart; that a quote said to be from the abstract
    is in the stored abstract is kb.validate's to check (it needs the work)."""

    slug: Slug
    status: Literal[MOTIVATION_STATUSES]  # type: ignore[valid-type]
    by: Literal[TAG_SOURCES[1:]] = "curator"  # type: ignore[valid-type]
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    quote: Annotated[str, Field(min_length=1)] | None = None
    where: str | None = None
    reasoning: Annotated[str, Field(min_length=1)] | None = None

    @field_validator("where")
    @classmethod
    def _a_known_place(cls, where: str | None) -> str | None:
        if where is not None and not QUOTE_PLACE.fullmatch(where):
            raise ValueError(f"where {where!r}: say abstract, post, 'section: <name>' or 'paragraph N'")
        return where

    @model_validator(mode="after")
    def _evidence_for_the_status(self) -> MotivationTag:
        if self.status == "inferred":
            if not self.reasoning:
                raise ValueError(f"motivation {self.slug!r} is inferred: give the reasoning, in a sentence or two")
            if self.quote or self.where:
                raise ValueError(f"motivation {self.slug!r} is inferred: a quote makes it stated or partly-stated")
        else:
            if not self.quote or not self.where:
                raise ValueError(
                    f"motivation {self.slug!r} is {self.status}: give the authors' words (quote) and where they stand"
                )
            if self.reasoning:
                raise ValueError(f"motivation {self.slug!r} is {self.status}: its evidence is the quote, not reasoning")
        return self


def motivation_status(tags) -> str:
    """A work's own status, from its curated motivations: the strongest of them, none-stated without any stated."""
    statuses = {t.status if hasattr(t, "status") else t["status"] for t in tags if _by(t) in CURATED}
    return next((s for s in MOTIVATION_STATUSES if s in statuses), "none-stated")


def _by(tag) -> str:
    return tag.by if hasattr(tag, "by") else tag["by"]


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
    abstract: str | None = None  # the authors' own abstract, verbatim, and nothing else
    abstract_source: str | None = None  # which version it is: "arXiv v1", "NeurIPS 2023 proceedings", "post"
    curator_note: str | None = None  # a curator's one-line description: never shown or exported as an abstract
    url: HttpUrl | None = None
    urls: dict[str, HttpUrl] = Field(default_factory=dict)
    ids: dict[Literal[ID_SCHEMES], str] = Field(default_factory=dict)  # type: ignore[valid-type]
    categories: list[str] = Field(default_factory=list)  # arXiv categories, the primary one first
    citations: Citations | None = None
    techniques: list[Tag] = Field(default_factory=list)
    motivations: list[MotivationTag] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    provenance: list[Provenance] = Field(default_factory=list)

    @field_validator("techniques", mode="before")
    @classmethod
    def _shorthand_tags(cls, value):
        # In data/ a bare slug is shorthand for a curated technique: it keeps hand-written lines short. A motivation
        # has no shorthand: it needs its status and evidence.
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

    @field_validator("motivations", mode="before")
    @classmethod
    def _motivations_with_evidence(cls, value):
        if type(value) is list:
            for v in value:
                if type(v) is str:
                    raise ValueError(
                        f"motivation {v!r} needs its status and evidence:"
                        ' {"slug": ..., "status": "stated", "quote": ..., "where": ...}'
                        ' or {"slug": ..., "status": "inferred", "reasoning": ...} (CONTRIBUTING.md)'
                    )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Work:
        if self.date and self.year and self.date.year != self.year:
            raise ValueError(f"date {self.date} is not in year {self.year}")
        if self.abstract and not self.abstract_source:
            raise ValueError(
                "abstract without abstract_source: say which version it is (arXiv v1, the venue's), or move a"
                " description of your own to curator_note"
            )
        return self

    @property
    def motivation_status(self) -> str:
        return motivation_status(self.motivations)

    def to_data(self) -> dict:
        """The canonical data/ form: defaults dropped, curated tags written as bare slugs."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        if "techniques" in data:
            data["techniques"] = [_compact_tag(t) for t in data["techniques"]]
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
    motivations: list[Slug] = Field(default_factory=list)  # each must be on the work, which holds its evidence
    # Superseded by the work's motivation statuses (a summary, a draft above all, must not decide what a reader sees
    # as stated): accepted in old files, never shown.
    motivation_stated_by: Literal["authors", "summariser"] | None = None
    xrisk: str | None = None
    opinion: str | None = None


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
