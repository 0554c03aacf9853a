"""Phase two of a site build: contexts -> files, written into a staging folder first and moved into place at the end.

Incremental: the manifest kept with the site holds a digest of each work and of its brief (what other pages show
of it), of what every page shows (the site's counts, the taxonomy, the configuration: context.Sources), of each
page's list of works (the dependency map) and a fingerprint of each page. A rebuild with the same templates and
inputs looks again only at the pages naming a work whose digest changed, or whose list of works changed, and those
made from the whole catalogue; while no brief changed, not even the other works' pages are made. Every other page
stays as it is in the live site, its context never made. A page looked at again is rendered only if its
fingerprint changed. The changed files are staged, then moved in by a journal (write_site); the live site is
untouched until the journal is written, so a failed build leaves it intact.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined, Template

from kb import __version__
from kb.website import searchindex, staging
from kb.website.context import WORKS_FOLDER, Page, Sources, digest, fingerprint, search_record
from kb.website.markup import plain, prepare, safe_url

MANIFEST = ".kb-site.json"
# Folders a build makes beside out/ (`.<out>.<kind>-<random>`); any left over is from a killed build
# ("index" from builds before the atomic exchange).
# From <fcntl.h> and <linux/fs.h>: renameat2(2) is not wrapped by Python's os module.
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class SiteBuildError(RuntimeError):
    pass


class OutRefused(SiteBuildError):
    """The output folder is one a build must not replace (check_out)."""


class JournalPending(SiteBuildError):
    """An incremental build stopped while it moved its files in: the site may be a mix of old and new files until
    the next build applies the journal left beside it (recover)."""


class BadJournal(JournalPending):
    """A journal left beside the site that no build wrote as it is (cut short, edited): it cannot be applied."""


# Seconds a build waits for another build of the same site (`kb site serve --watch` and a `kb site build` by hand)
BUILD_WAIT = 900.0


@dataclass
class Report:
    out: Path
    pages: int = 0
    rendered: list[str] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)  # pages looked at again in an incremental build (their context)
    removed: list[str] = field(default_factory=list)
    search_indexed: bool | None = None  # None: Pagefind is not installed
    search_shards: list[int] = field(default_factory=list)  # the search index's shards indexed anew

    @property
    def reused(self) -> int:
        return self.pages - len(self.rendered)


def environment(templates: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates),
        bytecode_cache=_bytecode_cache(),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # one build renders thousands of pages from a dozen templates: stat-checking each template on
        # every get_template call cost 0.4 s per 1,000 works; a build never sees templates change
        auto_reload=False,
    )
    env.filters["safe_url"] = safe_url
    env.filters["plain"] = plain
    _cache_cards(env)
    return env


def _bytecode_cache():
    """Compiled templates kept across builds (Jinja's cache in the temporary folder, keyed by each template's
    source): compiling them took 0.12 s of every build, as much as rendering 150 pages."""
    try:
        return FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # no private temporary folder to keep them in: compile every time
        return None


def _compile_all(env: Environment) -> None:
    """Every template compiled (or loaded from the cache) once, before workers are forked: they inherit them.
    Hidden files are not templates: an editor's swap file or lock beside them must not fail a build."""
    for name in env.list_templates(filter_func=lambda name: not os.path.basename(name).startswith(".")):
        env.get_template(name)


def _cache_cards(env: Environment) -> None:
    """Render each work's card once per page depth instead of once per list it appears in.

    The card macro was half of all rendering (a work is listed on its techniques', authors' and related
    works' pages). Cards differ only by the relative `root` prefix, and the contexts share one card dict per
    work, so the cache is keyed on that dict (held, so its id stays unique) and root. The wrapper replaces
    the macro in the _macros.html module that `{% from ... import work_card %}` reads; where Jinja builds a
    fresh module instead, templates get the plain macro: same output, only slower.
    """
    module = env.get_template("_macros.html").module
    macro = getattr(module, "work_card", None)
    if macro is None:
        return
    rendered: dict[tuple[int, str], tuple[dict, str]] = {}

    def work_card(*args, **kwargs):
        if kwargs or len(args) != 2 or not isinstance(args[0], dict):
            return macro(*args, **kwargs)
        key = (id(args[0]), args[1])
        hit = rendered.get(key)
        if hit is None or hit[0] is not args[0]:
            hit = rendered[key] = (args[0], macro(*args))
        return hit[1]

    setattr(module, "work_card", work_card)  # noqa: B010 (a template module's attributes are not declared)


# What turns the catalogue into pages besides the templates: a page's key says what data it is made from, not how
# it is made, so a change to this code or to these libraries makes the next build a full one.
_MAKERS = ("website/context.py", "website/markup.py", "website/render.py", "website/searchindex.py", "export.py")
_LIBRARIES = ("jinja2", "markdown-it-py", "nh3", "pagefind")


def _assets_digest(assets: Path) -> str:
    """A digest of everything besides the catalogue that decides the pages: the templates and static files, the
    code that makes contexts and search documents, and the libraries that render them."""
    from importlib import metadata

    h = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent.parent
    files = [(str(p.relative_to(assets)), p) for p in assets.rglob("*") if p.is_file()]
    files += [(name, package / name) for name in _MAKERS]
    for name, path in sorted(files):
        h.update(name.encode())
        h.update(path.read_bytes())
    for library in _LIBRARIES:
        try:
            h.update(f"{library} {metadata.version(library)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{library} absent".encode())
    return h.hexdigest()[:20]


@contextmanager
def lasting() -> Iterator[None]:
    """For a block that makes what lasts the whole build (the catalogue's index, the live manifest, the plan): the
    collector is paused while it runs, and what it made is frozen after it (gc.freeze) until the build ends
    (write_site), so that no later collection walks it again. A full collection walks every object tracked: at
    10,000 works an incremental build made five, 0.07-0.25 s each on a loaded machine, over objects that live to
    the end anyway. (Not paused for the whole build: rendering leaves cycles, a few objects a page.)"""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def write_site(
    pages: Iterable[Page] | Callable[[frozenset[str] | None], Iterable[Page]],
    out: Path,
    assets: Path,
    figures: dict[str, Path] | None = None,
    search: bool = True,
    searchable: int = 0,
    protected: Sequence[Path] = (),
    sources: Sources | None = None,
) -> Report:
    """Render pages into out/ (with assets/static and the result figures), reusing unchanged pages.

    `pages`: the site's pages, or what makes them given the works whose own pages are to be made (None: all; see
    _Plan.only). Changed pages are rendered, and the search index's shards that hold a changed page are indexed
    again (searchindex; `searchable`: how many pages are marked `search`, which fixes the shards before they come).
    `sources` (context.sources) lets a rebuild skip the pages no changed work touches; without it every page is
    fingerprinted. Every new file is written into a staging folder beside out/ first, so a build that fails leaves
    out/ untouched.

    A first or full build (no live site, other templates or code, a search index of another shape) assembles a
    complete new site there, unchanged pages hard-linked from the live one, and one atomic directory exchange puts
    it in place of out/. An incremental build stages only what changed, then writes a journal (the files to move in
    and those to remove) and applies it: killed before the journal is written, out/ is the old site; after, out/
    may be a mix until the next build (or `recover`) applies the journal again, which gives the new site. Every
    other file of the live site is left where it is (one added by hand included; one of the site removed by hand is
    made again); a full build links every file no build made (a CNAME, a .git folder) into the new site before it
    takes the old one's place (_keep_theirs). An out/ that is a link: the site is built where it points.
    out/ must be a site a build made, an empty folder or nothing (check_out); `protected` are folders (data/) it
    may not be, hold or be inside. One build of a site at a time: a second waits (up to BUILD_WAIT) for the first.
    """
    if out.is_symlink():  # the site is where the link points: swapping in a new site must not replace the link
        out = out.resolve()
    check_out(out, (*protected, assets))
    out.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out):  # a second build would sweep up this one's staging folder as a killed build's (recover)
        try:
            _recover(out)
        except OSError as e:  # the journal stays: say so, not that the previous site is kept
            raise JournalPending(
                f"a previous build's files could not be moved into {out} ({_why(e)}): once that is fixed, the next "
                "`kb site build` finishes it"
            ) from e
        try:
            return _write_locked(pages, out, assets, figures, search, searchable, sources)
        finally:
            gc.unfreeze()  # what `lasting` froze
            staging.tidy(out)  # the folders this build made and removed; one it kept (a journal) stays listed


def _write_locked(
    pages: Iterable[Page] | Callable[[frozenset[str] | None], Iterable[Page]],
    out: Path,
    assets: Path,
    figures: dict[str, Path] | None,
    search: bool,
    searchable: int,
    sources: Sources | None,
) -> Report:
    """write_site's work, with the site's lock held and what a killed build left finished."""
    env = environment(assets / "templates")
    _compile_all(env)
    digest = _assets_digest(assets)
    with lasting():
        old = read_manifest(out)
        indexing = search and searchindex.available()
        incremental = old.get("assets") == digest and out.is_dir()
        in_place = incremental and (
            searchindex.reusable(old.get("search", {}), out, searchable) if indexing else "search" not in old
        )
        plan = _Plan.of(old, sources, carry=in_place and callable(pages)) if incremental else _Plan()
        plan.in_place = in_place
        if plan.only is not None:
            plan.restore(out)
    stage = staging.make(out, "new")
    made_stage = os.stat(stage).st_ino
    report = Report(out=out)
    indexer = None
    try:
        if indexing:
            previous = old.get("search", {}) if incremental else {}
            carry = plan.only is not None
            with lasting():
                indexer = searchindex.Indexer(stage, out, searchable, previous, not incremental, carry, in_place)
        made = pages(plan.only) if callable(pages) else pages
        seen: set[str] = set()
        # pages come in batches and each batch is let go once written: memory holds one batch's contexts
        for batch in _batches(_confined(made), BATCH_PAGES, works_first=plan.only is not None):
            seen.update(p.path for p in batch)
            rendered, derived = _render_pages(batch, env, stage, out, plan, report.pages, indexer)
            report.rendered += rendered
            report.derived += derived
            report.pages += len(batch)
            if indexer is not None:
                indexer.flush()
        plan.made(seen)
        report.pages = len(plan.new_prints)  # with the pages carried over without being made
        report.removed = sorted(set(plan.prints or {}) - set(plan.new_prints))
        _copy_assets(assets, figures or {}, stage, static=not in_place)  # the same static files: same assets
        if in_place:
            _restore_static(assets, out, stage)
        manifest = {"assets": digest, "pages": plan.new_prints, "deps": plan.new_deps}  # what the next build reuses
        manifest["figures"] = sorted(figures or {})
        if sources is not None:
            cards = plan.cards if plan.cards is not None else sources.cards({}, set())
            manifest |= {"inputs": sources.inputs, "works": sources.works, "cards": cards}
        if indexer is not None:
            manifest["search"], report.search_shards = indexer.finish(link=not in_place)
            report.search_indexed = True
        # one line: with `indent`, json encodes in Python, not C (0.6 s of an incremental build at 10,000 works)
        _write(stage / MANIFEST, json.dumps(manifest, sort_keys=True, separators=(",", ":")))
        if in_place:
            drop = report.removed + sorted(set(old.get("figures", [])) - set(manifest["figures"]))
            if indexer is not None:  # a shard indexed anew: its live files that its new bundle has not
                drop += sorted(path for k in report.search_shards for path in indexer.stale(k))
            _ours(stage, made_stage)
            _commit(stage, drop, out)
            try:
                _apply(stage, out)
            except OSError as e:  # the journal stays (below): say so, not that the previous site is kept
                raise JournalPending(
                    f"stopped while moving the new files into {out} ({e.strerror or e}); the next `kb site build`"
                    " finishes it"
                ) from e
        else:
            _keep_theirs(out, stage, old)
            _ours(stage, made_stage)
            _swap(stage, out)
    except searchindex.PagefindFailed as e:
        _remove_stage(stage, indexer)
        raise SiteBuildError(str(e)) from None
    except BaseException:
        # stopped while it applied its journal (a full disk, Ctrl-C): the journal stays, for the next build to finish
        _remove_stage(stage, indexer, keep=(stage / JOURNAL).is_file())
        raise
    _remove_stage(stage, indexer)  # after the exchange: the previous site; after the journal: what is left of it
    return report


# The journal of an incremental build, in its staging folder: written (by a rename) once every new file is there.
JOURNAL = ".kb-journal.json"


def _commit(stage: Path, drop: list[str], out: Path) -> None:
    """Write the journal: every file staged (to move into the site, the manifest last) and the site's files to
    remove. From here on the build is done: a kill leaves a journal that the next build applies."""
    outside = [rel for rel in drop if not _inside(rel)]
    if outside:  # from the live manifest or the search index's: a file the build did not make
        raise SiteBuildError(f"the build would remove {outside[0]!r}, outside {out}: nothing was changed")
    put = sorted(
        os.path.relpath(os.path.join(folder, name), stage)
        for folder, _, names in os.walk(stage)
        for name in names
        if name != MANIFEST or folder != str(stage)
    )
    # durable before the journal names them: after a power cut a journal must not move in empty files
    for rel in put:
        _fsync(os.path.join(stage, rel))
    journal = json.dumps({"put": [*put, MANIFEST], "drop": drop})
    _write(stage / (JOURNAL + ".tmp"), journal)
    _fsync(stage / (JOURNAL + ".tmp"))
    os.replace(stage / (JOURNAL + ".tmp"), stage / JOURNAL)
    _fsync(stage)  # the rename itself (and the staged files' names) on disk


def _why(e: OSError) -> str:
    return f"{e.strerror}: {e.filename}" if e.strerror and e.filename else str(e.strerror or e)


def _ours(stage: Path, made: int) -> None:
    """The staging folder is still the one this build made: removed and made again while it ran (by a process
    that ignored the lock), it holds only part of the site, which must not be moved in. (A folder made again at once
    in the removed one's inode is not noticed: the lock is what keeps builds apart; this is the last check.)"""
    if os.stat(stage).st_ino != made:
        raise SiteBuildError(f"{stage} was removed while this build wrote into it: nothing was changed; build again")


def _fsync(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _inside(rel: object) -> bool:
    """A path that stays inside the folder it is relative to: a string, not absolute, no NUL, no empty, "." or ".."
    part. Every path a build writes or removes in the site is held to it (pages, a manifest's, a journal's)."""
    return (
        isinstance(rel, str)
        and rel != ""
        and "\0" not in rel
        and not os.path.isabs(rel)
        and all(part not in ("", ".", "..") for part in rel.split("/"))
    )


# An empty, "." or ".." part of a path, in paths joined by NUL (which none may hold): what _inside refuses
_OUTSIDE = re.compile(r"(?:^|\0|/)\.{0,2}(?:/|\0|$)")


def _all_inside(rels: list) -> bool:
    """_inside for every path of a list (a manifest's pages: 45,000 at 10,000 works), in one scan of their text."""
    if os.name != "posix" or not all(isinstance(rel, str) for rel in rels):
        return all(map(_inside, rels))
    joined = "\0".join(rels)
    return not rels or (joined.count("\0") == len(rels) - 1 and not _OUTSIDE.search(joined))


def _read_journal(stage: Path, out: Path) -> dict[str, list[str]]:
    """A journal, checked before anything of it is done: BadJournal (naming it, and the way out) if it is not one a
    build wrote, or names a file outside the site (through a link in the site, too)."""
    path = stage / JOURNAL
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
        lists = [journal.get(key) for key in ("put", "drop")] if isinstance(journal, dict) else [None]
        why = "not a list of files to move in and remove" if not all(isinstance(k, list) for k in lists) else ""
    except (ValueError, UnicodeDecodeError) as e:
        why = f"not JSON: {e}"
    if not why:
        live = os.path.realpath(out)
        for rel in (*journal["put"], *journal["drop"]):
            where = _inside(rel) and os.path.realpath(os.path.dirname(os.path.join(live, rel)))
            if not where or not (where == live or where.startswith(live + os.sep)):
                why = f"it names {rel!r}, outside {out}"
                break
    if why:
        raise BadJournal(
            f"{path}: not a journal a kb site build wrote ({why}); nothing of it was done: remove {stage} and "
            "run `kb site build` again"
        )
    return journal


def _apply(stage: Path, out: Path) -> None:
    """Apply a committed journal: remove the files to drop, move each staged file into place. Each step may have
    been done already (by a build killed while it applied the journal): applying it again finishes the work."""
    journal = _read_journal(stage, out)
    live, staged = str(out), str(stage)
    folders: set[str] = set()
    for rel in journal["drop"]:
        try:
            os.unlink(os.path.join(live, rel))
        except FileNotFoundError:
            pass
        folders.add(os.path.dirname(rel))
    made: set[str] = set()
    for rel in journal["put"]:
        _folder_for(live, rel, made)
        try:
            os.replace(os.path.join(staged, rel), os.path.join(live, rel))
        except FileNotFoundError:  # moved already
            pass
    for folder in sorted(folders, key=len, reverse=True):  # a folder its last page left: as a full build has none
        while folder and folder not in made:
            try:
                os.rmdir(os.path.join(live, folder))
            except OSError:  # not empty
                break
            folder = os.path.dirname(folder)


@dataclass
class _Plan:
    """What a build knows of the live site (prints: each page's fingerprint, None for a full build), which pages it
    need not look at again (deps: each page's digest of its list of works, and the works changed since; None: every
    page is looked at), and what it records for the next build."""

    prints: dict[str, str] | None = None
    deps: dict[str, str | None] | None = None
    changed: set[str] = field(default_factory=set)
    new_prints: dict[str, str] = field(default_factory=dict)
    new_deps: dict[str, str | None] = field(default_factory=dict)
    # The works whose own pages are made (None: every work's). While no work's card changed (nor the works nor
    # anything every page shows), another work's page cannot change: those pages are carried over unmade, their
    # records never read.
    only: frozenset[str] | None = None
    in_place: bool = False  # the live site is updated where it is (a journal), not assembled anew beside it
    cards: dict[str, str] | None = None  # each work's brief's digest (Sources.cards), once known

    @classmethod
    def of(cls, old: dict, sources: Sources | None, carry: bool = False) -> _Plan:
        plan = cls(prints=old.get("pages", {}))
        if sources is not None and old.get("inputs") == sources.inputs and isinstance(old.get("deps"), dict):
            works = old.get("works", {})
            plan.deps = old["deps"]
            plan.changed = {i for i, d in sources.works.items() if works.get(i) != d} | (works.keys() - sources.works)
            old_cards = old.get("cards")
            plan.cards = sources.cards(old_cards if isinstance(old_cards, dict) else {}, plan.changed)
            if carry and plan.cards == old_cards:
                plan.carry(frozenset(plan.changed))
        return plan

    def carry(self, only: frozenset[str]) -> None:
        """Make only the pages of the works `only`: every page starts as the live one (the works are the same: every
        other work's own pages stay as they were), and `made` drops the others that are not made again."""
        assert self.prints is not None and self.deps is not None, "a plan that knows the live site"
        self.only = only
        self.new_prints, self.new_deps = dict(self.prints), dict(self.deps)

    def restore(self, out: Path) -> None:
        """A carried work's page gone from the live site (removed by hand): that work's pages are made again."""
        assert self.only is not None, "a plan that carries pages over"
        try:  # one listing of the folder, not a stat per page (40,000 at 10,000 works)
            with os.scandir(out / WORKS_FOLDER) as entries:
                there = {WORKS_FOLDER + e.name for e in entries if e.is_file()}
        except FileNotFoundError:
            there = set()
        gone = {
            path[len(WORKS_FOLDER) :].rsplit(".", 1)[0]
            for path in self.prints or {}
            if path.startswith(WORKS_FOLDER) and path not in there
        }
        if gone:
            self.only = self.only | gone

    def made(self, paths: set[str]) -> None:
        """After every page came (`paths`): forget the live pages carried over that are no longer made (a page of
        the whole catalogue's no one shows, an author's whose works went to another name)."""
        if self.only is None:
            return
        for path in [p for p in self.new_prints if p not in paths and not p.startswith(WORKS_FOLDER)]:
            del self.new_prints[path]
            self.new_deps.pop(path, None)

    def untouched(self, page: Page, works: str | None) -> bool:
        """The page shows the same works as in the live site, none of them changed, nor anything else it shows."""
        return (
            self.deps is not None
            and works is not None
            and self.deps.get(page.path) == works
            and page.path in (self.prints or {})
            and self.changed.isdisjoint(page.works or ())
        )


def _works_digest(works: tuple[str, ...] | None) -> str | None:
    return None if works is None else digest("\0".join(works).encode())


def check_out(out: Path, protected: Sequence[Path] = ()) -> None:
    """Refuse an out/ whose replacing would destroy what a build did not make: a file, a folder that is not a
    site (no manifest, which every build writes last), or a protected folder (data/, the templates and static
    files), a folder holding one or one inside one; and an out/ no build can write: under a file, a mount point."""
    where = out.resolve()
    for folder in protected:
        guarded = folder.resolve()
        if where == guarded or guarded.is_relative_to(where) or where.is_relative_to(guarded):
            raise OutRefused(f"{out} is {folder}, holds it or lies inside it: choose another output folder")
    if where.exists() and not where.is_dir():
        raise OutRefused(f"{out} is a file, not a site folder: choose another output folder")
    above = next((p for p in where.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise OutRefused(f"{out} lies under {above}, which is a file: choose another output folder")
    if where.is_dir() and os.path.ismount(where):
        # a build writes beside out/ and moves its files in: across file systems no move can be done in one step
        raise OutRefused(f"{out} is a mount point: choose a folder inside it as the output folder")
    if where.is_dir() and any(where.iterdir()) and not isinstance(_manifest_of(where), dict):
        raise OutRefused(
            f"{out} is a folder that kb site build did not make (no {MANIFEST}): it would be replaced, so "
            "choose an empty or new folder"
        )


def _manifest_of(out: Path):
    try:
        return json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _remove_stage(stage: Path, indexer: searchindex.Indexer | None, keep: bool = False) -> None:
    """The staging folder removed (the unfinished site after a failure, the previous one after the exchange), once
    no Pagefind process can still be writing into it; `keep`: left for the next build (a journal not applied)."""
    try:
        if indexer is not None:
            indexer.close()
    finally:  # a full disk can fail the close too: the staging folder must go all the same, to free the space
        if not keep:
            shutil.rmtree(stage, ignore_errors=True)


def recover(out: Path) -> None:
    """_recover, with the site's lock held (waiting for a build at work)."""
    with _locked(out):
        _recover(out)


def _locked(out: Path):
    """The site's lock (beside it, as its staging folders are), held by a build from before recover to its end."""
    from kb.store import lock

    def gave_up(holder: str) -> Exception:
        return SiteBuildError(f"{out} is still being built by {holder} after {BUILD_WAIT:g} s: try again later")

    waiting = f"{out} is being built by another kb site build ({{holder}}): waiting for it (up to {BUILD_WAIT:g} s)"
    # not named `.<out>.…`: those beside out/ are a build's staging folders, and a killed build's if it is not at work
    return lock.exclusive(out.parent / f".kb.{out.name}.lock", BUILD_WAIT, waiting, gave_up)


def _recover(out: Path) -> None:
    """Finish or undo what a killed build left beside out/: apply the journal of an incremental build killed after
    writing it (the new site), remove every other staging folder (out/ was not touched yet); if a full build was
    killed between the two renames of the fallback swap (no out/ at all), put the previous site back first."""
    leftovers = staging.listed(out)  # only the folders a build made: never one of the user's that looks alike
    if not out.exists():
        for folder in leftovers:
            if folder.name.startswith(f".{out.name}.old-") and (folder / "site").is_dir():
                os.replace(folder / "site", out)
                break
    for folder in leftovers:
        if out.is_dir() and (folder / JOURNAL).is_file():
            _apply(folder, out)
        shutil.rmtree(folder, ignore_errors=True)
    staging.tidy(out)


# Pages rendered per batch: large enough that forking workers for it pays, small enough that its contexts are a
# small part of memory (the catalogue's works are held once for the whole build).
BATCH_PAGES = 5000


# A page's path is made of ids and slugs from the catalogue, which may have been built without `kb validate`: each
# part must be a plain name (no "..", no separator, no leading dot) before it becomes a file.
_PAGE_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)*")


def _confined(pages: Iterable[Page]) -> Iterator[Page]:
    for page in pages:
        if not _PAGE_PATH.fullmatch(page.path) or not _inside(page.path):
            raise SiteBuildError(
                f"a page would be written at {page.path!r}, outside the site: an id or slug in the "
                "catalogue is not a plain name (kb validate names it)"
            )
        yield page


def _batches(pages: Iterable[Page], size: int, works_first: bool = False) -> Iterator[list[Page]]:
    """The pages in batches of `size`; `works_first` (the works' own pages come first, context._pages_of): they are a
    batch of their own, so that their search records reach the index before the other pages are looked at."""
    batch: list[Page] = []
    for page in pages:
        if works_first and not page.path.startswith(WORKS_FOLDER):
            works_first = False
            if batch:
                yield batch
                batch = []
        batch.append(page)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# Records handed to Pagefind as each chunk of pages is rendered (a full build), not only after each batch.
IN_STEP = True
# Below this many pages a second process costs more than it saves.
PARALLEL_MIN_PAGES = 400
_JOB: tuple | None = None  # what forked workers render: set just before the fork, inherited, never pickled


def _render_pages(
    pages: list[Page],
    env: Environment,
    stage: Path,
    out: Path,
    plan: _Plan,
    offset: int = 0,
    indexer: searchindex.Indexer | None = None,
) -> tuple[list[str], list[str]]:
    """Render the pages that changed (all in a full build: plan.prints None) into stage/; an unchanged page is the
    live one, hard-linked into the new site. The indexer (if any) gets every searchable page: rendered, or kept;
    `offset` is the batch's first page's position in the site. Records each page's fingerprint and list of works in
    the plan; returns the rendered paths and the paths looked at again, in order.

    An incremental build decides here which pages changed, and forks workers only when many did; a full build
    shares everything out at once (fingerprinting included)."""
    for page in pages:
        plan.new_deps[page.path] = _works_digest(page.works)
    if plan.prints is None:
        prints, rendered = _render_parallel(pages, env, stage, range(len(pages)), offset=offset, indexer=indexer)
        plan.new_prints.update((p.path, prints[p.path]) for p in pages)
        return [p.path for p in pages if p.path in rendered], []
    changed, derived, made = [], [], {}
    live, new = str(out), str(stage)  # plain strings: a Path per page and per link cost more than the link itself
    folders: set[str] = set()  # folders known to exist in stage/
    for i, page in enumerate(pages):
        looked = not plan.untouched(page, plan.new_deps[page.path])
        if not looked:
            print_ = plan.prints[page.path]
        else:
            derived.append(page.path)
            context = page.context if page.key is None else None
            print_ = digest(fingerprint(page, context))
            if context is not None:
                made[i] = context
        plan.new_prints[page.path] = print_
        if plan.prints.get(page.path) != print_:
            changed.append(i)
        elif plan.in_place:  # the live file stays where it is: if it is still there (not removed by hand)
            if not os.path.isfile(os.path.join(live, page.path)) or not _known(page, offset + i, indexer):
                changed.append(i)
        elif not _linked(page.path, live, new, folders):
            changed.append(i)
        elif not _known(page, offset + i, indexer):
            os.unlink(os.path.join(new, page.path))  # its record is not known: rendered again to make it
            changed.append(i)
    changed.sort()
    _render_parallel(pages, env, stage, changed, plan.new_prints, offset, indexer, made)
    return [pages[i].path for i in changed], derived


def _known(page: Page, position: int, indexer: searchindex.Indexer | None) -> bool:
    """A page carried over: False if it is searchable and its search record is not known (it is rendered again)."""
    return not page.search or indexer is None or indexer.keep(page.path, position)


def _folder_for(root: str, rel: str, made: set[str]) -> None:
    """Make the folder under root that the file rel goes in, once per folder (`made`: those known to exist)."""
    folder = os.path.dirname(rel)
    if folder not in made:
        os.makedirs(os.path.join(root, folder), exist_ok=True)
        made.add(folder)


def _linked(path: str, live: str, new: str, folders: set[str]) -> bool:
    """The live page hard-linked into the new site; False if it is gone from the live site (removed by hand)."""
    _folder_for(new, path, folders)
    try:
        os.link(os.path.join(live, path), os.path.join(new, path))
    except FileNotFoundError:
        return False
    return True


# Pages a forked worker renders before it hands back their fingerprints and search documents: small enough that
# the workers share the pages evenly as they become free, large enough that handing back costs little.
CHUNK_PAGES = 64
# Chunks a forked worker renders before a fresh one takes its place. Reading an inherited object writes its
# reference count, which copies the memory page holding it into the worker: over a batch a long-lived worker ends up
# with its own copy of most of the catalogue's index (at 100,000 works, most of the build's memory, per worker). A
# fresh fork starts again from the shared pages; forking costs milliseconds.
WORKER_CHUNKS = 16


def _render_parallel(
    pages: list[Page],
    env: Environment,
    stage: Path,
    indices: Sequence[int],
    known: dict[str, str] | None = None,
    offset: int = 0,
    indexer: searchindex.Indexer | None = None,
    made: dict[int, dict] | None = None,
) -> tuple[dict[str, str], set[str]]:
    """Render pages[i] for i in indices, in forked workers when there are enough of them and cores to share;
    fingerprint them too, unless `known` has their fingerprints already; use the contexts already `made`; hand
    the searchable ones' records to the indexer in page order as each chunk of pages is done.

    Workers inherit the contexts instead of receiving them pickled, and take chunks as they become free."""
    global _JOB
    workers = min(os.cpu_count() or 1, 4)
    # forking from a thread other than the main one (`kb site serve --watch` rebuilds in one) can deadlock
    in_main_thread = threading.current_thread() is threading.main_thread()
    forkable = "fork" in multiprocessing.get_all_start_methods() and in_main_thread
    prints: dict[str, str] = {}
    rendered: set[str] = set()
    job = (pages, env, stage, known, indexer is not None, offset, made or {})
    if workers < 2 or len(indices) < PARALLEL_MIN_PAGES or not forkable:
        _take(_render_share(job, indices), prints, rendered, indexer)
        return prints, rendered
    _JOB = job
    prepare()
    # What the workers inherit (the catalogue's index, this batch's pages) is kept out of the collector's reach: a
    # collection in a worker walks every object it inherited, which copies each memory page holding one (copy on
    # write: at 100,000 works, most of the build's memory, per worker).
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(workers, maxtasksperchild=WORKER_CHUNKS) as pool:
            shares = [indices[i : i + CHUNK_PAGES] for i in range(0, len(indices), CHUNK_PAGES)]
            # in order (imap, not imap_unordered): a shard's records reach Pagefind in the site's page order
            for chunk in pool.imap(_render_worker, shares):
                _take(chunk, prints, rendered, indexer)
                if indexer is not None and IN_STEP:
                    indexer.flush()
    finally:
        gc.unfreeze()
        _JOB = None
    return prints, rendered


def _take(chunk: tuple, prints: dict[str, str], rendered: set[str], indexer: searchindex.Indexer | None) -> None:
    chunk_prints, chunk_rendered, records = chunk
    prints.update(chunk_prints)
    rendered.update(chunk_rendered)
    for position, path, record in records:
        assert indexer is not None, "a share that makes records has an indexer"
        indexer.add(path, record, position)


def _render_worker(indices: Sequence[int]) -> tuple[dict[str, str], set[str], list[tuple[int, str, dict]]]:
    assert _JOB is not None, "set before the workers fork"
    return _render_share(_JOB, indices)


def _render_share(job: tuple, indices: Sequence[int]) -> tuple[dict[str, str], set[str], list[tuple[int, str, dict]]]:
    """Render pages[i] for i in indices; job: (pages, env, stage, known prints or None, whether to make search
    records, the batch's position in the site, contexts already made by index)."""
    pages, env, stage, known, search, offset, made = job
    prints: dict[str, str] = {}
    rendered: set[str] = set()
    records: list[tuple[int, str, dict]] = []
    templates: dict[str, Template] = {}  # name -> compiled template, looked up once per build rather than per page
    for i in indices:
        page = pages[i]
        context = made.get(i) or page.context  # made once: fingerprint, page and record share it
        prints[page.path] = known[page.path] if known else digest(fingerprint(page, context))
        template = templates.get(page.template) or templates.setdefault(page.template, env.get_template(page.template))
        html = template.render(**context, root=page.root)
        _write(stage / page.path, html)
        rendered.add(page.path)
        if search and page.search:
            records.append((offset + i, page.path, search_record(page.template, context)))
    return prints, rendered, records


def _copy_assets(assets: Path, figures: dict[str, Path], into: Path, static: bool = True) -> None:
    if static:
        shutil.copytree(assets / "static", into / "static")
    for rel, source in figures.items():
        (into / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, into / rel)


def read_manifest(out: Path) -> dict:
    """The live site's manifest; {} (a full build) if it cannot be read, or names a page or figure outside the site:
    a build removes the files its manifest names that it no longer makes."""
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(manifest, dict):
        return {}
    # the parts a build reads as tables: of another shape (a hand edit), the whole manifest is not trusted
    if not all(isinstance(manifest.get(part, {}), dict) for part in ("pages", "works", "deps", "cards", "search")):
        return {}
    pages, figures = manifest.get("pages", {}), manifest.get("figures", [])
    if not isinstance(pages, dict) or not isinstance(figures, list) or not _all_inside([*pages, *figures]):
        return {}
    return manifest


def _restore_static(assets: Path, out: Path, stage: Path) -> None:
    """An incremental build keeps the live static files: one gone from the site (removed by hand) is staged again."""
    for source in (assets / "static").rglob("*"):
        rel = source.relative_to(assets)
        if source.is_file() and not (out / rel).is_file():
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, stage / rel)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# What a build makes as a whole folder: whatever of the live site lies in these is the build's, never the user's
_BUILDS_FOLDERS = ("static", searchindex.SEARCH_DIR, searchindex.RECORDS_DIR)


def _keep_theirs(out: Path, stage: Path, old: dict) -> None:
    """Before a full build's new site takes the live one's place: every file of the live site that no build made
    (a CNAME, a .git folder, a page added by hand) is linked into the new site, unless the new site has a file of
    that name. What a build made is what the live manifest names (pages, figures, the manifest itself) and the
    folders only a build writes; a manifest that could not be read names nothing, so the old pages stay too."""
    if not out.is_dir() or out.is_symlink():
        return
    made = {MANIFEST, *old.get("pages", {}), *old.get("figures", [])}
    for folder, dirs, files in os.walk(out):
        rel_folder = os.path.relpath(folder, out)
        if rel_folder == ".":
            dirs[:] = [d for d in dirs if d not in _BUILDS_FOLDERS]
        for name in [*files, *dirs]:
            rel = name if rel_folder == "." else f"{rel_folder}/{name}"
            target, source = stage / rel, os.path.join(folder, name)
            if rel in made or os.path.lexists(target):
                continue
            if name in dirs and not os.path.islink(source):
                if not os.listdir(source):  # an empty folder; one with files is made for them
                    target.mkdir(parents=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if os.path.islink(source):
                os.symlink(os.readlink(source), target)
            else:
                try:
                    os.link(source, target)  # the same file system (the stage is beside out/): no copy
                except OSError:
                    shutil.copy2(source, target)


def _swap(new: Path, out: Path) -> None:
    """Put the folder `new` where `out` is, in one step: afterwards `new` holds the old site.

    On Linux, renameat2(RENAME_EXCHANGE) swaps the two directories atomically. Elsewhere (or on a file
    system without it) two renames: a kill between them leaves no out/ but the old site in a `.old-`
    folder, which the next build puts back (recover) before anything else."""
    if not out.exists():
        os.replace(new, out)
        return
    if _exchange(new, out):
        return
    old = staging.make(out, "old")
    os.replace(out, old / "site")
    os.replace(new, out)
    os.replace(old / "site", new)
    old.rmdir()


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths with renameat2(2); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:  # glibc older than 2.28
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL):  # kernel or file system without RENAME_EXCHANGE
        return False
    raise OSError(code, os.strerror(code), str(b))
