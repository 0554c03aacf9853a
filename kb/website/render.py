"""Phase two of a site build: contexts -> files, into a temporary folder that is swapped in at the end.

Incremental: each page's context is fingerprinted; a page whose fingerprint (and the templates) did
not change since the last build is carried over from it (a hard link, not a re-render). The previous
site stays untouched until the new one is complete, so a failed build leaves it intact.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from kb import __version__
from kb.website.context import Page, fingerprint
from kb.website.markup import safe_url

MANIFEST = ".kb-site.json"
SEARCH_DIR = "pagefind"


class SiteBuildError(RuntimeError):
    pass


@dataclass
class Report:
    out: Path
    pages: int = 0
    rendered: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    search_indexed: bool | None = None  # None: Pagefind is not installed

    @property
    def reused(self) -> int:
        return self.pages - len(self.rendered)


def environment(templates: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates),
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
    _cache_cards(env)
    return env


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

    module.work_card = work_card


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _assets_digest(assets: Path) -> str:
    h = hashlib.sha256(__version__.encode())
    for path in sorted(p for p in assets.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(assets)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


def write_site(
    pages: list[Page], out: Path, assets: Path, figures: dict[str, Path] | None = None, search: bool = True
) -> Report:
    """Render pages into out/ (with assets/static and the result figures), reusing unchanged pages.

    A first build, or one after the templates changed, renders everything into a new folder and swaps
    it for out/. Otherwise only the changed pages are rendered, into a staging folder, and renamed into
    out/ once all of them rendered: either way a failure leaves the previous site as it was.
    """
    env = environment(assets / "templates")
    digest = _assets_digest(assets)
    old = _read_manifest(out)
    incremental = old.get("assets") == digest and out.is_dir()
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.new-"))
    report = Report(out=out, pages=len(pages))
    try:
        prints, report.rendered = _render_pages(pages, env, stage, out, old.get("pages", {}) if incremental else None)
        report.removed = sorted(set(old.get("pages", {})) - set(prints)) if incremental else []
        changed = bool(report.rendered or report.removed) or not incremental
        _copy_assets(assets, figures or {}, stage if not incremental else stage / ".assets")
        if search and changed:
            report.search_indexed = _search_index(stage, out if incremental else None, report.removed)
        elif search:
            report.search_indexed = (out / SEARCH_DIR).is_dir() or None
        _write(stage / MANIFEST, json.dumps({"assets": digest, "pages": prints}, indent=0, sort_keys=True))
        if incremental:
            _move_in(stage, out, report.removed)
        else:
            _swap(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    shutil.rmtree(stage, ignore_errors=True)
    return report


# Below this many pages a second process costs more than it saves.
PARALLEL_MIN_PAGES = 400
_JOB: tuple | None = None  # what forked workers render: set just before the fork, inherited, never pickled


def _render_pages(
    pages: list[Page], env: Environment, stage: Path, out: Path, old: dict[str, str] | None
) -> tuple[dict[str, str], list[str]]:
    """Fingerprint every page and render those that changed (all when old is None) into stage/.

    On a machine with several cores and a large site the pages are shared out (interleaved, so each
    worker gets a mix of page kinds) to forked worker processes: they inherit the contexts instead of
    receiving them pickled. Returns the fingerprints and the rendered paths, in the order of pages.
    """
    global _JOB
    workers = min(os.cpu_count() or 1, 4)
    if workers < 2 or len(pages) < PARALLEL_MIN_PAGES or "fork" not in multiprocessing.get_all_start_methods():
        return _render_share(pages, env, stage, out, old, range(len(pages)))
    _JOB = (pages, env, stage, out, old)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            shares = pool.map(_render_worker, [range(i, len(pages), workers) for i in range(workers)])
    finally:
        _JOB = None
    prints = {}
    rendered = set()
    for share_prints, share_rendered in shares:
        prints.update(share_prints)
        rendered.update(share_rendered)
    return {p.path: prints[p.path] for p in pages}, [p.path for p in pages if p.path in rendered]


def _render_worker(indices: range) -> tuple[dict[str, str], list[str]]:
    pages, env, stage, out, old = _JOB
    return _render_share(pages, env, stage, out, old, indices)


def _render_share(
    pages: list[Page], env: Environment, stage: Path, out: Path, old: dict[str, str] | None, indices: range
) -> tuple[dict[str, str], list[str]]:
    prints, rendered = {}, []
    templates = {}  # name -> compiled template, looked up once per build rather than once per page
    for i in indices:
        page = pages[i]
        prints[page.path] = _digest(fingerprint(page))
        if old is not None and old.get(page.path) == prints[page.path] and (out / page.path).exists():
            continue
        template = templates.get(page.template) or templates.setdefault(page.template, env.get_template(page.template))
        _write(stage / page.path, template.render(**page.context, root=page.root))
        rendered.append(page.path)
    return prints, rendered


def _copy_assets(assets: Path, figures: dict[str, Path], into: Path) -> None:
    shutil.copytree(assets / "static", into / "static")
    for rel, source in figures.items():
        (into / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, into / rel)


def _move_in(stage: Path, out: Path, removed: list[str]) -> None:
    """Rename each staged file over its old version: every step is one atomic rename."""
    for folder in (SEARCH_DIR, ".assets/static", ".assets/results"):
        staged = stage / folder
        if staged.is_dir():
            _swap(staged, out / Path(folder).name)
    for path in sorted(p for p in stage.rglob("*") if p.is_file() and p.name != MANIFEST and ".assets" not in p.parts):
        rel = path.relative_to(stage)
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, out / rel)
    for rel in removed:
        (out / rel).unlink(missing_ok=True)
    os.replace(stage / MANIFEST, out / MANIFEST)  # last: the manifest describes what is now there


def _read_manifest(out: Path) -> dict:
    try:
        return json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _link_tree(src: Path, dst: Path, skip: set[str]) -> None:
    for dirpath, dirnames, filenames in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        if rel == Path("."):
            dirnames[:] = [d for d in dirnames if d not in skip]
            filenames = [f for f in filenames if f not in skip]
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for name in filenames:
            os.link(Path(dirpath) / name, dst / rel / name)


def _search_index(stage: Path, live: Path | None, removed: list[str]) -> bool | None:
    """Index the site with Pagefind into stage/pagefind. Pagefind has no incremental mode: an
    incremental build indexes the live site with the staged pages laid over it, in a scratch copy."""
    try:
        import pagefind  # noqa: F401
    except ImportError:
        return None
    site = stage
    if live is not None:
        site = Path(tempfile.mkdtemp(dir=stage.parent, prefix=f".{live.name}.index-"))
        _link_tree(live, site, skip={SEARCH_DIR, MANIFEST, "static", "results"})
        for path in (p for p in stage.rglob("*.html") if ".assets" not in p.parts):
            target = site / path.relative_to(stage)
            target.unlink(missing_ok=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
        for rel in removed:
            (site / rel).unlink(missing_ok=True)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pagefind", "--site", str(site), "--output-path", str(stage / SEARCH_DIR)],
            capture_output=True,
            text=True,
        )
    finally:
        if site is not stage:
            shutil.rmtree(site, ignore_errors=True)
    if done.returncode != 0:
        raise SiteBuildError(f"Pagefind failed to index the site:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return True


def _swap(new: Path, out: Path) -> None:
    """Put the folder `new` where `out` is; the old one goes only once the new one is in place."""
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
        os.replace(out, old / "site")
        os.replace(new, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, out)
