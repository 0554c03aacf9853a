"""Running imports: fetch from a source, merge into data/, rebuild the catalogue, report.

Transactional: records are merged in memory and the result is checked before anything is written; a
source that fails part-way keeps the complete records it delivered (a re-run fetches the rest, with the
pages already read served from the HTTP cache). `kb sync` fetches every source of data/sources.toml
concurrently; one source's failure does not stop the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from kb.ingest.merging import Merger, Report
from kb.store.sources import SOURCES
from kb.workspace import Workspace


@dataclass
class Fetched:
    name: str
    records: list = field(default_factory=list)
    authors: list = field(default_factory=list)
    error: str | None = None
    notices: list = field(default_factory=list)  # warnings that did not stop the source (a link dropped, ...)
    skipped: list = field(default_factory=list)  # items that failed alone (a library entry without a title)


def collect(name: str, fetch: Callable[[], Iterable]) -> Fetched:
    """Run one source's fetch to the end or to its first error, keeping every complete record."""
    from importers.records import AuthorRecord, Notice, Skipped, SourceError

    out = Fetched(name)
    try:
        for item in fetch():
            if isinstance(item, AuthorRecord):
                out.authors.append(item)
            elif isinstance(item, Skipped):
                out.skipped.append(str(item))
            elif isinstance(item, Notice):
                out.notices.append(str(item))
            else:
                out.records.append(item)
    except SourceError as e:
        out.error = str(e)
    except Exception as e:  # a fault in one source (a bug, a full disk) stops that source alone: kb sync still
        # merges the others, and this one keeps the records it delivered before the fault
        out.error = f"{name}: stopped by an unexpected error ({type(e).__name__}: {e})"
    return out


def apply(ws: Workspace, batches: list[Fetched]) -> Report:
    """Merge fetched records into data/ and rebuild the catalogue; nothing is written if checks fail."""
    report = Report()

    def merge(ds):
        nonlocal report
        merger = Merger(ds)
        # every source's records together, in the merger's canonical order: the outcome is the same whichever
        # source answered first
        merger.add_all([record for batch in batches for record in batch.records])
        for batch in batches:
            for a in batch.authors:  # an AuthorRecord's fields are Author's facts: pass them all, by name
                facts = dataclasses.asdict(a)
                merger.author(facts.pop("name"), **facts)
            merger.report.errors.extend(batch.skipped)  # each failed alone; the import reports them as errors
            if batch.error:
                merger.report.errors.append(batch.error)
        merger.resolve_links()
        report = merger.report
        new = merger.dataset(ds)
        return new if report.changed or new.authors != ds.authors else None

    ws.update(merge)  # read, merge and write as one step
    return report


HTTP_OPTIONS: dict = {}  # overrides of importers.http.Polite's pacing and retries (tests set them)


def polite(source: str, transport=None, progress=None, cache_dir: Path | None = None):
    """A polite client for one source; its answers cached under cache_dir/http (None: nothing cached)."""
    from importers import http

    cache = {"cache_dir": cache_dir / "http" if cache_dir else None}
    return http.Polite(http.client(transport), source, **{"progress": progress, **cache, **HTTP_OPTIONS})


def terminal_progress(text: str) -> None:
    """How a slow request goes, on stderr when it is a terminal (a pipe or a log gets only the report)."""
    import sys

    if sys.stderr.isatty():
        print(f"  {text}", file=sys.stderr, flush=True)


def fetch_source(
    spec: dict,
    transport=None,
    progress=None,
    *,
    settings: Mapping[str, str] = MappingProxyType({}),
    cache_dir: Path | None = None,
) -> Fetched:
    """Fetch one source, described by a spec (see SOURCES), to its end or its first error. `settings` are the
    Workspace's (what fills a key the spec leaves out); answers are cached under `cache_dir` (None: not cached)."""
    import importlib
    from typing import cast

    from importers.records import Importer

    kind = spec.get("type")
    source = SOURCES.get(str(kind))  # not a string (none, a TOML table): no source has that name
    if source is None:
        known = ", ".join(SOURCES)
        return Fetched(str(spec), error=f"unknown source type {kind!r} in sources.toml (known: {known})")
    given = {k: v for k, v in spec.items() if v is not None}
    from_settings = {k: settings[var] for k, var in source.env.items() if k not in given and settings.get(var)}
    spec = {**source.defaults, **from_settings, **given}
    written = str(given)  # errors quote the spec as sources.toml gives it, not the cache folder kb adds
    if cache_dir is not None:  # where an importer may keep what resumes it (Scholar's progress), never the user's
        spec["cache_dir"] = str(cache_dir)
    try:
        module = cast(Importer, importlib.import_module(f"importers.{source.module}"))
        name = module.label(spec)
        http = polite(name, transport, progress, cache_dir)
    except KeyError as e:
        return Fetched(written, error=f"a {kind} source needs {e.args[0]!r} (see data/sources.toml)")
    except Exception as e:  # as in collect(): this source fails, kb sync goes on with the others
        return Fetched(written, error=f"{kind} source {written}: {type(e).__name__}: {e}")
    return collect(name, lambda: module.fetch(http, spec))


def run(ws: Workspace, spec: dict, transport=None) -> tuple[Report, Fetched]:
    """`kb import <type> ...`: one source fetched, then merged into data/."""
    # kb sync has its own counter: one source's lines only
    fetched = fetch_source(spec, transport, terminal_progress, settings=ws.settings, cache_dir=ws.cache_dir)
    return apply(ws, [fetched]), fetched


# -- kb sync ---------------------------------------------------------------------------------------


def sync(
    ws: Workspace,
    specs: list[dict],
    on_done: Callable[[Fetched], None] = lambda f: None,
    workers: int = 16,
    transport=None,
) -> tuple[Report, list[Fetched]]:
    """Fetch every source at once (each host keeps its own pace), then merge them in order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(fetch_source, spec, transport, settings=ws.settings, cache_dir=ws.cache_dir) for spec in specs
        ]
        fetched = []
        for spec, f in zip(specs, futures):
            try:
                fetched.append(f.result())
            except Exception as e:  # fetch_source() turns every error into its Fetched; should one escape, it is
                # still this source's alone, and the others' records are merged
                fetched.append(Fetched(str(spec), error=f"{spec}: {type(e).__name__}: {e}"))
            on_done(fetched[-1])
    return apply(ws, fetched), fetched
