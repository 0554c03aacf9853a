"""A cold `kb search` process against a bare `python -c` that opens the same file and runs the same query.

Run bench/build.py first (it leaves the catalogue in the temp folder), or pass N_WORKS to build here.

    python bench/search.py [N_WORKS]     (default 100000)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import generate, median_time, run  # noqa: E402

QUERIES = ["probe generalization", "sparse autoencoder features", "deception"]

BARE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
rows = conn.execute(
    "SELECT w.id, w.title, w.year FROM work_fts JOIN work w ON w.pk = work_fts.rowid "
    "WHERE work_fts MATCH ? ORDER BY bm25(work_fts, 10.0, 3.0, 2.0, 4.0) LIMIT 20", (sys.argv[2],)).fetchall()
print(rows)
"""


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    root = Path(tempfile.gettempdir()) / "safety-kb-bench"
    data = generate(root, n)
    db = root / f"catalogue-{n}.sqlite"
    kb = str(Path(sys.executable).with_name("kb"))
    if not db.exists():
        run(kb, "--data", str(data), "--db", str(db), "build")
    from kb.query import fts_expression

    print(f"catalogue of {n} works: {db}")
    for query in QUERIES:
        expr = fts_expression(query)
        bare = median_time(lambda expr=expr: run(sys.executable, "-c", BARE, str(db), expr), repeat=7)
        as_json = median_time(
            lambda query=query: run(kb, "--data", str(data), "--db", str(db), "search", query, "--json"), repeat=7
        )
        table = median_time(
            lambda query=query: run(kb, "--data", str(data), "--db", str(db), "search", query), repeat=7
        )
        print(
            f"{query!r:32} floor {bare * 1000:5.0f} ms | kb --json {as_json * 1000:5.0f} ms ({as_json / bare:.1f}x)"
            f" | kb table {table * 1000:5.0f} ms ({table / bare:.1f}x)"
        )


if __name__ == "__main__":
    main()
