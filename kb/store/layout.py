"""Where things live in data/. Kept free of heavy imports: every command needs it at start-up."""

from __future__ import annotations

from pathlib import Path


def works_file(kind: str) -> str:
    return f"works/{kind}s.jsonl"


def summary_file(work_id: str) -> str:
    from kb.names import SLUG_RE

    if not SLUG_RE.fullmatch(work_id):  # a work id becomes a file name: "../x" would leave data/
        raise ValueError(f"{work_id!r} is not a work id (lower-case words and hyphens)")
    return f"summaries/{work_id}.md"


def find_data_dir(start: Path | None = None) -> Path:
    """The data/ folder of the checkout we are in (like git finds .git), else ./data."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "data" / "taxonomy.toml").is_file():
            return folder / "data"
    return here / "data"


def source_files(root: Path) -> list[Path]:
    files = [root / "taxonomy.toml", root / "authors.jsonl"]
    files += sorted((root / "works").glob("*.jsonl")) + sorted((root / "summaries").glob("*.md"))
    return [f for f in files if f.is_file()]
