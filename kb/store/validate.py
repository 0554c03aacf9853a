"""Checks across all of data/: what a single record's schema cannot see."""

from __future__ import annotations

import re
from collections import Counter

from importers.controls import C0_C1, INVISIBLE
from kb.names import author_id, identity
from kb.store.datadir import Dataset
from kb.store.layout import works_file
from kb.store.problems import Problem
from kb.store.summaries import PLACEHOLDER
from kb.text import has_markup


def check(ds: Dataset) -> list[Problem]:
    problems = list(ds.problems)
    if not ds.techniques and not ds.motivations and any(p.path.endswith("taxonomy.toml") for p in ds.problems):
        # an unreadable taxonomy: every tag would be "unknown", hundreds of lines hiding the one that matters
        return sorted(set(problems), key=lambda p: (p.path, p.line, p.message))
    for rule in (
        _unique_ids,
        _taxonomy,
        _works,
        _one_line_text,
        _prose_text,
        _shared_identifiers,
        _sorted_files,
        _summaries,
        _authors,
    ):
        problems += rule(ds)
    return sorted(set(problems), key=lambda p: (p.path, p.line, p.message))


def check_all(ds: Dataset) -> list[Problem]:
    """`kb validate`: what check finds, and data/sources.toml's problems. The catalogue is not made from
    sources.toml, so a mistake there stops `kb sync` and fails validation, but no build or reading command."""
    return sorted(set(check(ds) + _sources(ds)), key=lambda p: (p.path, p.line, p.message))


def _unique_ids(ds: Dataset) -> list[Problem]:
    # duplicate work and author ids are caught by the loader, which sees both lines.
    out = []
    for kind, records in (("technique", ds.techniques), ("motivation", ds.motivations)):
        for slug, n in Counter(r.slug for r in records).items():
            if n > 1:
                out.append(Problem(*ds.place(kind, slug), f"duplicate {kind} slug {slug!r}"))
    return out


def _taxonomy(ds: Dataset) -> list[Problem]:
    from kb.tree import Tree

    return [
        Problem(*ds.place("technique", slug), f"technique {slug}: {message}")
        for slug, message in Tree.of(ds.techniques).problems()
    ]


def _works(ds: Dataset) -> list[Problem]:
    techniques = {t.slug for t in ds.techniques}
    motivations = {m.slug for m in ds.motivations}
    ids = {w.id for w in ds.works}
    out = []
    for w in ds.works:
        where = ds.place("work", w.id)
        for tag in w.techniques:
            if tag.slug not in techniques:
                out.append(Problem(*where, f"work {w.id}: unknown technique {tag.slug!r}"))
        for motivation in w.motivations:
            if motivation.slug not in motivations:
                out.append(Problem(*where, f"work {w.id}: unknown motivation {motivation.slug!r}"))
            elif motivation.where == "abstract" and not quoted_in(motivation.quote, w.abstract):
                said = f"work {w.id}: motivation {motivation.slug!r}: its quote is not in the abstract"
                out.append(Problem(*where, said))
        for rel in w.relations:
            if rel.target not in ids:
                out.append(Problem(*where, f"work {w.id}: {rel.type} {rel.target!r}, which is not in the catalogue"))
            elif rel.target == w.id:
                out.append(Problem(*where, f"work {w.id}: a work cannot {rel.type} itself"))
        for key in ("techniques", "motivations"):
            slugs = [t.slug for t in getattr(w, key)]
            if len(set(slugs)) != len(slugs):
                dupes = sorted(s for s, n in Counter(slugs).items() if n > 1)
                out.append(Problem(*where, f"work {w.id}: {key} repeated: {', '.join(dupes)}"))
        if where[0] != "?" and not where[0].endswith(works_file(w.kind)):  # "?": not yet written
            out.append(Problem(*where, f"work {w.id}: a {w.kind} belongs in data/{works_file(w.kind)}"))
    return out


def quoted_in(quote: str | None, text: str | None) -> bool:
    """Whether `quote` stands in `text` word for word; only whitespace may differ (a line break in a pasted quote)."""
    if not quote or not text:
        return False
    return " ".join(quote.split()) in " ".join(text.split())


def _shared_identifiers(ds: Dataset) -> list[Problem]:
    """Two works with one arXiv id or DOI are one work entered twice."""
    claims = ((w.id, identity(scheme, value), f"{scheme} {value}") for w in ds.works for scheme, value in w.ids.items())
    return _claimed_twice(ds, "work", claims)


def _claimed_twice(ds: Dataset, kind: str, claims) -> list[Problem]:
    """(record id, key, what the key is) in order: a key a second record claims is a problem of that record's."""
    out: list[Problem] = []
    owner: dict = {}
    for record, key, shown in claims:
        if key in owner and owner[key] != record:
            out.append(Problem(*ds.place(kind, record), f"{kind} {record}: {shown} is also {kind} {owner[key]!r}"))
        owner.setdefault(key, record)
    return out


def _sorted_files(ds: Dataset) -> list[Problem]:
    by_file: dict[str, list[tuple[int, str]]] = {}
    for kind, records in (("work", ds.works), ("author", ds.authors)):
        for r in records:
            path, line = ds.place(kind, r.id)
            by_file.setdefault(path, []).append((line, r.id))
    out = []
    for path, rows in by_file.items():
        if path == "?":
            continue
        rows.sort()
        for (_, prev), (line, rid) in zip(rows, rows[1:]):
            if rid < prev:
                out.append(
                    Problem(
                        path, line, f"{rid!r} comes after {prev!r}: lines must be sorted by id (kb format sorts them)"
                    )
                )
                break
    return out


def _summaries(ds: Dataset) -> list[Problem]:
    works = {w.id: w for w in ds.works}
    motivations = {m.slug for m in ds.motivations}
    out = []
    for s in ds.summaries:
        line = lambda key, s=s: ds.place("summary-key", f"{s.meta.work}:{key}")[1]  # noqa: E731
        if s.meta.work not in works:
            out.append(Problem(s.path, line("work"), f"summary of {s.meta.work!r}, which is not in the catalogue"))
        tagged = {t.slug for t in works[s.meta.work].motivations} if s.meta.work in works else set()
        for slug in s.meta.motivations:
            if slug not in motivations:
                out.append(Problem(s.path, line("motivations"), f"unknown motivation {slug!r}"))
            elif s.meta.work in works and slug not in tagged:
                # the evidence of a motivation lives on the work; a summary only names what the work carries
                out.append(
                    Problem(
                        s.path,
                        line("motivations"),
                        f"motivation {slug!r} is not on work {s.meta.work}: add it there with its status and evidence",
                    )
                )
        texts = {"xrisk": s.meta.xrisk, "opinion": s.meta.opinion, "contributors": " ".join(s.meta.contributors)}
        for key, text in texts.items():
            if text and PLACEHOLDER in text:
                out.append(Problem(s.path, line(key), f"{key} still has a {PLACEHOLDER} placeholder"))
        todo = next((i for i, text in enumerate(s.body.splitlines()) if PLACEHOLDER in text), None)
        if todo is not None:
            out.append(Problem(s.path, line("body") + todo, f"the body still has a {PLACEHOLDER} placeholder"))
    return out


def _authors(ds: Dataset) -> list[Problem]:
    claims = ((a.id, author_id(name), f"name {name!r}") for a in ds.authors for name in (a.name, *a.aliases))
    return _claimed_twice(ds, "author", claims)


def _sources(ds: Dataset) -> list[Problem]:
    """data/sources.toml, what `kb sync` imports: found by kb validate (and CI) rather than by the next sync."""
    from kb.store.sources import read_sources

    return read_sources(ds.root / "sources.toml")[1]


# One-line fields are shown as they are in the terminal, in page titles, in search filters and in feeds: no
# markup (a filter label is inserted as HTML by the search UI), no control characters (a terminal obeys them).
# Taxonomy names are ours: no angle brackets at all. Titles and names come from the world ("p < 0.05"): no tag.
# Identifiers, URLs and venues are one-line too, and end up in exports, links and terminals: no control characters,
# nor the invisible characters that reorder or hide text (an id with a bidi override shows as another id).
_CONTROLS = re.compile(rf"[\x00-\x1f\x7f-\x9f{INVISIBLE}]")
_ANGLES = re.compile(r"[<>]")


def _one_line_text(ds: Dataset) -> list[Problem]:
    ours = [("technique", t.slug, "name", t.name) for t in ds.techniques]
    ours += [("motivation", m.slug, "name", m.name) for m in ds.motivations]
    theirs = [("work", w.id, "title", w.title) for w in ds.works]
    theirs += [("work", w.id, "author", a) for w in ds.works for a in w.authors]
    theirs += [("author", a.id, "name", n) for a in ds.authors for n in (a.name, *a.aliases)]
    plain = [("work", w.id, f"ids.{k}", v) for w in ds.works for k, v in w.ids.items()]
    plain += [("work", w.id, "url", u) for w in ds.works for u in _urls(w)]
    plain += [("work", w.id, "venue", w.venue) for w in ds.works if w.venue]
    plain += [
        ("author", a.id, k, getattr(a, k)) for a in ds.authors for k in ("homepage", "affiliation") if getattr(a, k)
    ]
    nothing = lambda value: False  # noqa: E731 -- identifiers and URLs: only control characters count
    return [
        Problem(*ds.place(kind, key), f"{kind} {key}: {field} {value!r} has markup or a control character")
        for fields, markup in ((ours, _ANGLES.search), (theirs, has_markup), (plain, nothing))
        for kind, key, field, value in fields
        if isinstance(value, str) and (markup(value) or _CONTROLS.search(value))
    ]


def _urls(w) -> list[str]:
    return [u for u in (w.url, *(w.urls or {}).values()) if u]


# Prose (abstracts, summaries) keeps its line breaks and tabs; any other control character would reach a terminal.
_CONTROL = re.compile(f"[{C0_C1}]")


def _prose_text(ds: Dataset) -> list[Problem]:
    # (place, how many lines into the value count: a summary's body is text of its own file, a key's value is not)
    fields = [
        (ds.place("work", w.id), False, f"work {w.id}: {name}", value or "")
        for w in ds.works
        for name, value in (
            ("abstract", w.abstract),
            ("curator_note", w.curator_note),
            *((f"motivation {t.slug}", t.quote or t.reasoning) for t in w.motivations),
        )
    ]
    for s in ds.summaries:
        for name, value in (("body", s.body), ("xrisk", s.meta.xrisk), ("opinion", s.meta.opinion)):
            path, line = ds.place("summary-key", f"{s.meta.work}:{name}")
            if path == "?":
                path, line = ds.place("summary", s.meta.work)
            fields.append(((path, line), name == "body", f"summary of {s.meta.work}: {name}", value or ""))
    return [
        Problem(
            place[0],
            place[1] + (value.count("\n", 0, found.start()) if lines else 0),
            f"{what} has a control character ({found.group()!r}): remove it",
        )
        for place, lines, what, value in fields
        if (found := _CONTROL.search(value))
    ]
