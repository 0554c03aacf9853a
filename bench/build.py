"""`kb build` on a generated catalogue against a raw sqlite3 floor writing the same rows.

The floor: every row of the built catalogue, already in memory, inserted with executemany into an empty
copy of the same schema (FTS index included). `kb build` also reads and validates data/.

    python bench/build.py [N_WORKS]      (default 100000)
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import generate, median_time, run  # noqa: E402


def rows_of(db: Path) -> tuple[list[str], dict[str, list[tuple]]]:
    conn = sqlite3.connect(db)
    ddl = [
        sql
        for (sql,) in conn.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'work_fts_%' ORDER BY rowid"
        )
    ]
    tables = [
        name
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'work_fts%'")
    ]
    rows = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in tables}
    rows["work_fts"] = conn.execute("SELECT rowid, title, abstract, summary, authors FROM work_fts").fetchall()
    conn.close()
    return ddl, rows


def floor(ddl: list[str], rows: dict[str, list[tuple]], path: Path) -> None:
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    with conn:
        for sql in ddl:
            conn.execute(sql)
        for table, values in rows.items():
            if values:
                marks = ",".join("?" * len(values[0]))
                cols = "(rowid, title, abstract, summary, authors)" if table == "work_fts" else ""
                conn.executemany(f"INSERT INTO {table} {cols} VALUES ({marks})", values)
    conn.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    root = Path(tempfile.gettempdir()) / "safety-kb-bench"
    start = time.perf_counter()
    data = generate(root, n)
    print(f"generated {n} works in {data} ({time.perf_counter() - start:.1f} s)")
    db = root / f"catalogue-{n}.sqlite"
    kb = str(Path(sys.executable).with_name("kb"))

    from kb.workspace import Workspace

    ws = Workspace(data, db)
    in_process = median_time(ws.build, repeat=3)
    process = median_time(lambda: run(kb, "--data", str(data), "--db", str(db), "build"), repeat=3)
    ddl, rows = rows_of(db)
    n_rows = sum(len(v) for v in rows.values())
    raw = median_time(lambda: floor(ddl, rows, root / "floor.sqlite"), repeat=3)
    print(f"rows written: {n_rows:,} in {len(rows)} tables")
    print(f"floor (raw sqlite3 executemany of the same rows): {raw:6.2f} s")
    print(f"kb build, in process (load + validate + write):   {in_process:6.2f} s   ratio {in_process / raw:.2f}x")
    print(f"kb build, a whole `kb build` process:             {process:6.2f} s   ratio {process / raw:.2f}x")


if __name__ == "__main__":
    main()
