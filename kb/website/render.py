"""Phase two of a site build: contexts -> files, into a temporary folder that is swapped in at the end.

Incremental: each page's context is fingerprinted; a page whose fingerprint (and the templates) did
not change since the last build is carried over from it (a hard link, not a re-render). The previous
site stays untouched until the new one is complete, so a failed build leaves it intact.
"""

from __future__ import annotations

import hashlib
import json
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
    env = Environment(loader=FileSystemLoader(templates), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["safe_url"] = safe_url
    return env


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _assets_digest(assets: Path) -> str:
    h = hashlib.sha256(__version__.encode())
    for path in sorted(p for p in assets.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(assets)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


def write_site(pages: list[Page], out: Path, assets: Path, figures: dict[str, Path] | None = None,
               search: bool = True) -> Report:
    """Render pages into out/ (with assets/static and the result figures), reusing unchanged pages."""
    env = environment(assets / "templates")
    templates_digest = _assets_digest(assets)
    old = _read_manifest(out)
    reuse = old.get("assets") == templates_digest
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.new-"))
    report = Report(out=out, pages=len(pages))
    try:
        if reuse:
            _link_tree(out, tmp, skip={SEARCH_DIR, "static", "results", MANIFEST})
        prints = {}
        for page in pages:
            prints[page.path] = _digest(fingerprint(page))
            target = tmp / page.path
            if reuse and old["pages"].get(page.path) == prints[page.path] and target.exists():
                continue
            html = env.get_template(page.template).render(**page.context, root=page.root)
            _write(target, html)
            report.rendered.append(page.path)
        for path in sorted(set(old.get("pages", {})) - set(prints)):
            (tmp / path).unlink(missing_ok=True)
            report.removed.append(path)
        shutil.copytree(assets / "static", tmp / "static")
        for rel, source in (figures or {}).items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, tmp / rel)
        report.search_indexed = _search_index(tmp, out, changed=bool(report.rendered or report.removed) or not reuse) if search else False
        _write(tmp / MANIFEST, json.dumps({"assets": templates_digest, "pages": prints}, indent=0, sort_keys=True))
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def _read_manifest(out: Path) -> dict:
    try:
        return json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # a new file, never a write through a hard link into the previous site
    path.unlink(missing_ok=True)
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


def _search_index(tmp: Path, out: Path, changed: bool) -> bool | None:
    """Index the new site with Pagefind; carry the old index over when no page changed."""
    previous = out / SEARCH_DIR
    if not changed and previous.is_dir():
        _link_tree(previous, tmp / SEARCH_DIR, skip=set())
        return True
    try:
        import pagefind  # noqa: F401
    except ImportError:
        return None
    done = subprocess.run([sys.executable, "-m", "pagefind", "--site", str(tmp)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SiteBuildError(f"Pagefind failed to index the site:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return True


def _swap(new: Path, out: Path) -> None:
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
        os.replace(out, old / "site")
        os.replace(new, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, out)
