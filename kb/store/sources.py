"""data/sources.toml: which sources `kb sync` fetches. Its schema (one table of source types, what each entry's keys
must be) and the reader that checks a file against it, each problem with its line. A leaf of the store: `kb sync`
runs what it reads (kb.ingest.imports) and `kb validate` checks it, and neither reaches into the other.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kb.store.problems import DataProblems, Problem


class SourcesProblems(DataProblems):
    """The list of sources (data/sources.toml) cannot be used as it is: nothing is fetched."""

    def __init__(self, path: Path, problems):
        # not DataProblems' message: data/'s works are fine, and kb sync (not an import) is what waits on the fix
        Exception.__init__(self, f"{path} has {len(problems)} problem(s): fix them before syncing")
        self.problems = problems


# -- the sources: one table, one entry shape -------------------------------------------------------
#
# Every entry names a module of importers/ that keeps the importers.records.Importer contract (label, fetch).


@dataclass(frozen=True)
class Source:
    module: str  # importers.<module>
    defaults: dict = field(default_factory=dict)  # what a sources.toml entry leaves out
    env: dict = field(
        default_factory=dict
    )  # spec key -> the setting (kb.workspace.SOURCE_SETTINGS) that gives it when unset
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
    "scholar": Source(
        "scholar",
        env={"openalex_url": "KB_OPENALEX_URL"},
        keys={"id": str, "fill": bool, "openalex_url": str},
        needs=("id",),
    ),
    # a researcher's library, read from a file (importers/library.py): the same identity rules as any source
    "bibtex": Source("bibtex", keys={"path": str}, needs=("path",)),
    "csl-json": Source("csljson", keys={"path": str}, needs=("path",)),
    "ris": Source("ris", keys={"path": str}, needs=("path",)),
    "openalex": Source(
        "openalex",
        {"limit": 500},
        {"base_url": "KB_OPENALEX_URL", "key": "OPENALEX_API_KEY", "mailto": "OPENALEX_MAILTO"},
        {"author": str, "author_id": str, "limit": int, "key": str, "mailto": str},
        ("author", "author_id"),
    ),
}


def base_url(source: str, given: str | None, settings: Mapping[str, str]) -> str | None:
    """The address a source's API is asked at: the one given, else its setting's (SOURCES; the Workspace's)."""
    var = SOURCES[source].env.get("base_url") if source in SOURCES else None
    return given or (settings.get(var) if var else None) or None


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
