"""Contributed summaries: scaffolding a new one for a work."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from kb.store import frontmatter
from kb.store.datadir import Dataset
from kb.store.layout import summary_file

PLACEHOLDER = "TODO"

_BODY = f"""\
<!-- {{title}} -->

## What it does

{PLACEHOLDER}: the method or argument, in two or three sentences of your own.

## What it shows

{PLACEHOLDER}: the main results, with numbers where the work gives them.
"""


class SummaryExists(FileExistsError):
    pass


def _contributor() -> str:
    try:
        name = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = ""
    return name or f"{PLACEHOLDER}: your name"


def scaffold(ds: Dataset, work_id: str, today: dt.date | None = None) -> Path:
    """Write data/summaries/<work-id>.md with the work's known facts and placeholders to fill."""
    work = next((w for w in ds.works if w.id == work_id), None)
    if work is None:
        raise LookupError(f"no work {work_id!r} in data/works/")
    path = ds.root / summary_file(work_id)
    if path.exists():
        raise SummaryExists(f"{path} exists already: edit it")
    meta = {
        "work": work_id,
        "status": "draft",
        "contributors": [_contributor()],
        "updated": today or dt.date.today(),
        "motivations": [t.slug for t in work.motivations],
        "xrisk": f"{PLACEHOLDER}: why this work matters for catastrophic risk. Whether the authors state it is the\n"
        "work's: each motivation in data/works carries its status and evidence (CONTRIBUTING.md).\n",
        "opinion": None,
    }
    title = f"{work.title} ({work.year or 'n.d.'})".replace("--", "–")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(frontmatter.render(meta, _BODY.format(title=title)), encoding="utf-8")
    return path
