"""A small hand-made data/ folder whose right answers are known, and a way to run `kb` on it."""

from __future__ import annotations

import importlib.util
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli.commands import cli as app


def needs(*modules: str):
    """Skip when an optional module is missing, without importing it while tests are collected: torch alone takes
    seconds, and `pytest -m "not slow"` should not pay for it."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)} (the methods extra)")


REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

TAXONOMY = """
[[technique]]
slug = "representation-engineering"
name = "Representation engineering"
description = "Top-down."

[[technique]]
slug = "representation-reading"
name = "Representation reading"
parent = "representation-engineering"
description = "Reading."

[[technique]]
slug = "probing"
name = "Linear probing"
parent = "representation-reading"
description = "Probes."

[[technique]]
slug = "lat"
name = "LAT"
parent = "representation-reading"
description = "LAT."

[[technique]]
slug = "pruning"
name = "Pruning"
description = "Pruning."

[[motivation]]
slug = "monitoring"
name = "Monitoring"
description = "Catching."
"""

WORKS = {
    "papers": [
        {
            "id": "coup-probes-2023",
            "kind": "paper",
            "title": "Coup probes catch catastrophes",
            "authors": ["Fabien Roger"],
            "year": 2023,
            "abstract": "Probes trained off-policy detect takeover attempts.",
            "abstract_source": "arXiv v1",
            "ids": {"arxiv": "2311.00001"},
            "techniques": ["probing"],
            "motivations": [
                {
                    "slug": "monitoring",
                    "status": "stated",
                    "quote": "Probes trained off-policy detect takeover attempts.",
                    "where": "abstract",
                }
            ],
        },
        {
            "id": "lat-paper-2023",
            "kind": "paper",
            "title": "Reading vectors with tomography",
            "authors": ["Andy Zou", "J. Zico Kolter"],
            "year": 2023,
            "abstract": "We study generalization of probe directions found by PCA.",
            "abstract_source": "arXiv v2",
            "techniques": ["lat"],
            "relations": [{"type": "discusses", "target": "coup-probes-2023"}],
        },
        {
            "id": "old-pruning-2016",
            "kind": "paper",
            "title": "Trimming neurons with zeros",
            "authors": ["Hengyuan Hu"],
            "year": 2016,
            "venue": "arXiv",
            "techniques": ["pruning"],
        },
    ],
    "posts": [
        {
            "id": "probe-post-2024",
            "kind": "post",
            "title": "Probes generalise well",
            "authors": ["Zico Kolter"],
            "year": 2024,
            "venue": "LessWrong",
            "techniques": ["probing"],
        },
    ],
}

SUMMARY = """---
work: coup-probes-2023
status: reviewed
contributors: [A. Reviewer]
motivations: [monitoring]
motivation_stated_by: authors
xrisk: Catching the first coup attempt.
---

The probe is a *linear* classifier on activations.
"""


def write_data(root: Path) -> Path:
    data = root / "data"
    (data / "works").mkdir(parents=True)
    (data / "summaries").mkdir()
    (data / "taxonomy.toml").write_text(TAXONOMY)
    for name, works in WORKS.items():
        lines = sorted(json.dumps(w) for w in works)
        (data / "works" / f"{name}.jsonl").write_text("".join(line + "\n" for line in lines))
    (data / "authors.jsonl").write_text(
        json.dumps({"id": "j-zico-kolter", "name": "J. Zico Kolter", "aliases": ["Zico Kolter"]}) + "\n"
    )
    (data / "summaries" / "coup-probes-2023.md").write_text(SUMMARY)
    return data


@pytest.fixture
def data(tmp_path) -> Path:
    return write_data(tmp_path)


@pytest.fixture
def kb(data, monkeypatch):
    """Run `kb ARGS...` on the fixture's data/ in-process; returns the click Result."""
    monkeypatch.delenv("KB_DB", raising=False)
    monkeypatch.delenv("KB_DATA", raising=False)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, ["--data", str(data), *args], catch_exceptions=False)

    return run


@pytest.fixture
def shipped_data(tmp_path) -> Path:
    """A copy of the repository's own data/, safe to modify."""
    return Path(shutil.copytree(REPO / "data", tmp_path / "data"))


@contextmanager
def serving(handler) -> Iterator[str]:
    """A server on 127.0.0.1 answering with handler (a BaseHTTPRequestHandler class); yields its address."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
