"""Where everything lives (data/, the catalogue, the site, results, embeddings) and the settings that move
them, each read once here; and keeping the catalogue in step with data/.

Settings, all read here: $KB_DATA (data/), $KB_DB (the catalogue), $KB_LOCK_TIMEOUT (seconds a writer waits for
another), $KB_CACHE (HTTP answers, Scholar's resume files, and the methods' activations under activations/:
kb.methods may not import kb and reads no setting, so `kb methods run` passes it `cache_dir / "activations"`), and
the sources' $KB_ARXIV_URL, $KB_LESSWRONG_URL, $KB_OPENALEX_URL, $OPENALEX_API_KEY, $OPENALEX_MAILTO, which
kb.ingest hands to the importers (they never read the environment). Two are click's, as options' defaults:
$KB_SITE_URL (`kb site build --base-url`) and $KB_REPO_URL (`--repo-url`).
"""

from __future__ import annotations

import gc
import sqlite3
import sys
from collections import namedtuple
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType

from kb import catalogue


@contextmanager
def _no_cyclic_gc():
    """Loading data/ makes millions of small objects and no reference cycles; the cyclic collector
    would re-scan the growing heap again and again (a 100,000-work load ran 5x slower with it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


LOCK_TIMEOUT = 300.0  # seconds a writer waits for another (kb.store.lock), unless $KB_LOCK_TIMEOUT says


class SettingError(ValueError):
    """An environment variable kb reads holds a value it cannot use: a usage error."""


def _seconds(name: str, value: str | None, default: float) -> float:
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):  # also refuses nan
        raise SettingError(f"${name} must be a number of seconds (0 or more), not {value!r}")
    return seconds


# What the sources read from the environment (the SOURCES table names which key each fills): read here with the
# rest, and handed to the importers, which never read the environment themselves.
SOURCE_SETTINGS = ("KB_ARXIV_URL", "KB_LESSWRONG_URL", "KB_OPENALEX_URL", "OPENALEX_API_KEY", "OPENALEX_MAILTO")


class Workspace(
    namedtuple(
        "Workspace",
        ("data_dir", "db_path", "lock_timeout", "cache_dir", "settings"),
        defaults=(LOCK_TIMEOUT, None, MappingProxyType({})),
    )
):
    """data/ (a Path), the catalogue file (a Path), the seconds a writer waits for another, the cache folder (HTTP
    answers, Scholar's resume files; None: nothing cached) and the sources' settings. A named tuple, not a
    dataclass: every command makes one, and importing dataclasses costs a fifth of a cold `kb show`."""

    __slots__ = ()

    @classmethod
    def find(cls, data_dir: Path | None = None, db_path: Path | None = None) -> Workspace:
        import os

        from kb.store.layout import find_data_dir

        env = os.environ
        data = Path(data_dir or env.get("KB_DATA") or find_data_dir())
        db = Path(db_path or env.get("KB_DB") or data.parent / "build" / "catalogue.sqlite")
        timeout = _seconds("KB_LOCK_TIMEOUT", env.get("KB_LOCK_TIMEOUT"), LOCK_TIMEOUT)
        cache = Path(env.get("KB_CACHE") or Path.home() / ".cache" / "safety-kb")
        settings = MappingProxyType({name: env[name] for name in SOURCE_SETTINGS if env.get(name)})
        return cls(data, db, timeout, cache, settings)

    # every path a command uses, beside data/ (its checkout's root) or beside the catalogue
    @property
    def site_dir(self) -> Path:
        """Where `kb site build` writes by default."""
        return self.data_dir.parent / "_site"

    @property
    def results_dir(self) -> Path:
        """Where `kb methods run` writes results and the site reads them."""
        return self.data_dir.parent / "results"

    @property
    def embeddings_path(self) -> Path:
        """Work embeddings live beside the catalogue: rebuilding the catalogue keeps them."""
        return self.db_path.parent / "embeddings.sqlite"

    def lock(self):
        """Hold data/ for a read-merge-write: a second writer waits for this one (kb.store.lock)."""
        from kb.store import lock

        return lock.locked(self.data_dir, self.lock_timeout)

    def check(self):
        """Load data/ and run every check: (dataset, problems)."""
        from kb.store import datadir, validate

        with _no_cyclic_gc():
            ds = datadir.load(self.data_dir)
            return ds, validate.check(ds)

    def update(self, change, *, validate: bool = True):
        """The one way to change data/: under the lock (a concurrent writer waits instead of being lost), load and
        check data/, let `change(dataset)` make the new dataset (None: nothing to change), check the result as `kb
        validate` does, write the files that changed in one journalled step and rebuild the catalogue. Returns the
        new dataset, or None. Raises DataProblems, and writes nothing, when data/ or the result has problems.

        `validate=False` (kb format) only refuses lines that do not load (the rewrite would drop them): it rewrites
        data/ as it is, problems and all, and leaves the catalogue to be rebuilt when data/ is next read."""
        from kb.store import datadir
        from kb.store import validate as rules
        from kb.store.problems import DataProblems

        with self.lock():
            ds, problems = self.check()
            refused = problems if validate else ds.problems
            if refused:
                raise DataProblems(refused)
            new = change(ds)
            if new is None:
                return None
            if validate and (problems := rules.check(new)):
                raise DataProblems(problems, "nothing was written")
            datadir.write_dataset(ds.root, new.works, new.authors)
            if validate:
                self.build(checked=new)
            return new

    def build(self, checked=None) -> dict:
        """Build the catalogue from data/; `checked` is a dataset already loaded and validated (an import's
        result, just written), so it is not read and checked a second time."""
        from kb.catalogue.build import build

        with _no_cyclic_gc():
            ds, problems = (checked, []) if checked is not None else self.check()
            return build(ds, self.db_path, problems)

    def connect(self) -> sqlite3.Connection:
        """The catalogue, rebuilt first if data/ changed since it was built (a summary edited, say)."""
        if catalogue.is_stale(self.db_path, self.data_dir):
            print(f"data/ changed since the last build: rebuilding {self.db_path}", file=sys.stderr)
            self.build()
        return catalogue.connect(self.db_path)
