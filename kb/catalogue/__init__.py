"""The catalogue: the SQLite file built from data/, and every query that reads it.

This package is the only place that speaks SQL. Reads use the standard sqlite3 module so that a
cold `kb search` does not pay for importing SQLAlchemy; the schema is declared in `schema.py`.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from kb.query import CURATED, Query, asks_relation, identifier_candidates, parse

if TYPE_CHECKING:  # the record types are for the checker: a cold `kb show` need not import them
    from kb.catalogue.workrecord import Export, ExportedWork, WorkDetail

SCHEMA_VERSION = 7  # bump with any change to schema.py: a catalogue of another version is rebuilt


class NotFound(LookupError):
    pass


class Unreadable(RuntimeError):
    """The catalogue file cannot be used (a folder in its place, a corrupted file): said in one line, never a
    traceback; the catalogue holds nothing data/ does not, so `kb build` makes it again."""


def source_signature(data_dir: Path) -> list:
    """What the catalogue was built from: kb's version and each data/ file's size and mtime."""
    from kb import __version__
    from kb.store.layout import source_files

    return [__version__, SCHEMA_VERSION] + [
        [str(p.relative_to(data_dir)), st.st_size, st.st_mtime_ns] for p in source_files(data_dir) for st in [p.stat()]
    ]


def is_stale(db_path: Path, data_dir: Path) -> bool:
    """True when data/ changed (a file edited, added or removed) since the catalogue was built."""
    if not db_path.exists():
        return True
    check_path(db_path)
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'signature'").fetchone()
        return row is None or json.loads(row[0]) != source_signature(data_dir)
    except (sqlite3.DatabaseError, ValueError):  # damaged (its text not UTF-8, its JSON cut): built again
        return True


def check_path(db_path: Path) -> None:
    if db_path.is_dir():
        raise Unreadable(f"{db_path} is a folder, not a catalogue file: give --db (or $KB_DB) a file's path")


def connect(db_path: Path) -> sqlite3.Connection:
    check_path(db_path)
    if not db_path.exists():
        raise FileNotFoundError(f"no catalogue at {db_path}: run `kb build`")
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


# -- finding works ------------------------------------------------------------------------

_LIST_COLUMNS = (
    "w.pk, w.id, w.title, w.year, w.kind, w.venue, w.url, w.author_names, w.more_authors, w.citation_count,"
    " w.motivation_status"
)
# A tag a person gave (kb.query.CURATED); an automatic tagger's is a suggestion, which filters skip unless asked.
_CURATED_SQL = "by IN (" + ", ".join(f"'{by}'" for by in CURATED) + ")"


def _filters(q: Query) -> tuple[list[str], list[str | int]]:
    where: list[str] = []
    args: list[str | int] = []
    curated = "" if q.include_suggested else f" AND {_CURATED_SQL}"
    if q.technique:
        where.append(
            "w.pk IN (SELECT wt.work_pk FROM work_technique wt JOIN technique_closure c"
            f" ON c.descendant = wt.technique WHERE c.ancestor = ?{curated})"
        )
        args.append(q.technique)
    if q.motivation or q.stated:
        # --stated: the authors' own words state it (a suggestion's 'stated' too, with --include-suggested)
        clauses = [c for c, on in (("motivation = ?", q.motivation), ("status = 'stated'", q.stated)) if on]
        where.append(f"w.pk IN (SELECT work_pk FROM work_motivation WHERE {' AND '.join(clauses)}{curated})")
        args += [q.motivation] if q.motivation else []
    if q.author:
        from kb.names import author_id

        # whole name parts: 'nanda' and 'neel-nanda' match Neel Nanda, 'nan' does not
        where.append(
            "w.pk IN (SELECT wa.work_pk FROM work_author wa JOIN author_name n ON n.author_pk = wa.author_pk"
            " WHERE '-' || n.key || '-' LIKE ?)"
        )
        args.append(f"%-{author_id(q.author)}-%")
    if q.since is not None:
        where.append("w.year >= ?")
        args.append(q.since)
    if q.until is not None:
        where.append("w.year <= ?")
        args.append(q.until)
    if q.kind:
        where.append("w.kind = ?")
        args.append(q.kind)
    if q.venue:
        where.append("w.venue LIKE ?")
        args.append(f"%{q.venue}%")
    return where, args


def check_query(conn: sqlite3.Connection, q: Query) -> None:
    """Unknown slugs are a user's typo, not an empty result: say so, with the near misses."""
    for table, slug in (("technique", q.technique), ("motivation", q.motivation)):
        if slug and not conn.execute(f"SELECT 1 FROM {table} WHERE slug = ?", (slug,)).fetchone():
            known = [r[0] for r in conn.execute(f"SELECT slug FROM {table} ORDER BY position")]
            near = [k for k in known if slug in k or k in slug]
            hint = f"; did you mean {', '.join(near)}?" if near else f"; known: {', '.join(known)}"
            raise NotFound(f"unknown {table} {slug!r}{hint}")


SORTS = {
    "year": "w.year IS NULL, w.year DESC, w.id",
    "oldest": "w.year IS NULL, w.year, w.id",
    "title": "w.title COLLATE NOCASE, w.id",
    "added": "w.added IS NULL, w.added DESC, w.id",
    "citations": "w.citation_count IS NULL, w.citation_count DESC, w.year DESC, w.id",  # unknown counts last
}
# title weighs most, then the techniques a work is tagged with, then authors, abstract and summary
_WEIGHTS = "10.0, 3.0, 2.0, 4.0, 5.0, 1.0"


def search(conn: sqlite3.Connection, q: Query) -> list[dict]:
    """Works matching the query, best first (bm25, titles weighted highest), else newest first.

    A text that is an identifier as pasted (an arXiv id or URL, a DOI, ...) finds that work. If every
    word cannot match together, falls back to any word, and marks the results so. A question for related
    works ("critiques of CCS", "CCS failed to replicate") lists the works holding such a relation to a work that
    matches first (each marked with `via`: the relation and its target), then the works that match. A text
    that cannot be read raises QuerySyntaxError.
    """
    check_query(conn, q)
    if q.sort and q.sort not in SORTS:
        raise NotFound(f"unknown sort {q.sort!r}; sorts are {', '.join(SORTS)}")
    if q.text and (
        identifier_candidates(q.text) or conn.execute("SELECT 1 FROM work WHERE id = ?", (q.text.strip(),)).fetchone()
    ):
        try:
            pk = resolve_id(conn, q.text)
        except NotFound:
            return []
        where, args = _filters(q)
        sql = f"SELECT {_LIST_COLUMNS} FROM work w {_where(['w.pk = ?', *where])}"
        return _with_tags(conn, [dict(r) for r in conn.execute(sql, [pk, *args])])
    asked = None if (q.relation or not q.text) else asks_relation(q.text)
    if asked:
        subject, types = asked
        related = _search(conn, q._replace(text=subject), types)
        seen = {r["id"] for r in related}
        rest = [r for r in _search(conn, q._replace(text=subject, limit=None)) if r["id"] not in seen]
        return (related + rest)[: None if q.limit is None else q.limit]
    return _search(conn, q, (q.relation,) if q.relation else ())


def _search(conn: sqlite3.Connection, q: Query, relations: tuple[str, ...] = ()) -> list[dict]:
    """`search` for a text that is no identifier; `relations`: only works holding one of these relations."""
    where, args = _filters(q)
    order = SORTS.get(q.sort or "", SORTS["year"])
    limit = -1 if q.limit is None else q.limit  # SQLite: a negative LIMIT is no limit
    parsed = parse(q.text or "")
    relations = relations or ((parsed.relation,) if parsed.relation else ())
    if parsed.exclude:
        where.append("w.pk NOT IN (SELECT rowid FROM work_fts WHERE work_fts MATCH ?)")
        args.append(parsed.exclude)
    if relations and parsed.include:
        return _related(conn, q, parsed, relations, where, args)
    if relations:
        marks = ",".join("?" * len(relations))
        where.append(f"w.pk IN (SELECT source_pk FROM relation WHERE type IN ({marks}))")
        args.extend(relations)
    if not parsed.include:
        sql = f"SELECT {_LIST_COLUMNS} FROM work w {_where(where)} ORDER BY {order} LIMIT ?"
        return _with_tags(conn, [dict(r) for r in conn.execute(sql, [*args, limit])])
    sql = (
        f"SELECT {_LIST_COLUMNS}, bm25(work_fts, {_WEIGHTS}) AS score,"
        " snippet(work_fts, 2, '«', '»', '…', 12) AS summary_snippet,"
        " snippet(work_fts, 1, '«', '»', '…', 12) AS abstract_snippet"
        f" FROM work_fts JOIN work w ON w.pk = work_fts.rowid"
        f" {_where(['work_fts MATCH ?', *where])} ORDER BY {'score, w.id' if not q.sort else order} LIMIT ?"
    )
    rows = [dict(r, any_word=False) for r in conn.execute(sql, [parsed.include, *args, limit])]
    some = parse(q.text or "", any_word=True).include
    if some != parsed.include and (limit < 0 or len(rows) < limit):  # then the works with some of the words
        seen = {r["pk"] for r in rows}
        more = [dict(r, any_word=True) for r in conn.execute(sql, [some, *args, -1]) if r["pk"] not in seen]
        rows += more[: None if limit < 0 else limit - len(rows)]
    return _with_tags(conn, rows if q.sort else _after_what_they_discuss(conn, rows))


def _after_what_they_discuss(conn: sqlite3.Connection, rows: list[dict]) -> list[dict]:
    """Rows ranked by relevance, except that a work which `discusses` another row ranked below it comes right after
    that row (a post on a post on a paper: the paper, the post on it, the post on that), in rank order: a lab's
    page announcing a catalogued paper (linked, not merged: kb.ingest.merging's rule 5) shares the paper's title and
    has a shorter text, so bm25 would put the announcement first."""
    position = {r["pk"]: i for i, r in enumerate(rows)}
    if len(position) < 2:
        return rows
    later: dict[int, int] = {}  # a discussing row's pk -> the pk of the first-ranked row below it that it discusses
    marks = ",".join("?" * len(position))
    for source, target in conn.execute(
        f"SELECT source_pk, target_pk FROM relation WHERE type = 'discusses' AND source_pk IN ({marks})", list(position)
    ):
        first = later.get(source)
        if target in position and position[source] < position[target]:
            if first is None or position[target] < position[first]:
                later[source] = target
    if not later:
        return rows
    after: dict[int, list[dict]] = {}  # a row's pk -> the rows that come right after it, in rank order
    for row in rows:
        if row["pk"] in later:
            after.setdefault(later[row["pk"]], []).append(row)
    ordered: list[dict] = []
    for row in rows:
        if row["pk"] in later:
            continue  # placed after the row it discusses
        stack = [row]  # each row, then what discusses it (depth first): a chain ends, as each target ranks lower
        while stack:
            top = stack.pop()
            ordered.append(top)
            stack.extend(reversed(after.get(top["pk"], ())))
    return ordered


def _related(conn, q: Query, parsed, relations: tuple[str, ...], where: list[str], args: list) -> list[dict]:
    """Works holding one of `relations` whose own text or whose relation's target matches the query, in the order
    of the better-ranked of the two (bm25), each with `via`: the relation and target that brought it."""
    ranked: list[int] = []
    for any_word in (False, True):
        expr = parse(q.text or "", any_word).include
        ranked = [r[0] for r in conn.execute(_RANKED, (expr,))]
        if ranked:
            break
    marks = ",".join("?" * len(relations))
    links: dict[int, list[tuple[int, str, int]]] = {}
    for source, kind, target in conn.execute(
        f"SELECT source_pk, type, target_pk FROM relation WHERE type IN ({marks}) ORDER BY type, target_pk", relations
    ):
        links.setdefault(source, []).append((source, kind, target))
        links.setdefault(target, []).append((source, kind, target))
    order: dict[int, tuple[str, int]] = {}  # source pk -> (relation type, target pk), best first
    for pk in ranked:
        for source, kind, target in links.get(pk, ()):
            order.setdefault(source, (kind, target))
    if not order:
        return []
    marks = ",".join("?" * len(order))
    sql = f"SELECT {_LIST_COLUMNS} FROM work w {_where([f'w.pk IN ({marks})', *where])}"
    rows = [dict(r) for r in conn.execute(sql + (f" ORDER BY {SORTS[q.sort]}" if q.sort else ""), [*order, *args])]
    if not q.sort:
        position = {pk: i for i, pk in enumerate(order)}
        rows.sort(key=lambda r: position[r["pk"]])
    targets = dict(conn.execute(f"SELECT pk, id FROM work WHERE pk IN ({marks})", [t for _, t in order.values()]))
    rows = [dict(r, via=f"{order[r['pk']][0]} {targets[order[r['pk']][1]]}") for r in rows]
    return _with_tags(conn, rows[: None if q.limit is None else q.limit])


_RANKED = f"SELECT rowid FROM work_fts WHERE work_fts MATCH ? ORDER BY bm25(work_fts, {_WEIGHTS}), rowid"


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKS = re.compile(r"(?m)^\s*(?:#{1,6}\s+|[-*+]\s+|>\s?)|\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|`")


def _plain(snippet: str) -> str:
    """A snippet of Markdown read as text: links by their words, no emphasis marks, headings or bullets."""
    return " ".join(_MARKS.sub("", _LINK.sub(r"\1", snippet)).split())


def _where(clauses: list[str]) -> str:
    return "WHERE " + " AND ".join(clauses) if clauses else ""


def _with_tags(conn: sqlite3.Connection, rows: list[dict]) -> list[dict]:
    pks = [r["pk"] for r in rows]
    marks = ",".join("?" * len(pks))
    keys = ("techniques", "motivations", "suggested_techniques", "suggested_motivations")
    tags: dict[int, dict[str, list]] = {pk: {key: [] for key in keys} for pk in pks}
    ids: dict[int, dict[str, str]] = {pk: {} for pk in pks}
    for pk, scheme, shown in conn.execute(
        f"SELECT work_pk, scheme, shown FROM identifier WHERE work_pk IN ({marks}) ORDER BY scheme", pks
    ):
        ids[pk][scheme] = shown
    for table, key, col in (
        ("work_technique", "techniques", "technique"),
        ("work_motivation", "motivations", "motivation"),
    ):
        for pk, slug, curated in conn.execute(
            f"SELECT work_pk, {col}, {_CURATED_SQL} FROM {table} WHERE work_pk IN ({marks}) ORDER BY {col}", pks
        ):
            tags[pk][key if curated else f"suggested_{key}"].append(slug)  # a suggestion is kept apart, marked
    for r in rows:
        if "summary_snippet" in r:  # the title is shown anyway: a snippet is worth showing from the text
            snippets = (r.pop("summary_snippet"), r.pop("abstract_snippet"))
            r["snippet"] = next((_plain(s) for s in snippets if s and "«" in s), None)
        r["authors"] = json.loads(r.pop("author_names"))
        r["more_authors"] = bool(r["more_authors"])
        r["ids"] = ids[r["pk"]]
        r.update(tags[r.pop("pk")])
    return rows


# -- one work -----------------------------------------------------------------------------


def resolve_id(conn: sqlite3.Connection, key: str) -> int:
    """A work's pk from its id, or from any of its identifiers in any form people paste (see
    kb.query.identifier_candidates: 'arXiv:2310.01405', an arXiv or doi.org URL, a LessWrong URL, ...),
    or from its URL."""
    key = key.strip()
    row = conn.execute("SELECT pk FROM work WHERE id = ?", (key,)).fetchone()
    for scheme, value in identifier_candidates(key):
        row = (
            row
            or conn.execute("SELECT work_pk FROM identifier WHERE scheme = ? AND value = ?", (scheme, value)).fetchone()
        )
    row = row or conn.execute("SELECT work_pk FROM identifier WHERE value IN (?, ?)", (key, key.lower())).fetchone()
    row = row or conn.execute("SELECT pk FROM work WHERE url = ? OR url = ?", (key, key.rstrip("/"))).fetchone()
    if row:
        return row[0]
    near = [r[0] for r in conn.execute("SELECT id FROM work WHERE id LIKE ? ORDER BY id LIMIT 5", (f"%{key}%",))]
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise NotFound(f"no work {key!r} in the catalogue{hint}")


# Columns of `work` that only feed the full-text index (copies of other tables' text): never read back.
_SEARCH_ONLY = ("author_names", "summary_text", "technique_names", "motivation_names")
# ... and those that only serve Datasette's facets (kb.catalogue.schema.Work): readers get the tags themselves.
_BROWSE_ONLY = ("technique_slugs", "motivation_slugs")


def _work_columns(conn: sqlite3.Connection) -> str:
    """The columns of `work` a reader gets, for a SELECT."""
    return ", ".join(c[1] for c in conn.execute("PRAGMA table_info(work)") if c[1] not in _SEARCH_ONLY + _BROWSE_ONLY)


def get_work(conn: sqlite3.Connection, key: str) -> WorkDetail:
    pk = resolve_id(conn, key)
    work: dict[str, Any] = dict(conn.execute(f"SELECT {_work_columns(conn)} FROM work WHERE pk = ?", (pk,)).fetchone())
    work["more_authors"] = bool(work["more_authors"])
    work["withdrawn"] = bool(work["withdrawn"])
    work["urls"] = json.loads(work["urls"])
    work["categories"] = json.loads(work["categories"])
    work["authors"] = _rows(
        conn,
        "SELECT a.id, a.name FROM work_author wa JOIN author a ON a.pk = wa.author_pk"
        " WHERE wa.work_pk = ? ORDER BY wa.position",
        pk,
    )
    work["ids"] = {
        r["scheme"]: r["shown"]
        for r in _rows(conn, "SELECT scheme, shown FROM identifier WHERE work_pk = ? ORDER BY scheme", pk)
    }
    work["techniques"] = _rows(
        conn,
        "SELECT t.slug, t.name, wt.by, wt.confidence, wt.evidence FROM work_technique wt"
        " JOIN technique t ON t.slug = wt.technique WHERE wt.work_pk = ? ORDER BY t.position",
        pk,
    )
    work["motivations"] = _rows(
        conn,
        "SELECT m.slug, m.name, wm.by, wm.confidence, wm.status, wm.quote, wm.location AS 'where', wm.reasoning"
        " FROM work_motivation wm"
        " JOIN motivation m ON m.slug = wm.motivation WHERE wm.work_pk = ? ORDER BY m.position",
        pk,
    )
    work["relations"] = _rows(
        conn,
        "SELECT r.type, w.id, w.title, w.year FROM relation r JOIN work w ON w.pk = r.target_pk"
        " WHERE r.source_pk = ? ORDER BY r.type, w.id",
        pk,
    )
    work["cited_by"] = _rows(
        conn,
        "SELECT r.type, w.id, w.title, w.year FROM relation r JOIN work w ON w.pk = r.source_pk"
        " WHERE r.target_pk = ? ORDER BY r.type, w.id",
        pk,
    )
    work["cites_in_catalogue"] = sum(r["type"] == "cites" for r in work["relations"])
    work["cited_by_in_catalogue"] = sum(r["type"] == "cites" for r in work["cited_by"])
    work["provenance"] = [
        dict(r, fields=json.loads(r["fields"]))
        for r in _rows(
            conn,
            "SELECT source, fetched_at, fields, matched_by FROM provenance WHERE work_pk = ? ORDER BY position",
            pk,
        )
    ]
    row = conn.execute("SELECT * FROM summary WHERE work_pk = ?", (pk,)).fetchone()
    summary = None
    if row:
        summary = dict(row)
        summary.pop("work_pk")
        summary.pop("motivation_stated_by")  # superseded by the work's motivation statuses: never shown
        summary["contributors"] = json.loads(summary["contributors"])
    work["summary"] = summary
    work.pop("pk")
    return cast("WorkDetail", work)  # the keys WorkDetail lists (tests/test_build.py holds them to it)


def _rows(conn: sqlite3.Connection, sql: str, *args) -> list[dict]:
    return [dict(r) for r in conn.execute(sql, args)]


def works_for_export(conn: sqlite3.Connection, q: Query) -> list[ExportedWork]:
    """Full records (authors, identifiers, categories) of the works a query finds, in its order."""
    order = [r["id"] for r in search(conn, q)]
    by_id = {w["id"]: w for w in export(conn)["works"]}
    return [by_id[i] for i in order]


# -- the taxonomy and the whole ------------------------------------------------------------


def technique_tree(conn: sqlite3.Connection) -> list[dict]:
    """Techniques in depth-first order, each with its own works and those of its whole subtree."""
    rows = _rows(
        conn,
        f"""
        SELECT t.slug, t.name, t.parent, t.depth, t.position, t.description, t.implementation,
               (SELECT count(*) FROM work_technique wt WHERE wt.technique = t.slug AND wt.{_CURATED_SQL}) AS direct,
               (SELECT count(DISTINCT wt.work_pk) FROM technique_closure c
                  JOIN work_technique wt ON wt.technique = c.descendant WHERE c.ancestor = t.slug
                  AND wt.{_CURATED_SQL}) AS total
        FROM technique t ORDER BY t.position""",
    )
    from kb.tree import Tree

    by_slug = {r["slug"]: r for r in rows}
    return [by_slug[s] for s in Tree.of(rows).depth_first()]


def motivations(conn: sqlite3.Connection) -> list[dict]:
    return _rows(
        conn,
        f"""
        SELECT m.slug, m.name, m.description,
               (SELECT count(*) FROM work_motivation wm WHERE wm.motivation = m.slug AND wm.{_CURATED_SQL}) AS works,
               (SELECT count(*) FROM work_motivation wm WHERE wm.motivation = m.slug AND wm.{_CURATED_SQL}
                  AND wm.status = 'stated') AS stated,
               (SELECT count(*) FROM work_motivation wm WHERE wm.motivation = m.slug AND wm.{_CURATED_SQL}
                  AND wm.status = 'partly-stated') AS partly_stated,
               (SELECT count(*) FROM work_motivation wm WHERE wm.motivation = m.slug AND wm.{_CURATED_SQL}
                  AND wm.status = 'inferred') AS inferred,
               (SELECT count(*) FROM work_motivation wm WHERE wm.motivation = m.slug
                  AND NOT wm.{_CURATED_SQL}) AS suggested
        FROM motivation m ORDER BY m.position""",
    )


def stats(conn: sqlite3.Connection) -> dict:
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    pairs = lambda sql: {str(k): v for k, v in conn.execute(sql)}  # noqa: E731
    return {
        "works": one("SELECT count(*) FROM work"),
        "authors": one("SELECT count(*) FROM author"),
        "summaries": pairs("SELECT status, count(*) FROM summary GROUP BY status ORDER BY status"),
        "by_kind": pairs("SELECT kind, count(*) FROM work GROUP BY kind ORDER BY count(*) DESC, kind"),
        "by_year": pairs("SELECT coalesce(year, 'unknown'), count(*) FROM work GROUP BY year ORDER BY year"),
        "identifiers": pairs("SELECT scheme, count(*) FROM identifier GROUP BY scheme ORDER BY count(*) DESC"),
        "tags_by_source": pairs(
            "SELECT by, count(*) FROM (SELECT by FROM work_technique UNION ALL"
            " SELECT by FROM work_motivation) GROUP BY by ORDER BY count(*) DESC"
        ),
        "relations": one("SELECT count(*) FROM relation"),
        "without_technique": one("SELECT count(*) FROM work WHERE pk NOT IN (SELECT work_pk FROM work_technique)"),
        "without_motivation": one(
            f"SELECT count(*) FROM work WHERE pk NOT IN (SELECT work_pk FROM work_motivation WHERE {_CURATED_SQL})"
        ),
        # each work once, by its strongest curated motivation (kb.store.records.motivation_status)
        "by_motivation_status": pairs(
            "SELECT motivation_status, count(*) FROM work GROUP BY motivation_status"
            " ORDER BY CASE motivation_status WHEN 'stated' THEN 0 WHEN 'partly-stated' THEN 1"
            " WHEN 'inferred' THEN 2 ELSE 3 END"
        ),
        "motivations_by_status": pairs(
            f"SELECT status, count(*) FROM work_motivation WHERE {_CURATED_SQL} GROUP BY status ORDER BY status"
        ),
        "without_summary": one("SELECT count(*) FROM work WHERE pk NOT IN (SELECT work_pk FROM summary)"),
    }


# -- everything at once, for the site ------------------------------------------------------


_EMPTY_JSON = {"[]": list, "{}": dict}


def _json_value(text: str):
    empty = _EMPTY_JSON.get(text)  # most works have no extra urls or categories: nothing to parse
    return empty() if empty else json.loads(text)


def export(conn: sqlite3.Connection) -> Export:
    """The whole catalogue as plain dicts, in a handful of queries per thousand works."""
    lists = export_lists(conn)
    return {
        # the keys ExportedWork lists (tests/test_build.py holds them to it)
        "works": list(iter_works(conn)),
        "authors": lists["authors"],
        "techniques": lists["techniques"],
        "motivations": lists["motivations"],
    }


# Works assembled at once by iter_works: a few queries for each chunk, and memory for one chunk's records.
WORK_CHUNK = 1000


def iter_works(conn: sqlite3.Connection, ids: Sequence[str] | None = None) -> Iterator[ExportedWork]:
    """The works as export gives them, assembled a chunk at a time: every work in id order, or the works `ids`
    in their order (an id the catalogue lacks is skipped)."""
    if ids is None:
        pks = [r[0] for r in conn.execute("SELECT pk FROM work ORDER BY id")]
    else:
        found: dict[str, int] = {}
        for i in range(0, len(ids), WORK_CHUNK):
            chunk = ids[i : i + WORK_CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update((r[1], r[0]) for r in conn.execute(f"SELECT pk, id FROM work WHERE id IN ({marks})", chunk))
        pks = [found[i] for i in ids if i in found]
    for i in range(0, len(pks), WORK_CHUNK):
        yield from _assemble(conn, pks[i : i + WORK_CHUNK])


def _assemble(conn: sqlite3.Connection, pks: list[int]) -> list[ExportedWork]:
    """The records of the works `pks`, in that order."""
    marks = ",".join("?" * len(pks))
    works = {
        r["pk"]: dict(
            r,
            urls=_json_value(r["urls"]),
            categories=_json_value(r["categories"]),
            more_authors=bool(r["more_authors"]),
            withdrawn=bool(r["withdrawn"]),
            authors=[],
            ids={},
            techniques=[],
            motivations=[],
            relations=[],
            cited_by=[],
            summary=None,
        )
        for r in conn.execute(f"SELECT {_work_columns(conn)} FROM work WHERE pk IN ({marks})", pks)
    }
    for r in conn.execute(
        "SELECT wa.work_pk, a.id, a.name FROM work_author wa JOIN author a ON a.pk = wa.author_pk"
        f" WHERE wa.work_pk IN ({marks}) ORDER BY wa.work_pk, wa.position",
        pks,
    ):
        works[r["work_pk"]]["authors"].append({"id": r["id"], "name": r["name"]})
    for r in conn.execute(
        f"SELECT work_pk, scheme, shown FROM identifier WHERE work_pk IN ({marks}) ORDER BY scheme, value", pks
    ):
        works[r["work_pk"]]["ids"][r["scheme"]] = r["shown"]
    for r in conn.execute(
        "SELECT x.work_pk, x.technique AS slug, x.by, x.confidence, x.evidence FROM work_technique x"
        f" JOIN technique t ON t.slug = x.technique WHERE x.work_pk IN ({marks}) ORDER BY t.position",
        pks,
    ):
        works[r["work_pk"]]["techniques"].append({k: r[k] for k in ("slug", "by", "confidence", "evidence")})
    for r in conn.execute(
        "SELECT x.work_pk, x.motivation AS slug, x.by, x.confidence, x.status, x.quote, x.location AS 'where',"
        " x.reasoning FROM work_motivation x JOIN motivation t ON t.slug = x.motivation"
        f" WHERE x.work_pk IN ({marks}) ORDER BY t.position",
        pks,
    ):
        works[r["work_pk"]]["motivations"].append(dict(r))
        del works[r["work_pk"]]["motivations"][-1]["work_pk"]
    # each side's relations by type, then in the order they were stored (as one query over the whole table gave them)
    for r in conn.execute(
        "SELECT x.source_pk, x.type, w.id FROM relation x JOIN work w ON w.pk = x.target_pk"
        f" WHERE x.source_pk IN ({marks}) ORDER BY x.type, x.rowid",
        pks,
    ):
        works[r["source_pk"]]["relations"].append({"type": r["type"], "id": r["id"]})
    for r in conn.execute(
        "SELECT x.target_pk, x.type, w.id FROM relation x JOIN work w ON w.pk = x.source_pk"
        f" WHERE x.target_pk IN ({marks}) ORDER BY x.type, x.rowid",
        pks,
    ):
        works[r["target_pk"]]["cited_by"].append({"type": r["type"], "id": r["id"]})
    for r in conn.execute(f"SELECT * FROM summary WHERE work_pk IN ({marks})", pks):
        s = dict(r, contributors=json.loads(r["contributors"]))
        del s["motivation_stated_by"]  # superseded by the work's motivation statuses: never shown
        works[s.pop("work_pk")]["summary"] = s
    for w in works.values():
        del w["pk"]
    return cast("list[ExportedWork]", [works[pk] for pk in pks])


class Works:
    """The catalogue's works for a reader that must not hold them all at once (the site, at 100,000 works):
    iterated a chunk at a time, or fetched by id. A connection must not cross a fork: a forked process (a site
    renderer) reads through one of its own, to the same file, and fails if the file was replaced meanwhile."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn, self._pid = conn, os.getpid()
        self._path = next((r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
        self._file = os.stat(self._path).st_ino if self._path else None
        self._count: int = conn.execute("SELECT count(*) FROM work").fetchone()[0]
        self._own: tuple[int, sqlite3.Connection] | None = None

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[ExportedWork]:
        return iter_works(self._connection())

    def fetch(self, ids: Sequence[str]) -> list[ExportedWork]:
        """The works `ids`, in that order."""
        return list(iter_works(self._connection(), ids))

    def _connection(self) -> sqlite3.Connection:
        if os.getpid() == self._pid:
            return self._conn
        if self._own is None or self._own[0] != os.getpid():
            if not self._path or os.stat(self._path).st_ino != self._file:
                raise Unreadable(f"the catalogue {self._path} was replaced while the site was built: build it again")
            self._own = (os.getpid(), connect(Path(self._path)))
        return self._own[1]


def export_lists(conn: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    """What export gives besides the works: the authors, techniques and motivations (small beside the works)."""
    authors = [dict(r, aliases=json.loads(r["aliases"])) for r in conn.execute("SELECT * FROM author ORDER BY id")]
    for a in authors:
        del a["pk"]
    return {
        "authors": authors,
        "techniques": [
            dict(t, keywords=json.loads(t["keywords"]))
            for t in _rows(
                conn,
                "SELECT slug, name, description, parent, keywords, implementation, depth"
                " FROM technique ORDER BY position",
            )
        ],
        "motivations": [
            dict(m, keywords=json.loads(m["keywords"]))
            for m in _rows(conn, "SELECT slug, name, description, keywords FROM motivation ORDER BY position")
        ],
    }
