"""Running imports: fetch from a source, merge into data/, rebuild the catalogue, report.

Transactional: records are merged in memory and the result is checked before anything is written; a
source that fails part-way keeps the complete records it delivered (a re-run fetches the rest, with the
pages already read served from the HTTP cache). `kb sync` fetches every source of data/sources.toml
concurrently; one source's failure does not stop the others.
"""

from __future__ import annotations

import dataclasses
import os
import re
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


class SourcesProblems(DataProblems):
    """The list of sources (data/sources.toml) cannot be used as it is: nothing is fetched."""

    def __init__(self, path: Path, problems):
        # not DataProblems' message: data/'s works are fine, and kb sync (not an import) is what waits on the fix
        Exception.__init__(self, f"{path} has {len(problems)} problem(s): fix them before syncing")
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
    except Exception as e:  # a fault in one source (a bug, a full disk) stops that source alone: kb sync still
        # merges the others, and this one keeps the records it delivered before the fault
        out.error = f"{name}: stopped by an unexpected error ({type(e).__name__}: {e})"
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
    # The keys a sources.toml entry may give besides type and base_url, each with what its value must be (a type,
    # LIST: a list of strings, or a tuple of the values allowed): what the importer's label() and fetch() read.
    keys: dict = field(default_factory=dict)
    needs: tuple = ()  # at least one of these keys must be given (and not empty)


LIST = "a list of strings"
_FORUM = {"user": str, "tag": str, "comments": bool, "limit": int, "site": ("lesswrong", "alignmentforum")}
SOURCES: dict[str, Source] = {
    "arxiv": Source(
        "arxiv",
        {"limit": 200},
        {"base_url": "KB_ARXIV_URL"},
        {"ids": LIST, "query": str, "limit": int},
        ("ids", "query"),
    ),
    "feed": Source("feeds", keys={"url": str}, needs=("url",)),
    "lesswrong": Source(
        "lesswrong", {"limit": 200, "site": "lesswrong"}, {"base_url": "KB_LESSWRONG_URL"}, _FORUM, ("user", "tag")
    ),
    "alignmentforum": Source(
        "lesswrong", {"limit": 200, "site": "alignmentforum"}, {"base_url": "KB_LESSWRONG_URL"}, _FORUM, ("user", "tag")
    ),
    "scholar": Source("scholar", keys={"id": str, "fill": bool}, needs=("id",)),
    "openalex": Source(
        "openalex",
        {"limit": 500},
        {"base_url": "KB_OPENALEX_URL"},
        {"author": str, "author_id": str, "limit": int, "key": str},
        ("author", "author_id"),
    ),
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
    try:
        module = importlib.import_module(f"importers.{source.module}")
        name = module.label(spec)
        polite = _polite(name, transport)
    except KeyError as e:
        return Fetched(str(spec), error=f"a {kind} source needs {e.args[0]!r} (see data/sources.toml)")
    except Exception as e:  # as in collect(): this source fails, kb sync goes on with the others
        return Fetched(str(spec), error=f"{kind} source {spec}: {type(e).__name__}: {e}")
    return collect(name, lambda: module.fetch(polite, spec))


def run(ws: Workspace, spec: dict, transport=None) -> tuple[Report, Fetched]:
    """`kb import <type> ...`: one source fetched, then merged into data/."""
    fetched = fetch_source(spec, transport)
    return apply(ws, [fetched]), fetched


# -- kb sync ---------------------------------------------------------------------------------------


def sources(path: Path) -> list[dict]:
    """The [[source]] tables of a sources file (none if it does not exist); SourcesProblems if any is unusable."""
    specs, problems = read_sources(path)
    if problems:
        raise SourcesProblems(path, problems)
    return specs


def read_sources(path: Path) -> tuple[list[dict], list]:
    """(the sources, the problems with them): each problem names the file and, where it can, the line. Checked
    here, before anything is fetched, since a value of the wrong type would otherwise surface as a traceback deep
    inside an importer, and a misspelt key would be silently ignored."""
    from kb.datadir import Problem

    if not path.exists():
        return [], []
    where = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except OSError as e:
        return [], [Problem(where, 0, f"cannot read the list of sources: {e.strerror or e}")]
    except UnicodeDecodeError as e:
        return [], [Problem(where, 0, f"not UTF-8 (byte {e.start}): TOML files are UTF-8")]
    except tomllib.TOMLDecodeError as e:
        line = re.search(r"at line (\d+)", str(e))
        return [], [Problem(where, int(line[1]) if line else 0, f"not valid TOML: {e}")]
    lines = _Lines(text)
    problems = [
        Problem(where, lines.top(key), f"unknown key {key!r}: sources are [[source]] tables")
        for key in data
        if key != "source"
    ]
    tables = data.get("source", [])
    if not isinstance(tables, list):
        return [], problems + [Problem(where, lines.top("source"), "'source' must be a list of [[source]] tables")]
    specs = []
    for n, spec in enumerate(tables):
        if not isinstance(spec, dict):
            message = f"source {n + 1} is {_shown(spec)}, not a table of keys (write it as a [[source]] table)"
            problems.append(Problem(where, lines.table(n), message))
            continue
        found = [Problem(where, lines.key(n, key), message) for key, message in _spec_problems(spec)]
        problems += found
        if not found:
            specs.append(spec)
    return specs, problems


def _spec_problems(spec: dict) -> list[tuple[str | None, str]]:
    """(the key at fault or None, what is wrong) for one [[source]] table."""
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in SOURCES:  # in that order: a list is no key of a dict
        said = "no type" if kind is None else f"unknown type {_shown(kind)}"
        return [("type", f"source: {said} (known: {', '.join(SOURCES)})")]
    source = SOURCES[kind]
    allowed = {"type": str, "base_url": str, **source.keys}
    out = []
    for key, value in spec.items():
        want = allowed.get(key)
        if want is None:
            out.append((key, f"{kind} source: no key {key!r} (known: {', '.join(allowed)})"))
        elif not _fits(value, want):
            out.append((key, f"{kind} source: {key} = {_shown(value)}, but it must be {_wanted(want)}"))
    if source.needs and not any(spec.get(key) for key in source.needs):
        out.append((None, f"{kind} source: needs {' or '.join(map(repr, source.needs))}"))
    return out


def _fits(value, want) -> bool:
    if want is LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if isinstance(want, tuple):
        return value in want and isinstance(value, str)
    if want is int:  # a count: TOML's true is no number, and no limit is a limit of nothing
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    return isinstance(value, want)


def _wanted(want) -> str:
    if isinstance(want, tuple):
        return " or ".join(map(repr, want))
    return {str: "a string", bool: "true or false", int: "a whole number above 0"}.get(want, want)


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Lines:
    """Where things are in a TOML text, read from its lines (tomllib gives no positions): the line of the n-th
    [[source]] header and of a key under it, 0 where it cannot be told."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.headers = [n for n, line in enumerate(self.lines, 1) if re.match(r"\s*\[\[\s*source\s*\]\]", line)]

    def top(self, key: str) -> int:
        pattern = re.compile(rf"\s*(\[\[?\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\])")
        return next((n for n, line in enumerate(self.lines, 1) if pattern.match(line)), 0)

    def table(self, n: int) -> int:
        return self.headers[n] if n < len(self.headers) else self.top("source")

    def key(self, n: int, key: str | None) -> int:
        start = self.table(n)
        if key is None or n >= len(self.headers):
            return start
        end = self.headers[n + 1] if n + 1 < len(self.headers) else len(self.lines) + 1
        pattern = re.compile(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=")
        return next((i for i in range(start + 1, end) if pattern.match(self.lines[i - 1])), start)


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
        for spec, f in zip(specs, futures):
            try:
                fetched.append(f.result())
            except Exception as e:  # fetch_source() turns every error into its Fetched; should one escape, it is
                # still this source's alone, and the others' records are merged
                fetched.append(Fetched(str(spec), error=f"{spec}: {type(e).__name__}: {e}"))
            on_done(fetched[-1])
    return apply(ws, fetched), fetched
