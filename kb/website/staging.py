"""The folders a site build makes beside its site: the new site being written (`new`), the old one during a swap
without renameat2 (`old`), the search index's spooled records (`index`).

Each is named in a list beside the site (`.kb.<site>.staging`) as soon as it is made, before anything is written
into it, and a later build (render._recover) moves or removes only a folder that list names: a folder of the
user's that merely looks like one (`.site.old-backup`) is never touched. A build killed between making a folder and
listing it leaves an empty folder, which is all it can leave unlisted.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

KINDS = ("new", "old", "index")

# The process's umask, read once while nothing else runs (setting it to read it is not safe beside threads): a new
# site gets the permissions any folder made here would, not mkdtemp's 0700, which a web server of another user
# cannot read.
_UMASK = os.umask(0)
os.umask(_UMASK)


def _list_of(out: Path) -> Path:
    return out.parent / f".kb.{out.name}.staging"


def listed(out: Path) -> list[Path]:
    """The staging folders of out/ that builds made and that are still there, oldest name first."""
    try:
        names = json.loads(_list_of(out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(names, list):
        return []
    prefixes = tuple(f".{out.name}.{kind}-" for kind in KINDS)
    # a name, not a path: whatever the list says, only a folder beside out/ with a staging folder's name
    return [
        out.parent / n
        for n in sorted(set(names))
        if isinstance(n, str) and n.startswith(prefixes) and "/" not in n and (out.parent / n).is_dir()
    ]


def make(out: Path, kind: str) -> Path:
    """A new staging folder of this kind beside out/, listed before it is returned."""
    assert kind in KINDS, kind
    folder = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.{kind}-"))
    if kind == "new":  # it becomes the site
        os.chmod(folder, 0o777 & ~_UMASK)
    _write(out, [p.name for p in listed(out)] + [folder.name])
    return folder


def tidy(out: Path) -> None:
    """The list made to name only the folders still there (a build's end, render._recover), and gone with the last:
    a build that ended well leaves nothing beside the site but its lock."""
    path = _list_of(out)
    if not path.exists():
        return
    left = [p.name for p in listed(out)]
    if left:
        _write(out, left)
    else:
        path.unlink(missing_ok=True)


def _write(out: Path, names: list[str]) -> None:
    path = _list_of(out)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(names, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
