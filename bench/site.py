"""`kb site build` for 1,000 and 10,000 works: full builds with search and, after each, the incremental rebuild
after one summary changes (medians of REPEAT); then Hugo on the same works (one Markdown file per work, a minimal
layouts folder: see hugo_site.py) followed by Pagefind's CLI over Hugo's work pages, alternated with full
`kb site build`s with and without search, medians of REPEAT rounds: kb with search against Hugo + Pagefind, kb
without search against Hugo alone; the search index's share of kb's build (with search minus without) on its own
line. The load average is printed with each: the machine may be shared.

    python bench/site.py [N_WORKS ...]      (default 1000 10000; Hugo needs the `bench` extra)
    python bench/site.py --scale N_WORKS    (a full build with search in a fresh process, then Hugo's and Pagefind's:
                                             time, peak memory of all their processes)
    python bench/site.py --profile N_WORKS  (a full build with search, one summary edited, the incremental build
                                             under cProfile: where its time goes)
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

from kb import website  # noqa: E402
from kb.workspace import Workspace  # noqa: E402

DATE = dt.date(2026, 11, 24)
REPEAT = 3


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def bench(n: int, root: Path) -> None:
    """Incremental builds: REPEAT rounds of a full build with search into an empty folder, then one summary edited
    (another each round), the catalogue rebuilt, and the build with search again into the same folder; medians."""
    data = generate(root, n, n_summaries=n // 10)
    ws = Workspace(data, root / f"site-catalogue-{n}.sqlite")
    ws.build()
    out = root / f"site-{n}"
    start = os.getloadavg()[0]
    full, incremental, rendered, derived, shards = [], [], [], [], []
    for summary in sorted((data / "summaries").glob("*.md"))[:REPEAT]:
        shutil.rmtree(out, ignore_errors=True)
        with ws.connect() as conn:
            seconds, report = timed(
                lambda c=conn: website.build(c, out, base_url="https://example.org/", build_date=DATE, search=True)
            )
        full.append(seconds)
        summary.write_text(summary.read_text() + "\nOne more sentence.\n")
        ws.build()
        with ws.connect() as conn:
            seconds, again = timed(
                lambda c=conn: website.build(c, out, base_url="https://example.org/", build_date=DATE, search=True)
            )
        incremental.append(seconds)
        rendered.append(len(again.rendered))
        derived.append(len(again.derived))
        shards.append(len(again.search_shards))
    f, i = statistics.median(full), statistics.median(incremental)
    print(f"{n:>6} works, {report.pages} pages (load {start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)")
    print(f"   full build with search, median of {REPEAT}: {f:6.2f} s   ({', '.join(f'{t:.2f}' for t in full)})")
    print(
        f"   one summary edited, rebuilt with search into the same folder, median of {REPEAT}: {i:6.2f} s"
        f"   ({', '.join(f'{t:.2f}' for t in incremental)}): {i / f:.2f} of a full build"
    )
    print(f"   pages looked at again {derived}, rendered {rendered}, search shards re-indexed {shards}")


def versus_hugo(n: int, root: Path) -> None:
    """Full builds, alternated so that a busy moment hits them all: Hugo then Pagefind's CLI over Hugo's work pages
    (the stack a Hugo user runs for a site with search), Hugo making each work's citation files too (the files kb's
    site has per work: hugo_site.CITATION_CONFIG; Pagefind's time as above, the pages being the same), kb with
    search, kb without it."""
    command, pagefind = hugo_site.hugo(), hugo_site.pagefind()
    if command is None or pagefind is None:
        print("   Hugo or Pagefind: not installed (scripts/setup test,methods,bench)")
        return
    data = generate(root, n, n_summaries=n // 10)
    ws = Workspace(data, root / f"site-catalogue-{n}.sqlite")
    ws.build()
    hugo_dir, cited_dir, out = root / f"hugo-{n}", root / f"hugo-cited-{n}", root / f"site-hugo-{n}"
    hugo_site.write_site(data, hugo_dir)
    hugo_site.write_site(data, cited_dir, citations=True)
    times: dict[str, list[float]] = {"hugo": [], "pagefind": [], "kb": [], "kb without search": [], "cited": []}
    start = os.getloadavg()[0]
    for _ in range(REPEAT):
        seconds, hugo_pages = timed(lambda: hugo_site.build(command, hugo_dir))
        times["hugo"].append(seconds)
        seconds, indexed = timed(lambda: hugo_site.index(pagefind, hugo_dir))
        times["pagefind"].append(seconds)
        seconds, _ = timed(lambda: hugo_site.build(command, cited_dir))
        times["cited"].append(seconds)
        for search, name in ((True, "kb"), (False, "kb without search")):
            shutil.rmtree(out, ignore_errors=True)
            with ws.connect() as conn:
                build = partial(website.build, conn, out, base_url="https://example.org/", build_date=DATE)
                seconds, report = timed(lambda b=build, s=search: b(search=s))
            times[name].append(seconds)
    stack = statistics.median(h + p for h, p in zip(times["hugo"], times["pagefind"], strict=True))
    cited_stack = statistics.median(c + p for c, p in zip(times["cited"], times["pagefind"], strict=True))
    h, p, k, bare, cited = (statistics.median(t) for t in times.values())
    load = f"load {start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    print(f"{n:>6} works, medians of {REPEAT} alternated full builds ({load})")
    rows = [
        (f"Hugo {hugo_site.version(command)}: {hugo_pages} pages", f"{h:6.2f} s"),
        (f"Pagefind's CLI over Hugo's work pages ({indexed} indexed)", f"{p:6.2f} s"),
        ("Hugo + Pagefind, the stack with search", f"{stack:6.2f} s"),
        (f"kb site build with search: {report.pages} pages", f"{k:6.2f} s   {k / stack:.2f}x Hugo + Pagefind"),
        ("kb site build without search", f"{bare:6.2f} s   {bare / h:.2f}x Hugo"),
        ("the search index's share (with minus without)", f"{k - bare:6.2f} s   {(k - bare) / k:.0%} of kb's build"),
        ("Hugo with each work's BibTeX, RIS, CSL-JSON files", f"{cited:6.2f} s   kb w/o search {bare / cited:.2f}x"),
        ("that Hugo + Pagefind", f"{cited_stack:6.2f} s   kb with search {k / cited_stack:.2f}x"),
    ]
    for label, value in rows:
        print(f"   {label:<60}{value}")


def at_scale(n: int, root: Path) -> None:
    """A full build with search of n generated works in a fresh process, then Hugo's build of the same works and
    Pagefind's CLI over Hugo's work pages: the time, and the peak memory of each with every process it started
    (forked renderers, Pagefind), sampled from outside the same way: the sum of their proportional set sizes (pages
    shared after a fork counted once). kb's build also reports its own peak resident set and its largest child's."""
    data = generate(root, n, n_summaries=n // 10)
    Workspace(data, root / f"site-catalogue-{n}.sqlite").build()
    kb = [sys.executable, __file__, "--build-once", str(data), str(root / f"site-catalogue-{n}.sqlite"), str(root)]
    load = os.getloadavg()[0]
    parts: dict[str, int] = {}
    seconds, together, said = peak_memory(kb, parts)
    pages, own, largest = said.split()
    print(f"{n:>6} works, {pages} pages: kb's full build with search {seconds:.1f} s (load {load:.1f} before it)")
    print(
        f"   peak memory: all its processes together {together / 1024:.0f} MB (the build {int(own) / 1024:.0f} MB,"
        f" its largest child {int(largest) / 1024:.0f} MB)"
    )
    print("   at that peak: " + ", ".join(f"{kind} {kb_ / 1024:.0f} MB" for kind, kb_ in parts.items()))
    command, pagefind = hugo_site.hugo(), hugo_site.pagefind()
    if command is None or pagefind is None:
        print("   Hugo or Pagefind: not installed (scripts/setup test,methods,bench)")
        return
    hugo_dir = root / f"hugo-{n}"
    hugo_site.write_site(data, hugo_dir)
    shutil.rmtree(hugo_dir / "public", ignore_errors=True)
    hugo_seconds, hugo_peak, _ = peak_memory(
        [*command, "--source", str(hugo_dir), "--quiet", "--printPathWarnings=false"]
    )
    print(
        f"   Hugo {hugo_site.version(command)}, the same works: {hugo_seconds:.1f} s,"
        f" peak memory {hugo_peak / 1024:.0f} MB"
    )
    index_seconds, index_peak, _ = peak_memory([*pagefind, "--site", str(hugo_dir / "public")])
    stack = hugo_seconds + index_seconds
    print(f"   then Pagefind's CLI over Hugo's work pages: {index_seconds:.1f} s, peak {index_peak / 1024:.0f} MB")
    print(f"   kb / Hugo: time {seconds / hugo_seconds:.2f}x, peak memory {together / hugo_peak:.2f}x")
    print(f"   (load {os.getloadavg()[0]:.1f} at the end)")
    print(
        f"   kb / Hugo + Pagefind (run one after the other): time {seconds / stack:.2f}x,"
        f" peak memory {together / max(hugo_peak, index_peak):.2f}x"
    )


def profile_incremental(n: int, root: Path) -> None:
    """A full build with search, one summary edited and the catalogue rebuilt, then the incremental build with
    search under cProfile; prints both times and the profile's top entries by cumulative time."""
    import cProfile
    import pstats

    data = generate(root, n, n_summaries=n // 10)
    ws = Workspace(data, root / f"site-catalogue-{n}.sqlite")
    ws.build()
    out = root / f"site-profile-{n}"
    shutil.rmtree(out, ignore_errors=True)

    def build():
        with ws.connect() as conn:
            return website.build(conn, out, base_url="https://example.org/", build_date=DATE, search=True)

    full, _ = timed(build)
    summary = min((data / "summaries").glob("*.md"))
    summary.write_text(summary.read_text() + "\nOne more sentence.\n")
    ws.build()
    profiler = cProfile.Profile()
    incremental, report = timed(lambda: profiler.runcall(build))
    print(f"{n:>6} works: full build with search {full:.2f} s, then one summary edited: {incremental:.2f} s")
    print(f"   ({incremental / full:.2f} of a full build, under the profiler; {len(report.rendered)} pages rendered)")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


SAMPLE_SECONDS = 0.05


def peak_memory(command: list[str], parts: dict[str, int] | None = None) -> tuple[float, int, str]:
    """Run command; its wall time, the peak (KB) of the summed proportional set sizes of it and its descendants,
    sampled every SAMPLE_SECONDS, and what it printed. `parts` gets the peak's share of each kind of process: the
    command's own, Pagefind's and the others' (forked renderers)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        sample = _tree_pss_kb(process.pid)
        if sum(sample.values()) > peak:
            peak = sum(sample.values())
            if parts is not None:
                parts.update(sample)
        time.sleep(SAMPLE_SECONDS)
    seconds = time.perf_counter() - start
    said = process.stdout.read()
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({process.returncode}): {said[-2000:]}")
    return seconds, peak, said


def _tree_pss_kb(pid: int) -> dict[str, int]:
    """The proportional set size of a process and all its descendants (Linux /proc), in KB: the process's own,
    its Pagefind processes' and the other descendants'."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                parent = int(Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):  # ended meanwhile
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, todo = {"the build": 0, "forked renderers": 0, "Pagefind": 0}, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            kind = (
                "the build"
                if p == pid
                else "Pagefind"
                if b"pagefind" in Path(f"/proc/{p}/cmdline").read_bytes()
                else "forked renderers"
            )
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total[kind] += int(line.split()[1])
        except OSError:
            pass
    return total


def build_once(data: Path, db: Path, root: Path) -> None:
    import resource

    out = root / "site-scale"
    shutil.rmtree(out, ignore_errors=True)
    with Workspace(data, db).connect() as conn:
        report = website.build(conn, out, base_url="https://example.org/", build_date=DATE, search=True)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(report.pages, own, largest)


def main() -> None:
    root = Path(tempfile.gettempdir()) / "safety-kb-bench"
    root.mkdir(exist_ok=True)
    if sys.argv[1:2] == ["--build-once"]:
        return build_once(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
    if sys.argv[1:2] == ["--scale"]:
        return at_scale(int(sys.argv[2]), root)
    if sys.argv[1:2] == ["--profile"]:
        return profile_incremental(int(sys.argv[2]), root)
    if not all(a.isdigit() for a in sys.argv[1:]):
        sys.exit("usage: bench/site.py [N ...] | --scale N | --profile N | --build-once DATA DB ROOT")
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    for n in sizes:
        bench(n, root)
        versus_hugo(n, root)


if __name__ == "__main__":
    main()
