"""The catalogue's tables, declared once with SQLModel.

Only `kb build` (and importers' upserts) import this module: SQLModel costs a few hundred
milliseconds to import, and read-only commands query the file with the standard sqlite3 module.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from kb.catalogue import SCHEMA_VERSION  # noqa: F401 (one number, kept where start-up is cheap)

# The index reads its text from `work` (external content, as sqlite-utils' enable_fts makes it), so
# Datasette's ?_search= works on the work table itself (both detect `content=[work]` spelt just so);
# columns are named as work's columns.
FTS_COLUMNS = ("title", "abstract", "summary_text", "author_names", "technique_names", "motivation_names")
FTS_DDL = (
    f"CREATE VIRTUAL TABLE work_fts USING fts5({', '.join(FTS_COLUMNS)}, "
    "tokenize = 'porter unicode61 remove_diacritics 2', content=[work], content_rowid=[pk])"
)


class Work(SQLModel, table=True):
    __tablename__ = "work"
    pk: int = Field(primary_key=True)
    id: str = Field(unique=True)
    kind: str = Field(index=True)
    title: str
    author_names: str  # JSON list, in order: denormalised for listing without a join
    more_authors: bool = False
    year: int | None = Field(default=None, index=True)
    date: str | None = None
    venue: str | None = None
    abstract: str | None = None
    url: str | None = None
    urls: str = "{}"  # JSON object
    added: str | None = None  # when it first entered the catalogue (earliest provenance)
    withdrawn: bool = False
    # text for full-text search only: the summary's prose (and a curator's note), and the names and keywords of the
    # work's techniques (with their ancestors' names) and motivations, so a query naming a technique finds its works
    summary_text: str = ""
    technique_names: str = ""
    motivation_names: str = ""
    # for browsing in Datasette only (facets and filters over JSON arrays, datasette/metadata.json): the slugs of the
    # work's techniques with their ancestors (a facet on "probing" counts the works of its sub-techniques, as kb
    # list -t does), and of its motivations
    technique_slugs: str = "[]"
    motivation_slugs: str = "[]"
    categories: str = "[]"  # JSON list of arXiv categories, the primary one first
    citation_count: int | None = Field(default=None, index=True)  # the global count, as one source gave it ...
    citations_as_of: str | None = None  # ... on this day
    citations_source: str | None = None
    abstract_source: str | None = None  # which version the abstract is (arXiv v1, the venue's)
    curator_note: str | None = None  # a curator's description, never an abstract
    # derived from the curated motivations (kb.store.records.motivation_status): stated ... none-stated
    motivation_status: str = Field(default="none-stated", index=True)


class Author(SQLModel, table=True):
    __tablename__ = "author"
    pk: int = Field(primary_key=True)
    id: str = Field(unique=True)
    name: str
    aliases: str = "[]"
    scholar_id: str | None = None
    lesswrong: str | None = None
    homepage: str | None = None
    affiliation: str | None = None


class AuthorName(SQLModel, table=True):
    """Every normalised name an author goes by (their name and aliases), for the author filter."""

    __tablename__ = "author_name"
    key: str = Field(primary_key=True)
    author_pk: int = Field(foreign_key="author.pk", index=True)


class WorkAuthor(SQLModel, table=True):
    __tablename__ = "work_author"
    work_pk: int = Field(primary_key=True, foreign_key="work.pk")
    position: int = Field(primary_key=True)
    author_pk: int = Field(foreign_key="author.pk", index=True)


class Identifier(SQLModel, table=True):
    __tablename__ = "identifier"
    scheme: str = Field(primary_key=True)
    value: str = Field(primary_key=True)  # kb.names.identity's: DOIs and arXiv ids lower-cased
    work_pk: int = Field(foreign_key="work.pk", index=True)
    shown: str  # as written


class Technique(SQLModel, table=True):
    __tablename__ = "technique"
    slug: str = Field(primary_key=True)
    name: str
    description: str
    parent: str | None = Field(default=None, index=True)
    keywords: str = "[]"
    implementation: str | None = None
    depth: int
    position: int


class TechniqueClosure(SQLModel, table=True):
    """Every (ancestor, descendant) pair, a node with itself included: filters include the subtree."""

    __tablename__ = "technique_closure"
    ancestor: str = Field(primary_key=True)
    descendant: str = Field(primary_key=True, index=True)


class Motivation(SQLModel, table=True):
    __tablename__ = "motivation"
    slug: str = Field(primary_key=True)
    name: str
    description: str
    keywords: str = "[]"
    position: int


class WorkTechnique(SQLModel, table=True):
    __tablename__ = "work_technique"
    work_pk: int = Field(primary_key=True, foreign_key="work.pk")
    technique: str = Field(primary_key=True, index=True, foreign_key="technique.slug")
    by: str
    confidence: float
    evidence: str | None = None


class WorkMotivation(SQLModel, table=True):
    __tablename__ = "work_motivation"
    work_pk: int = Field(primary_key=True, foreign_key="work.pk")
    motivation: str = Field(primary_key=True, index=True, foreign_key="motivation.slug")
    by: str
    confidence: float
    status: str  # stated, partly-stated, inferred
    quote: str | None = None  # the authors' words (stated, partly-stated) ...
    location: str | None = None  # ... and where they stand: abstract, post, "section: X", "paragraph N"
    reasoning: str | None = None  # why a reader infers it (inferred)


class Relation(SQLModel, table=True):
    __tablename__ = "relation"
    source_pk: int = Field(primary_key=True, foreign_key="work.pk")
    type: str = Field(primary_key=True)
    target_pk: int = Field(primary_key=True, foreign_key="work.pk", index=True)


class Summary(SQLModel, table=True):
    __tablename__ = "summary"
    work_pk: int = Field(primary_key=True, foreign_key="work.pk")
    status: str
    contributors: str  # JSON list
    updated: str | None = None
    motivation_stated_by: str | None = None
    xrisk: str | None = None
    opinion: str | None = None
    body: str
    path: str


class Provenance(SQLModel, table=True):
    __tablename__ = "provenance"
    work_pk: int = Field(primary_key=True, foreign_key="work.pk")
    position: int = Field(primary_key=True)
    source: str
    fetched_at: str
    fields: str = "[]"
    matched_by: str | None = None


class Meta(SQLModel, table=True):
    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str
