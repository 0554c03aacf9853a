"""Running imports: fetch from a source, merge into data/, rebuild the catalogue, report.

Transactional: records are merged in memory and the result is checked before anything is written; a
source that fails part-way keeps the complete records it delivered (a re-run fetches the rest, with the
pages already read served from the HTTP cache). `kb sync` fetches every source of data/sources.toml
concurrently; one source's failure does not stop the others.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from kb.merging import Merger, Report
from kb.workspace import Workspace

ENV_URLS = {"arxiv": "KB_ARXIV_URL", "lesswrong": "KB_LESSWRONG_URL", "openalex": "KB_OPENALEX_URL"}


class DataProblems(Exception):
    def __init__(self, problems):
        super().__init__(f"data/ has {len(problems)} problem(s): fix them (kb validate) before importing")
        self.problems = problems


@dataclass
class Fetched:
    name: str
    records: list = field(default_factory=list)
    authors: list = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def base_url(source: str, given: str | None) -> str | None:
    return given or os.environ.get(ENV_URLS.get(source, ""), None)


def collect(name: str, fetch: Callable[[], Iterable], authors: Callable[[], list] | None = None) -> Fetched:
    """Run one source's fetch to the end or to its first error, keeping every complete record."""
    import warnings

    from importers.records import SourceError

    out = Fetched(name)
    # importers warn about what they leave out of a record they keep (a javascript: link, say): the report says it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            for record in fetch():
                out.records.append(record)
            if authors:
                out.authors = authors()
        except SourceError as e:
            out.error = str(e)
    out.warnings = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    return out


def apply(ws: Workspace, batches: list[Fetched]) -> Report:
    """Merge fetched records into data/ and rebuild the catalogue; nothing is written if checks fail."""
    from kb import datadir, validate

    with ws.lock():  # read, merge and write as one step: a concurrent import waits instead of being lost
        ds, problems = ws.check()
        if problems:
            raise DataProblems(problems)
        merger = Merger(ds)
        for batch in batches:
            for record in batch.records:
                merger.add(record)
            for a in batch.authors:  # an AuthorRecord's fields are Author's facts: pass them all, by name
                facts = dataclasses.asdict(a)
                merger.author(facts.pop("name"), **facts)
            merger.report.warnings += batch.warnings
            if batch.error:
                merger.report.errors.append(batch.error)
        merger.resolve_links()
        report = merger.report
        new = merger.dataset(ds)
        if report.changed or new.authors != ds.authors:
            problems = validate.check(new)
            if problems:
                raise DataProblems(problems)
            datadir.write_dataset(ds.root, new.works, new.authors)
            ws.build(checked=new)
        return report


# -- the sources: one table, one entry shape ---------------------------------------------------------

# A source's `type` (as in data/sources.toml) -> the importer module whose `from_spec(http, spec)` yields its
# records (WorkRecord, and AuthorRecord for what a source says of a person). `kb import X` and `kb sync` both
# come through here: adding a source is a module with from_spec and a line in this table.
SOURCES = {
    "arxiv": "importers.arxiv",
    "feed": "importers.feeds",
    "lesswrong": "importers.lesswrong",
    "alignmentforum": "importers.lesswrong",
    "scholar": "importers.scholar",
    "openalex": "importers.openalex",
}
_NAMED_BY = ("url", "id", "user", "tag", "author", "author_id", "query", "ids")  # what names a spec in reports

HTTP_OPTIONS: dict = {}  # overrides of importers.http.Polite's pacing and retries (tests set them)


def _polite(source: str, transport=None):
    from importers import http

    return http.Polite(http.client(transport), source, **HTTP_OPTIONS)


def describe(spec: dict) -> str:
    kind = spec.get("site") or spec.get("type", "?")
    named = next((spec[k] for k in _NAMED_BY if spec.get(k)), "")
    return f"{kind} {' '.join(named) if isinstance(named, list) else named}".strip()


def fetch_source(spec: dict, transport=None) -> Fetched:
    """Fetch what one spec names, to the end or to the source's first error, keeping every complete record."""
    import importlib

    from importers.records import AuthorRecord

    kind = spec.get("type")
    if kind not in SOURCES:
        known = ", ".join(sorted(SOURCES))
        return Fetched(str(spec), error=f"unknown source type {kind!r} in sources.toml (known: {known})")
    module = importlib.import_module(SOURCES[kind])
    spec = {**spec, "base_url": base_url(kind, spec.get("base_url"))}
    name = describe(spec)
    out = collect(name, lambda: module.from_spec(_polite(spec.get("site") or kind, transport), spec))
    out.authors = [r for r in out.records if isinstance(r, AuthorRecord)]
    out.records = [r for r in out.records if not isinstance(r, AuthorRecord)]
    return out


def run(ws: Workspace, spec: dict, transport=None) -> tuple[Report, Fetched]:
    """`kb import <type> ...`: one source fetched, then merged into data/."""
    fetched = fetch_source(spec, transport)
    return apply(ws, [fetched]), fetched


# -- kb sync ---------------------------------------------------------------------------------------


def sources(path: Path) -> list[dict]:
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text())
    return data.get("source", [])


def sync(
    ws: Workspace,
    specs: list[dict],
    on_done: Callable[[Fetched], None] = lambda f: None,
    workers: int = 16,
    transport=None,
) -> tuple[Report, list[Fetched]]:
    """Fetch every source at once (each host keeps its own pace), then merge them in order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(fetch_source, spec, transport) for spec in specs]
        fetched = []
        for f in futures:
            fetched.append(f.result())
            on_done(fetched[-1])
    return apply(ws, fetched), fetched
