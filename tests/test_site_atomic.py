"""A site build killed at any point leaves the old site or the new one in _site/, never a mix, once the next build
has recovered what it left (render.recover: an incremental build killed while it applies its journal is finished).

A child process builds the site and SIGKILLs itself just before its Kth file-system step inside
render.write_site (each write, link, rename, copy, removal and the final exchange counts as one); a first
run counts the steps, then a seeded sample of them (and the last few, around the switch) is tried.
"""

import datetime as dt
import json
import random
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kb import website
from kb.website import render
from kb.workspace import Workspace
from tests.conftest import REPO

DATE = dt.date(2026, 11, 24)

CHILD = textwrap.dedent(
    """
    import datetime as dt, os, shutil, signal, sys
    from pathlib import Path
    from kb import website
    from kb.website import render
    from kb.workspace import Workspace

    data, out, kill_at, exchange = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
    steps = 0
    counting = False

    def step(fn):
        def wrapped(*args, **kwargs):
            global steps
            if counting:
                steps += 1
                if steps == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
            return fn(*args, **kwargs)
        return wrapped

    for name in ("replace", "rename", "link", "unlink", "rmdir", "mkdir"):
        setattr(os, name, step(getattr(os, name)))
    shutil.copyfile = step(shutil.copyfile)
    shutil.rmtree = step(shutil.rmtree)
    Path.write_text = step(Path.write_text)
    render._exchange = step(render._exchange if exchange else (lambda a, b: False))
    write_site = render.write_site

    def counted(*args, **kwargs):
        global counting
        counting = True
        try:
            return write_site(*args, **kwargs)
        finally:
            counting = False

    render.write_site = counted
    ws = Workspace(data, data.parent / "kb.sqlite")
    with ws.connect() as conn:
        website.build(conn, out, base_url="https://kb.example/", build_date=dt.date(2026, 11, 24), search=False)
    print(steps)
    """
)


def build(data: Path, out: Path):
    with Workspace(data, data.parent / "kb.sqlite").connect() as conn:
        return website.build(conn, out, base_url="https://kb.example/", build_date=DATE, search=False)


def snapshot(out: Path) -> dict[str, bytes] | None:
    if not out.is_dir():
        return None
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def child(script: Path, data: Path, out: Path, kill_at: int, exchange: bool) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(script), str(data), str(out), str(kill_at), "1" if exchange else "0"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "journal, exchange",
    [(True, True), (False, True), (False, False)],
    ids=["incremental-journal", "full-renameat2-exchange", "full-two-renames-fallback"],
)
def test_a_build_killed_at_any_step_leaves_the_old_site_or_the_new_one(data, tmp_path, journal, exchange):
    out = tmp_path / "_site"
    build(data, out)
    if not journal:  # a site made by other templates: the build makes a whole new site and exchanges the two
        manifest = json.loads((out / render.MANIFEST).read_text())
        (out / render.MANIFEST).write_text(json.dumps(manifest | {"assets": "other templates"}))
    pristine = tmp_path / "pristine"
    shutil.copytree(out, pristine)
    old = snapshot(out)
    summary = data / "summaries" / "coup-probes-2023.md"
    summary.write_text(summary.read_text().replace("classifier", "changed classifier"))
    new = snapshot(build(data, tmp_path / "expected").out)
    assert new != old
    script = tmp_path / "child.py"
    script.write_text(CHILD)

    shutil.copytree(pristine, tmp_path / "count")  # the steps of the same build: the old site's, incremental
    counted = child(script, data, tmp_path / "count", 0, exchange)
    assert counted.returncode == 0, counted.stderr
    total = int(counted.stdout.split()[-1])
    rng = random.Random(20261124)
    points = sorted(set(rng.sample(range(1, total + 1), min(8 if exchange else 4, total)) + [total - 1, total]))

    left_behind, outcomes = False, set()
    for kill_at in points:
        shutil.rmtree(out)
        shutil.copytree(pristine, out)  # the old site; what earlier kills left beside it stays
        done = child(script, data, out, kill_at, exchange)
        assert done.returncode == -signal.SIGKILL, (kill_at, done.stderr)
        left_behind |= any(p.name.startswith("._site.") for p in tmp_path.iterdir())
        # what the next build does first: puts back a site caught between renames, or applies a journal whole
        render.recover(out)
        assert snapshot(out) in (old, new), f"killed at step {kill_at} of {total}: a mix of old and new"
        outcomes.add(snapshot(out) == new)

    assert outcomes == {False, True}, "kills before and after the switch (the journal, the exchange) were tried"

    assert left_behind, "a kill during the build leaves its staging folder"
    assert child(script, data, out, -1, exchange).returncode == 0
    assert snapshot(out) == new
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("._site.")] == []
