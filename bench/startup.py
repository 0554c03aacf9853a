"""A cold `kb show ID` and a selective `kb search` (a word few works contain), each against a bare `python -c`
that opens the same catalogue with sqlite3 and runs the same lookup: alternated pairs, medians.

Output into a pipe (scripts, `| less`) and onto a terminal (a pseudo-terminal here: lines wrapped to its width,
in colour) are timed apart, since only the terminal lays text out.

    python bench/startup.py [PAIRS]      (default 15; the shipped data/ and its catalogue)
"""

from __future__ import annotations

import os
import pty
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search import BARE as SEARCH_FLOOR  # noqa: E402  (the same FTS5 query, with kb's bm25 weights)

REPO = Path(__file__).resolve().parent.parent
KB = [sys.executable, "-c", "from kb.cli.launch import main; main()"]
CATALOGUE = REPO / "build" / "catalogue.sqlite"
WORK = "geometry-of-truth-2023"
RARE_WORD = "tomography"  # in a handful of abstracts of the shipped catalogue

SHOW_FLOOR = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
work = conn.execute("SELECT * FROM work WHERE id = ?", (sys.argv[2],)).fetchone()
authors = conn.execute(
    "SELECT a.name FROM work_author wa JOIN author a ON a.pk = wa.author_pk JOIN work w ON w.pk = wa.work_pk "
    "WHERE w.id = ? ORDER BY wa.position", (sys.argv[2],)).fetchall()
print(work, authors)
"""


def piped(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True, cwd=REPO)
    return time.perf_counter() - start


def on_a_terminal(cmd: list[str]) -> float:
    """The command with stdout on a pseudo-terminal (80 columns), read to its end."""
    controller, terminal = pty.openpty()
    start = time.perf_counter()
    process = subprocess.Popen(
        cmd, stdout=terminal, stderr=subprocess.PIPE, cwd=REPO, env={**os.environ, "COLUMNS": "80"}
    )
    os.close(terminal)
    while True:
        try:
            if not os.read(controller, 65536):
                break
        except OSError:  # the terminal closed: the command has written everything
            break
    process.wait()
    os.close(controller)
    if process.returncode:
        raise RuntimeError(f"{cmd} failed")
    return time.perf_counter() - start


def pairs(n: int, ours, floor) -> tuple[float, float]:
    mine, bare = [], []
    for _ in range(n):
        mine.append(ours())
        bare.append(floor())
    return statistics.median(mine), statistics.median(bare)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    subprocess.run([*KB, "build"], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    # kb's modules compiled to bytecode once, as pip leaves an installed package: a checkout run with
    # PYTHONDONTWRITEBYTECODE set would compile them from source at every start, and time that as start-up
    subprocess.run([sys.executable, "-m", "compileall", "-q", "kb", "importers"], check=True, cwd=REPO)
    show_floor = [sys.executable, "-c", SHOW_FLOOR, str(CATALOGUE), WORK]
    search_floor = [sys.executable, "-c", SEARCH_FLOOR, str(CATALOGUE), RARE_WORD]
    cases = [
        ("kb show ID, into a pipe", lambda: piped([*KB, "show", WORK]), lambda: piped(show_floor)),
        ("kb show ID, on a terminal", lambda: on_a_terminal([*KB, "show", WORK]), lambda: piped(show_floor)),
        (f"kb search {RARE_WORD}, into a pipe", lambda: piped([*KB, "search", RARE_WORD]), lambda: piped(search_floor)),
        (
            f"kb search {RARE_WORD}, on a terminal",
            lambda: on_a_terminal([*KB, "search", RARE_WORD]),
            lambda: piped(search_floor),
        ),
        (
            f"kb search {RARE_WORD} --json",
            lambda: piped([*KB, "search", RARE_WORD, "--json"]),
            lambda: piped(search_floor),
        ),
    ]
    print(f"{n} alternated pairs each, medians; floor: python -c with sqlite3 running the same lookup")
    for name, ours, floor in cases:
        mine, bare = pairs(n, ours, floor)
        print(f"{name:<40} {mine * 1000:6.0f} ms  floor {bare * 1000:5.0f} ms  {mine / bare:4.1f}x")


if __name__ == "__main__":
    main()
