"""Running imports: fetch from a source, merge into data/, rebuild the catalogue, report.

Transactional: records are merged in memory and the result is checked before anything is written; a
source that fails part-way keeps the complete records it delivered (a re-run fetches the rest, with the
pages already read served from the HTTP cache). `kb sync` fetches every source of data/sources.toml
concurrently; one source's failure does not stop the others.
"""

from __future__ import annotations

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
            for a in batch.authors:
                merger.author(
                    a.name,
                    scholar_id=a.scholar_id,
                    lesswrong=a.lesswrong,
                    homepage=a.homepage,
                    affiliation=a.affiliation,
                )
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
            ws.build()
        return report


# -- one function per source: what to fetch ------------------------------------------------------


HTTP_OPTIONS: dict = {}  # overrides of importers.http.Polite's pacing and retries (tests set them)


def _polite(source: str, transport=None):
    from importers import http

    return http.Polite(http.client(transport), source, **HTTP_OPTIONS)


def arxiv(ids: list[str], query: str | None, limit: int, url: str | None, transport=None) -> Fetched:
    from importers import arxiv as source

    polite = _polite("arxiv", transport)
    return collect(
        "arxiv", lambda: source.fetch(polite, ids or None, query, base_url("arxiv", url) or source.BASE_URL, limit)
    )


def feed(url: str, transport=None) -> Fetched:
    from importers import feeds

    polite = _polite(f"feed {url}", transport)
    return collect(f"feed {url}", lambda: feeds.fetch(polite, url))


def lesswrong(
    user: str | None, tag: str | None, comments: bool, site: str, limit: int, url: str | None, transport=None
) -> Fetched:
    from importers import lesswrong as source

    def fetch():
        client = source.Client(_polite(site, transport), site, base_url("lesswrong", url))
        if user:
            yield from client.posts_by_user(user, limit)
            if comments:
                yield from client.comments_by_user(user, limit)
        if tag:
            yield from client.posts_by_tag(tag, limit)

    return collect(f"{site} {user or tag}", fetch)


def scholar(scholar_id: str, fill: bool) -> Fetched:
    from importers import scholar as source
    from importers.records import SourceError

    out = Fetched(f"scholar {scholar_id}")
    try:
        owner, works = source.fetch_profile(scholar_id, fill=fill)
        out.records, out.authors = works, [owner]
    except SourceError as e:
        out.error = str(e)
    return out


def openalex(
    author: str | None, author_ids: str | None, limit: int, url: str | None, key: str | None, transport=None
) -> Fetched:
    from importers import openalex as source

    polite = _polite("openalex", transport)
    root = base_url("openalex", url) or source.BASE_URL
    key = key or os.environ.get("OPENALEX_API_KEY")

    def fetch():
        yield from source.works(polite, author_ids or source.author_id(polite, author, root, key), root, key, limit)

    return collect(f"openalex {author or author_ids}", fetch)


# -- kb sync ---------------------------------------------------------------------------------------


def sources(path: Path) -> list[dict]:
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text())
    return data.get("source", [])


def fetch_source(spec: dict, transport=None) -> Fetched:
    kind = spec.get("type")
    if kind == "feed":
        return feed(spec["url"], transport)
    if kind == "arxiv":
        return arxiv(spec.get("ids", []), spec.get("query"), spec.get("limit", 200), spec.get("base_url"), transport)
    if kind in ("lesswrong", "alignmentforum"):
        return lesswrong(
            spec.get("user"),
            spec.get("tag"),
            spec.get("comments", False),
            spec.get("site", kind),
            spec.get("limit", 200),
            spec.get("base_url"),
            transport,
        )
    if kind == "scholar":
        return scholar(spec["id"], spec.get("fill", False))
    if kind == "openalex":
        return openalex(
            spec.get("author"), spec.get("author_id"), spec.get("limit", 500), spec.get("base_url"), None, transport
        )
    return Fetched(str(spec), error=f"unknown source type {kind!r} in sources.toml")


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
