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
    works = sorted(ds.works, key=lambda w: w.id)
    pk = {w.id: n for n, w in enumerate(works, start=1)}
    authors = _authors(ds, works)
    summaries = {s.meta.work: s for s in ds.summaries}
    technique_text = _technique_text(ds, works)
    motivation_text = _motivation_text(ds, works)
    technique_slugs = _technique_slugs(ds, works)

    conn.executemany(
        "INSERT INTO technique VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (t.slug, t.name, t.description, t.parent, json.dumps(t.keywords), t.implementation, _depth(ds, t.slug), n)
            for n, t in enumerate(ds.techniques)
        ],
    )
    conn.executemany("INSERT INTO technique_closure VALUES (?, ?)", _closure(ds))
    conn.executemany(
        "INSERT INTO motivation VALUES (?, ?, ?, ?, ?)",
        [(m.slug, m.name, m.description, json.dumps(m.keywords), n) for n, m in enumerate(ds.motivations)],
    )
    conn.executemany(
        "INSERT INTO author VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                n,
                a["id"],
                a["name"],
                json.dumps(a["aliases"]),
                a["scholar_id"],
                a["lesswrong"],
                a["homepage"],
                a["affiliation"],
            )
            for n, a in enumerate(authors.values(), start=1)
        ],
    )
    author_pk = {key: n for n, key in enumerate(authors, start=1)}
    alias = {author_id(name): key for key, a in authors.items() for name in a["aliases"]}
    conn.executemany("INSERT INTO author_name VALUES (?, ?)", [(name, author_pk[key]) for name, key in alias.items()])

    conn.executemany(
        "INSERT INTO work VALUES (" + ", ".join("?" * 26) + ")",
        [
            (
                pk[w.id],
                w.id,
                w.kind,
                w.title,
                json.dumps(w.authors, ensure_ascii=False),
                w.more_authors,
                w.year,
                w.date and w.date.isoformat(),
                w.venue,
                w.abstract,
                w.url,
                json.dumps(w.urls) if w.urls else "{}",
                min((str(p.fetched_at)[:10] for p in w.provenance), default=None),
                w.withdrawn,
                _summary_text(summaries.get(w.id), w.curator_note),
                technique_text.get(w.id, ""),
                motivation_text.get(w.id, ""),
                json.dumps(technique_slugs.get(w.id, [])),
                json.dumps([t.slug for t in w.motivations if t.by in CURATED]),
                json.dumps(w.categories),
                *(
                    (w.citations.count, w.citations.as_of.isoformat(), w.citations.source)
                    if w.citations
                    else (None,) * 3
                ),
                w.abstract_source,
                w.curator_note,
                w.motivation_status,
            )
            for w in works
        ],
    )
    conn.executemany(
        "INSERT INTO work_author VALUES (?, ?, ?)",
        [
            (pk[w.id], i, author_pk[alias.get(author_id(name), author_id(name))])
            for w in works
            for i, name in enumerate(w.authors)
        ],
    )
    conn.executemany(
        "INSERT INTO identifier VALUES (?, ?, ?, ?)",
        [(*identity(scheme, value), pk[w.id], value) for w in works for scheme, value in w.ids.items()],
    )
    conn.executemany(
        "INSERT INTO work_technique VALUES (?, ?, ?, ?, ?)",
        [(pk[w.id], t.slug, t.by, t.confidence, t.evidence) for w in works for t in w.techniques],
    )
    conn.executemany(
        "INSERT INTO work_motivation VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (pk[w.id], t.slug, t.by, t.confidence, t.status, t.quote, t.where, t.reasoning)
            for w in works
            for t in w.motivations
        ],
    )
    conn.executemany(
        "INSERT INTO relation VALUES (?, ?, ?)", [(pk[w.id], r.type, pk[r.target]) for w in works for r in w.relations]
    )
    conn.executemany(
        "INSERT INTO summary VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
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
        ],
    )
    conn.executemany(
        "INSERT INTO provenance VALUES (?, ?, ?, ?, ?, ?)",
        [
            (pk[w.id], i, p.source, str(p.fetched_at), json.dumps(p.fields) if p.fields else "[]", p.matched_by)
            for w in works
            for i, p in enumerate(w.provenance)
        ],
    )
    conn.execute("INSERT INTO work_fts (work_fts) VALUES ('rebuild')")  # the index reads work's columns
    return {
        "works": len(works),
        "authors": len(authors),
        "summaries": len(summaries),
        "techniques": len(ds.techniques),
        "motivations": len(ds.motivations),
    }


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
