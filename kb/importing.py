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
    notices: list = field(default_factory=list)  # warnings that did not stop the source (a link dropped, ...)


def collect(name: str, fetch: Callable[[], Iterable]) -> Fetched:
    """Run one source's fetch to the end or to its first error, keeping every complete record."""
    from importers.records import AuthorRecord, Notice, SourceError

    out = Fetched(name)
    try:
        for item in fetch():
            if isinstance(item, AuthorRecord):
                out.authors.append(item)
            elif isinstance(item, Notice):
                out.notices.append(str(item))
            else:
                out.records.append(item)
    except SourceError as e:
        out.error = str(e)
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


# -- the sources: one table, one entry shape -------------------------------------------------------
#
# Every importers.<module> exposes the same two functions:
#   label(spec) -> str                       the name its records and errors go by ("feed https://...")
#   fetch(http, spec) -> Iterable[...]       WorkRecords, the AuthorRecords of profile owners, and Notices,
#                                            ending with a SourceError when it stops early
# A spec is one [[source]] table of data/sources.toml (its "type" names the entry below); `kb import <source>`
# builds the same dict from its options, so both commands go through fetch_source().


@dataclass(frozen=True)
class Source:
    module: str  # importers.<module>
    defaults: dict = field(default_factory=dict)  # what a sources.toml entry leaves out
    env: dict = field(default_factory=dict)  # spec key -> the environment variable that gives it when unset


SOURCES: dict[str, Source] = {
    "arxiv": Source("arxiv", {"limit": 200}, {"base_url": "KB_ARXIV_URL"}),
    "feed": Source("feeds"),
    "lesswrong": Source("lesswrong", {"limit": 200, "site": "lesswrong"}, {"base_url": "KB_LESSWRONG_URL"}),
    "alignmentforum": Source("lesswrong", {"limit": 200, "site": "alignmentforum"}, {"base_url": "KB_LESSWRONG_URL"}),
    "scholar": Source("scholar"),
    "openalex": Source("openalex", {"limit": 500}, {"base_url": "KB_OPENALEX_URL"}),
}


def base_url(source: str, given: str | None) -> str | None:
    """The address a source's API is asked at: the one given, else its environment variable's (SOURCES)."""
    var = SOURCES[source].env.get("base_url") if source in SOURCES else None
    return given or (os.environ.get(var) if var else None) or None


HTTP_OPTIONS: dict = {}  # overrides of importers.http.Polite's pacing and retries (tests set them)


def _polite(source: str, transport=None):
    from importers import http

    return http.Polite(http.client(transport), source, **HTTP_OPTIONS)


def fetch_source(spec: dict, transport=None) -> Fetched:
    """Fetch one source, described by a spec (see SOURCES), to its end or its first error."""
    import importlib

    kind = spec.get("type")
    source = SOURCES.get(kind)
    if source is None:
        known = ", ".join(SOURCES)
        return Fetched(str(spec), error=f"unknown source type {kind!r} in sources.toml (known: {known})")
    given = {k: v for k, v in spec.items() if v is not None}
    from_env = {k: os.environ[var] for k, var in source.env.items() if k not in given and os.environ.get(var)}
    spec = {**source.defaults, **from_env, **given}
    module = importlib.import_module(f"importers.{source.module}")
    try:
        name = module.label(spec)
    except KeyError as e:
        return Fetched(str(spec), error=f"a {kind} source needs {e.args[0]!r} (see data/sources.toml)")
    polite = _polite(name, transport)
    return collect(name, lambda: module.fetch(polite, spec))


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
