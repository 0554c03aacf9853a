"""The site's search index: Pagefind, run in shards so that a rebuild re-indexes only what changed.

Pagefind has no incremental mode and indexes a whole site on one or two cores. The searchable pages (those a
context marks `search=True`: works and techniques) are dealt into shards by a hash of their path; each shard
is an ordinary Pagefind bundle, indexed by its own Pagefind process, several at once. The search page loads the
first shard (`pagefind/`) and merges the others (`pagefind/shard-K/`, listed in `pagefind/shards.json`) with
Pagefind's own `mergeIndex`, which merges results by score and filters by value. A rebuild keeps every shard
whose pages did not change (hard links to the live bundle) and re-indexes the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SEARCH_DIR = "pagefind"
SHARDS_FILE = "shards.json"
# Pages a shard holds before the index is split again: below it a shard's Pagefind run is mostly its start-up.
SHARD_PAGES = 400
# Every shard is a bundle a search loads: more than this makes each search wait on too many requests.
MAX_SHARDS = 8


class PagefindFailed(RuntimeError):
    """Pagefind failed on a shard (the message holds its output)."""


def shard_count(pages: int, per_shard: int | None = None) -> int:
    per_shard = per_shard or SHARD_PAGES
    return max(1, min(MAX_SHARDS, -(-pages // per_shard)))


def shard_of(path: str, shards: int) -> int:
    # a hash of the path, not its position: adding a work moves no other page to another shard
    return int.from_bytes(hashlib.blake2b(path.encode(), digest_size=4).digest(), "big") % shards


def bundle(k: int) -> str:
    """Shard k's folder in the site: the first is Pagefind's usual place, so a one-shard site looks as always."""
    return SEARCH_DIR if k == 0 else f"{SEARCH_DIR}/shard-{k}"


def available() -> bool:
    try:
        import pagefind  # noqa: F401
    except ImportError:
        return False
    return True


def index(stage: Path, out: Path, prints: dict[str, str], searchable: list[str], old: dict) -> tuple[dict, list[int]]:
    """Index stage/'s searchable pages into stage/pagefind, reusing out/'s shards whose pages are unchanged.

    prints: each page's fingerprint; old: what the previous build recorded (`index`'s first return value).
    Returns (what to record for the next build, the shards indexed now); ({}, []) when no page is searchable."""
    if not searchable:  # Pagefind refuses to build an empty index: no page to find, no index
        return {}, []
    shards = shard_count(len(searchable))
    while True:  # a shard left empty by the hash (only ever with a handful of pages) is one shard too many
        members: list[list[str]] = [[] for _ in range(shards)]
        for path in sorted(searchable):
            members[shard_of(path, shards)].append(path)
        if all(members) or shards == 1:
            break
        shards -= 1
    digests = [_digest(shards, paths, prints) for paths in members]
    reusable = old.get("digests") if old.get("shards") == shards else None
    todo = [k for k in range(shards) if not reusable or reusable[k] != digests[k] or not (out / bundle(k)).is_dir()]
    scratch = Path(tempfile.mkdtemp(dir=stage.parent, prefix=f".{out.name}.index-"))
    try:
        _run_all(stage, scratch, {k: members[k] for k in todo})
        for k in range(shards):
            source = scratch / f"out-{k}" if k in todo else out / bundle(k)
            _link_bundle(source, stage / bundle(k))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    others = [f"shard-{k}/" for k in range(1, shards)]
    (stage / SEARCH_DIR / SHARDS_FILE).write_text(json.dumps(others) + "\n", encoding="utf-8")
    return {"shards": shards, "digests": digests}, todo


def _digest(shards: int, paths: list[str], prints: dict[str, str]) -> str:
    h = hashlib.sha256(str(shards).encode())
    for path in paths:
        h.update(f"{path}\0{prints[path]}\0".encode())
    return h.hexdigest()[:20]


def _run_all(stage: Path, scratch: Path, todo: dict[int, list[str]]) -> None:
    """One Pagefind process per shard, as many at once as there are cores (at most 4)."""
    running: list[tuple[int, subprocess.Popen]] = []
    waiting = sorted(todo)
    at_once = max(1, min(os.cpu_count() or 1, 4))
    try:
        while waiting or running:
            while waiting and len(running) < at_once:
                k = waiting.pop(0)
                site = scratch / f"site-{k}"
                for path in todo[k]:  # the shard's pages as a site of their own: links to the staged files
                    (site / path).parent.mkdir(parents=True, exist_ok=True)
                    os.link(stage / path, site / path)
                site.mkdir(exist_ok=True)
                command = [sys.executable, "-m", "pagefind", "--site", str(site)]
                command += ["--output-path", str(scratch / f"out-{k}")]
                process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                running.append((k, process))
            k, process = running.pop(0)
            output, _ = process.communicate()
            if process.returncode != 0:
                raise PagefindFailed(f"Pagefind failed to index the site (shard {k}):\n{output[-4000:]}")
    finally:
        for _, process in running:
            process.kill()
            process.wait()


def _link_bundle(source: Path, target: Path) -> None:
    """A shard's bundle hard-linked into place; the first shard's folder holds the others: not part of it."""
    for dirpath, dirnames, filenames in os.walk(source):
        rel = Path(dirpath).relative_to(source)
        if rel == Path(".") and source.name == SEARCH_DIR:
            dirnames[:] = [d for d in dirnames if not d.startswith("shard-")]
            filenames = [f for f in filenames if f != SHARDS_FILE]
        (target / rel).mkdir(parents=True, exist_ok=True)
        for name in filenames:
            os.link(Path(dirpath) / name, target / rel / name)
