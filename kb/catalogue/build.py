"""`kb build`: data/ -> a fresh SQLite file, swapped in atomically.

Rows are written with executemany on one connection: the ORM's per-object overhead would make a
100,000-work build many times slower than the rows themselves cost (see bench/build.py).
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path

from kb.catalogue import check_path, source_signature
from kb.names import author_id, identity
from kb.query import CURATED
from kb.store.datadir import Dataset
from kb.store.problems import DataProblems, Problem
from kb.tree import Tree


def build(ds: Dataset, db_path: Path, problems: list[Problem] | None = None) -> dict:
    """Build the catalogue at db_path from a loaded, checked dataset. Returns counts."""
    if problems:
        raise DataProblems(problems, "the previous catalogue is kept")
    check_path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    _sweep(db_path)
    fd, tmp = tempfile.mkstemp(dir=db_path.parent, prefix=f".{db_path.name}.", suffix=TEMP_SUFFIX)
    fcntl.flock(fd, fcntl.LOCK_EX)  # held while this build lives: _sweep leaves a locked file alone
    try:
        _create_schema(tmp)
        conn = sqlite3.connect(tmp)
        conn.execute("PRAGMA journal_mode = OFF")  # a temp file: atomicity comes from the rename
        conn.execute("PRAGMA synchronous = OFF")
        with conn:
            counts = write_rows(conn, ds)
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("data_dir", str(ds.root)),
                    ("signature", json.dumps(source_signature(ds.root))),
                ],
            )
        conn.close()
        os.replace(tmp, db_path)
    except BaseException:
        for leftover in (tmp, tmp + JOURNAL_SUFFIX):
            Path(leftover).unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    return counts


TEMP_SUFFIX = ".tmp"  # a catalogue being built: .<name>.<random>.tmp beside the catalogue
JOURNAL_SUFFIX = "-journal"  # SQLite's rollback journal beside it, while the schema is made


def _sweep(db_path: Path) -> None:
    """Remove the temporary catalogues (and their journals) of builds that were killed: a file no live build
    holds a lock on. A build running beside this one (two readers rebuilding at once) keeps its own."""
    prefix = f".{db_path.name}."
    for path in db_path.parent.glob(f"{prefix}*{TEMP_SUFFIX}"):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live build's
        finally:
            os.close(fd)  # lock released: unlinked below while no build can hold it (a new one makes a new name)
        for leftover in (path, Path(f"{path}{JOURNAL_SUFFIX}")):
            leftover.unlink(missing_ok=True)
    for journal in db_path.parent.glob(f"{prefix}*{TEMP_SUFFIX}{JOURNAL_SUFFIX}"):
        if not Path(str(journal).removesuffix(JOURNAL_SUFFIX)).exists():
            journal.unlink(missing_ok=True)


def _create_schema(path: str) -> None:
    from sqlmodel import SQLModel, create_engine

    from kb.catalogue import schema

    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(schema.FTS_DDL)
        conn.exec_driver_sql(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")
    engine.dispose()


def write_rows(conn: sqlite3.Connection, ds: Dataset) -> dict:
    """Every table's rows from data/: the taxonomy, the authors, the works and what hangs off them."""
    works = sorted(ds.works, key=lambda w: w.id)
    pk = {w.id: n for n, w in enumerate(works, start=1)}
    summaries = {s.meta.work: s for s in ds.summaries}
    _write_taxonomy(conn, ds)
    authors, author_pk = _write_authors(conn, ds, works)
    _write_works(conn, ds, works, pk, summaries)
    _write_work_links(conn, works, pk, author_pk)
    _write_summaries(conn, summaries, pk)
    conn.execute("INSERT INTO work_fts (work_fts) VALUES ('rebuild')")  # the index reads work's columns
    return {
        "works": len(works),
        "authors": len(authors),
        "summaries": len(summaries),
        "techniques": len(ds.techniques),
        "motivations": len(ds.motivations),
    }


def _insert(conn: sqlite3.Connection, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """Rows into a table by column name (schema.py's order is its own business)."""
    names = ", ".join(f'"{c}"' for c in columns)
    conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})", rows)


def _write_taxonomy(conn: sqlite3.Connection, ds: Dataset) -> None:
    columns = ("slug", "name", "description", "parent", "keywords", "implementation", "depth", "position")
    _insert(
        conn,
        "technique",
        columns,
        (
            (t.slug, t.name, t.description, t.parent, json.dumps(t.keywords), t.implementation, _depth(ds, t.slug), n)
            for n, t in enumerate(ds.techniques)
        ),
    )
    _insert(conn, "technique_closure", ("ancestor", "descendant"), _closure(ds))
    _insert(
        conn,
        "motivation",
        ("slug", "name", "description", "keywords", "position"),
        ((m.slug, m.name, m.description, json.dumps(m.keywords), n) for n, m in enumerate(ds.motivations)),
    )


def _write_authors(conn: sqlite3.Connection, ds: Dataset, works) -> tuple[dict[str, dict], dict[str, int]]:
    """The authors (data/authors.jsonl's and every name of a work) and the key of each of their names."""
    authors = _authors(ds, works)
    fields = ("id", "name", "aliases", "scholar_id", "lesswrong", "homepage", "affiliation")
    rows = (
        (n, *(json.dumps(a[f]) if f == "aliases" else a[f] for f in fields))
        for n, a in enumerate(authors.values(), start=1)
    )
    _insert(conn, "author", ("pk", *fields), rows)
    author_pk = {key: n for n, key in enumerate(authors, start=1)}
    alias = {author_id(name): key for key, a in authors.items() for name in a["aliases"]}
    _insert(conn, "author_name", ("key", "author_pk"), ((name, author_pk[key]) for name, key in alias.items()))
    # every spelling of a name -> its author's pk: what a work's author list is linked through
    return authors, author_pk | {name: author_pk[key] for name, key in alias.items()}  # an alias names its author


_WORK_COLUMNS = (
    "pk", "id", "kind", "title", "author_names", "more_authors", "year", "date", "venue", "abstract", "url", "urls",
    "added", "withdrawn", "summary_text", "technique_names", "motivation_names", "technique_slugs", "motivation_slugs",
    "categories", "citation_count", "citations_as_of", "citations_source", "abstract_source", "curator_note",
    "motivation_status",
)  # fmt: skip


def _write_works(conn: sqlite3.Connection, ds: Dataset, works, pk: dict[str, int], summaries: dict) -> None:
    technique_text = _technique_text(ds, works)
    motivation_text = _motivation_text(ds, works)
    technique_slugs = _technique_slugs(ds, works)

    def row(w) -> tuple:
        citations = (
            (w.citations.count, w.citations.as_of.isoformat(), w.citations.source) if w.citations else (None,) * 3
        )
        return (
            pk[w.id], w.id, w.kind, w.title, json.dumps(w.authors, ensure_ascii=False), w.more_authors, w.year,
            w.date and w.date.isoformat(), w.venue, w.abstract, w.url, json.dumps(w.urls) if w.urls else "{}",
            min((str(p.fetched_at)[:10] for p in w.provenance), default=None), w.withdrawn,
            _summary_text(summaries.get(w.id), w.curator_note), technique_text.get(w.id, ""),
            motivation_text.get(w.id, ""), json.dumps(technique_slugs.get(w.id, [])),
            json.dumps([t.slug for t in w.motivations if t.by in CURATED]), json.dumps(w.categories), *citations,
            w.abstract_source, w.curator_note, w.motivation_status,
        )  # fmt: skip

    _insert(conn, "work", _WORK_COLUMNS, (row(w) for w in works))


def _write_work_links(conn: sqlite3.Connection, works, pk: dict[str, int], author_pk: dict[str, int]) -> None:
    """What hangs off each work: its authors, identifiers, tags, relations and provenance."""
    _insert(
        conn,
        "work_author",
        ("work_pk", "position", "author_pk"),
        ((pk[w.id], i, author_pk[author_id(name)]) for w in works for i, name in enumerate(w.authors)),
    )
    _insert(
        conn,
        "identifier",
        ("scheme", "value", "work_pk", "shown"),
        ((*identity(scheme, value), pk[w.id], value) for w in works for scheme, value in w.ids.items()),
    )
    _insert(
        conn,
        "work_technique",
        ("work_pk", "technique", "by", "confidence", "evidence"),
        ((pk[w.id], t.slug, t.by, t.confidence, t.evidence) for w in works for t in w.techniques),
    )
    _insert(
        conn,
        "work_motivation",
        ("work_pk", "motivation", "by", "confidence", "status", "quote", "location", "reasoning"),
        (
            (pk[w.id], t.slug, t.by, t.confidence, t.status, t.quote, t.where, t.reasoning)
            for w in works
            for t in w.motivations
        ),
    )
    _insert(
        conn,
        "relation",
        ("source_pk", "type", "target_pk"),
        ((pk[w.id], r.type, pk[r.target]) for w in works for r in w.relations),
    )
    _insert(
        conn,
        "provenance",
        ("work_pk", "position", "source", "fetched_at", "fields", "matched_by"),
        (
            (pk[w.id], i, p.source, str(p.fetched_at), json.dumps(p.fields) if p.fields else "[]", p.matched_by)
            for w in works
            for i, p in enumerate(w.provenance)
        ),
    )


def _write_summaries(conn: sqlite3.Connection, summaries: dict, pk: dict[str, int]) -> None:
    columns = (
        "work_pk",
        "status",
        "contributors",
        "updated",
        "motivation_stated_by",
        "xrisk",
        "opinion",
        "body",
        "path",
    )
    _insert(
        conn,
        "summary",
        columns,
        (
            (
                pk[s.meta.work],
                s.meta.status,
                json.dumps(s.meta.contributors, ensure_ascii=False),
                s.meta.updated and s.meta.updated.isoformat(),
                s.meta.motivation_stated_by,
                s.meta.xrisk,
                s.meta.opinion,
                s.body,
                s.path,
            )
            for s in summaries.values()
        ),
    )


def _authors(ds: Dataset, works) -> dict[str, dict]:
    """Author entities: data/authors.jsonl's, then one per other name met in a work, in order."""
    out: dict[str, dict] = {}
    known = {}
    for a in sorted(ds.authors, key=lambda a: a.id):
        out[a.id] = a.model_dump()
        for name in (a.name, *a.aliases):
            known[author_id(name)] = a.id
    blank: dict[str, list | None] = {
        "aliases": [],
        "scholar_id": None,
        "lesswrong": None,
        "homepage": None,
        "affiliation": None,
    }
    for w in works:
        for name in w.authors:
            key = author_id(name)
            if key not in known and key not in out:
                out[key] = {"id": key, "name": name, **blank}
    for entity in out.values():  # the build resolves a name through its own id too
        entity["aliases"] = sorted({*entity["aliases"], entity["name"]})
    return out


def _technique_slugs(ds: Dataset, works) -> dict[str, list[str]]:
    """Per work, its techniques' slugs and their ancestors', each once, in the taxonomy's order."""
    tree = Tree.of(ds.techniques)
    order = {t.slug: n for n, t in enumerate(ds.techniques)}
    out = {}
    for w in works:
        slugs = {a for t in w.techniques if t.slug in order for a in tree.lineage(t.slug)}
        if slugs:
            out[w.id] = sorted(slugs, key=order.__getitem__)
    return out


def _technique_text(ds: Dataset, works) -> dict[str, str]:
    """Per work, the names and keywords of its techniques, then the names of their ancestors: a query
    naming a technique ('mass-mean probing', an alias such as 'mean-difference') finds the works tagged
    with it, and one naming a broader technique finds works tagged with its narrower ones."""
    by_slug = {t.slug: t for t in ds.techniques}
    out = {}
    for w in works:
        own = [by_slug[t.slug] for t in w.techniques if t.slug in by_slug and t.by in CURATED]
        ancestors: list[str] = []
        for t in own:
            node = by_slug.get(t.parent) if t.parent else None
            while node is not None:
                ancestors.append(node.name)
                node = by_slug.get(node.parent) if node.parent else None
        words = [x for t in own for x in (t.name, *t.keywords)] + ancestors
        out[w.id] = "\n".join(dict.fromkeys(words))
    return out


def _motivation_text(ds: Dataset, works) -> dict[str, str]:
    """Per work, the names of its curated motivations (a suggestion is no reason for a search to find it)."""
    by_slug = {m.slug: m for m in ds.motivations}
    return {
        w.id: "\n".join(by_slug[t.slug].name for t in w.motivations if t.slug in by_slug and t.by in CURATED)
        for w in works
    }


def _summary_text(s, note: str | None) -> str:
    """The text people wrote about the work (a summary's, a curator's note), searched as a summary is."""
    texts = (s.body, s.meta.xrisk, s.meta.opinion) if s is not None else ()
    return "\n".join(x for x in (*texts, note) if x)


def _depth(ds: Dataset, slug: str) -> int:
    return Tree.of(ds.techniques).depth(slug)


def _closure(ds: Dataset) -> list[tuple[str, str]]:
    return Tree.of(ds.techniques).closure()
