"""`kb refresh`: re-read the works of the catalogue from arXiv and OpenAlex, and fill what they lack.

Every work with an arXiv id, a DOI or an OpenAlex id is asked for in batches (arXiv: 100 ids a request at its
pace of one request every 3 s; OpenAlex: 50 ids a request, only the fields used). What comes back goes through
the same merge as an import (kb.ingest.imports.apply): curated values are never overwritten; abstracts, categories
and identifiers fill gaps; a citation count is kept with the day it was read; OpenAlex's reference list
replaces the work's "cites" relations (kb.ingest.merge_extras); each work's provenance says what the refresh gave.

Resumable: the batches are asked in a stable order, a failure keeps every record read before it, and a re-run
finds the pages already read in the HTTP cache. Idempotent: a second run on the same day changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from importers.identifiers import strip_version
from kb.ingest.imports import Fetched, apply, collect
from kb.ingest.merging import Report
from kb.store.problems import DataProblems
from kb.store.records import Work
from kb.store.sources import base_url

REFRESHERS = ("arxiv", "openalex")  # the sources a refresh asks, in order
ARXIV_BATCH = 100  # ids a request: the API's page; one request every 3 s keeps 1,000 works under a minute


class UnknownWork(LookupError):
    pass


@dataclass
class Result:
    report: Report
    fetched: list[Fetched]
    asked: dict[str, int] = field(default_factory=dict)  # source -> works asked for
    not_found: dict[str, list[str]] = field(default_factory=dict)  # source -> work ids it had no answer for
    filled: dict[str, int] = field(default_factory=dict)  # what changed -> how many works

    @property
    def errors(self) -> list[str]:
        return self.report.errors


def targets(works: list[Work], keys: Iterable[str] = ()) -> list[Work]:
    """The works to refresh: the given ones (by work id, or any identifier: arXiv id, DOI, OpenAlex id), else
    every work with an identifier a source can look up."""
    keys = list(keys)
    if not keys:
        return [w for w in works if _lookups(w)]
    by_key = {w.id: w for w in works}
    for w in works:
        for value in w.ids.values():
            by_key.setdefault(_norm(value), w)
    out: list[Work] = []
    unknown: list[str] = []
    for key in keys:
        found = by_key.get(key) or by_key.get(_norm(key))
        if found is None:
            unknown.append(key)
        elif found not in out:
            out.append(found)
    if unknown:
        raise UnknownWork(f"no work {', '.join(map(repr, unknown))} in data/ (give a work id, an arXiv id or a DOI)")
    unusable = [w.id for w in out if not _lookups(w)]
    if unusable:
        raise UnknownWork(f"{', '.join(unusable)}: no arXiv id, DOI or OpenAlex id to look up")
    return out


def _norm(value: str) -> str:
    value = value.strip().lower()
    for prefix in ("https://doi.org/", "doi:", "arxiv:", "https://arxiv.org/abs/", "https://openalex.org/"):
        value = value.removeprefix(prefix)
    return strip_version(value)


def _lookups(w: Work) -> dict[str, str]:
    return {s: w.ids[s] for s in ("arxiv", "doi", "openalex") if s in w.ids}


def refresh(
    ws,
    keys: Iterable[str] = (),
    sources: Iterable[str] = REFRESHERS,
    *,
    urls: dict[str, str | None] | None = None,
    key: str | None = None,
    mailto: str | None = None,
    today: dt.date | None = None,
    transport=None,
) -> Result:
    """Refresh the given works (default: all that can be looked up) from the given sources, then merge."""
    ds, problems = ws.check()
    if problems:
        raise DataProblems(problems)
    works = targets(ds.works, keys)
    urls = urls or {}
    result = Result(Report(), [])
    if "arxiv" in sources:
        asked = [w for w in works if "arxiv" in w.ids]
        result.fetched.append(_arxiv(ws, asked, urls.get("arxiv"), transport))
        result.asked["arxiv"] = len(asked)
    if "openalex" in sources:
        key, mailto = key or ws.settings.get("OPENALEX_API_KEY"), mailto or ws.settings.get("OPENALEX_MAILTO")
        result.fetched.append(_openalex(ws, works, urls.get("openalex"), key, mailto, today, transport))
        result.asked["openalex"] = len(works)
    for f in result.fetched:
        f.records, result.not_found[f.name] = _answering(f.records, works, "arxiv" if f.name == "arxiv" else None)
    result.report = apply(ws, result.fetched)
    after, _ = ws.check()
    result.filled = _filled({w.id: w for w in works}, {w.id: w for w in after.works})
    return result


def _arxiv(ws, works: list[Work], url: str | None, transport) -> Fetched:
    from importers import arxiv
    from kb.ingest.imports import polite

    http = polite("arxiv", transport, cache_dir=ws.cache_dir)
    root = base_url("arxiv", url, ws.settings) or arxiv.BASE_URL
    ids = sorted({w.ids["arxiv"] for w in works})

    return collect("arxiv", lambda: arxiv.by_ids(http, ids, root))  # by_ids asks a page of ids at a time


def _openalex(ws, works: list[Work], url, key, mailto, today, transport) -> Fetched:
    from importers import openalex
    from kb.ingest.imports import polite

    http = polite("openalex", transport, cache_dir=ws.cache_dir)
    root = base_url("openalex", url, ws.settings) or openalex.BASE_URL
    # one lookup per work, by the most precise identifier it has
    by_scheme: dict[str, list[str]] = {"openalex": [], "doi": [], "arxiv": []}
    for w in works:
        scheme = next((s for s in by_scheme if s in w.ids), None)
        if scheme:
            by_scheme[scheme].append(w.ids[scheme])

    def fetch() -> Iterator:
        for scheme, values in by_scheme.items():
            if values:
                yield from openalex.by_ids(http, scheme, values, root, key, mailto, today)

    return collect("openalex", fetch)


def _answering(records: list, works: list[Work], scheme: str | None) -> tuple[list, list[str]]:
    """The records that answer for a work asked (they share an identifier with it), each made to fill rather
    than re-date it; and the ids of the works asked that got no answer."""
    owner = {}
    for w in works:
        for s, value in w.ids.items():
            owner[(s, _norm(value))] = w
    kept, answered = [], set()
    for r in records:
        shared = next((s for s, v in r.ids.items() if (s, _norm(v)) in owner), None)
        if shared is None:
            continue  # not one of ours (a source may answer with a neighbour); never a new work from a refresh
        w = owner[(shared, _norm(r.ids[shared]))]
        r.ids[shared] = w.ids[shared]  # as the catalogue writes it, so that the merge recognises it by this id
        answered.add(w.id)
        if w.year and r.year != w.year:  # another version's date: the catalogue's dating stands
            r.year, r.date = w.year, None
        kept.append(r)
    asked = [w.id for w in works if scheme is None or scheme in w.ids]
    return kept, [i for i in asked if i not in answered]


def _filled(before: dict[str, Work], after: dict[str, Work]) -> dict[str, int]:
    counts = {"abstract": 0, "categories": 0, "citations": 0, "references": 0, "identifiers": 0}
    for work_id, old in before.items():
        new = after.get(work_id)
        if new is None:
            continue
        counts["abstract"] += bool(new.abstract and not old.abstract)
        counts["categories"] += bool(new.categories and not old.categories)
        counts["citations"] += new.citations != old.citations
        cites = lambda w: {r.target for r in w.relations if r.type == "cites"}  # noqa: E731
        counts["references"] += cites(new) != cites(old)
        counts["identifiers"] += len(new.ids) > len(old.ids)
    return counts
