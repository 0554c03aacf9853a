"""Import throughput and concurrent sync, against local servers only.

1. records per second from parsed records into data/ and the catalogue (kb's merge + write + build),
   as a ratio to a raw sqlite3 floor inserting the same records into one table;
2. `kb sync` of 20 feeds served on 127.0.0.1, each answering after 200 ms: with concurrent fetches the
   total should approach the slowest single feed, not the sum (4 s).

    python bench/importers.py [N_RECORDS]     (default 5000)
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from importers.records import WorkRecord  # noqa: E402
from kb.ingest import imports  # noqa: E402
from kb.workspace import Workspace  # noqa: E402


def fresh_data(root: Path) -> Path:
    data = root / "data"
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(REPO / "data", data)
    (data / "sources.toml").unlink(missing_ok=True)
    return data


def throughput(n: int, root: Path) -> None:
    import random

    sys.path.insert(0, str(Path(__file__).parent))
    from common import WORDS

    rng = random.Random(0)
    titles = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 11))).capitalize() for _ in range(n)]
    records = [
        WorkRecord(
            source="bench",
            kind="paper",
            title=titles[i],
            year=2000 + i % 26,
            authors=[f"Author {i % 997}", f"Coauthor {i % 13}"],
            ids={"arxiv": f"{2000 + i % 26 - 2000:02d}01.{i:05d}"},
            abstract="An abstract " * 20,
        )
        for i in range(n)
    ]
    data = fresh_data(root)
    ws = Workspace(data, root / "bench.sqlite")
    ws.build()
    start = time.perf_counter()
    report = imports.apply(ws, [imports.Fetched("bench", records)])
    ours = time.perf_counter() - start
    floor_db = root / "floor.sqlite"
    floor_db.unlink(missing_ok=True)
    start = time.perf_counter()
    conn = sqlite3.connect(floor_db)
    conn.execute(
        "CREATE TABLE work (id TEXT PRIMARY KEY, title TEXT, year INT, authors TEXT, arxiv TEXT, abstract TEXT)"
    )
    with conn:
        conn.executemany(
            "INSERT INTO work VALUES (?, ?, ?, ?, ?, ?)",
            [(str(i), r.title, r.year, "|".join(r.authors), r.ids["arxiv"], r.abstract) for i, r in enumerate(records)],
        )
    conn.close()
    floor = time.perf_counter() - start
    print(
        f"import of {n} new records: {len(report.added)} added in {ours:.2f} s = {n / ours:,.0f} records/s"
        f" (match, merge, validate, write data/, rebuild the catalogue)"
    )
    print(
        f"  floor, raw sqlite3 executemany into one table: {floor:.3f} s = {n / floor:,.0f} records/s; "
        f"ratio {ours / floor:.0f}x"
    )
    start = time.perf_counter()
    again = imports.apply(ws, [imports.Fetched("bench", records)])
    print(
        f"  the same import again: {len(again.skipped)} unchanged in {time.perf_counter() - start:.2f} s "
        "(nothing written)"
    )


def sync(root: Path, feeds: int = 20, latency: float = 0.2) -> None:
    body = (REPO / "tests" / "fixtures" / "blog_rss.xml").read_bytes()

    class Slow(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            time.sleep(latency)
            n = self.path.strip("/").split(".")[0]
            page = (
                body.replace(b"https://lab.example/2026/", f"https://lab{n}.example/2026/".encode())
                .replace(b"Probing for deception", f"Probing for deception, part {n}".encode())
                .replace(b"Steering vectors", f"Steering vectors {n}".encode())
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            self.wfile.write(page)

    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Slow) for _ in range(feeds)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    data = fresh_data(root)
    ws = Workspace(data, root / "sync.sqlite")
    ws.build()
    specs = [{"type": "feed", "url": f"http://127.0.0.1:{s.server_address[1]}/{i}.xml"} for i, s in enumerate(servers)]
    imports.HTTP_OPTIONS.update(cache_dir=None)
    start = time.perf_counter()
    fetched = [imports.fetch_source(spec) for spec in specs[:1]]
    one = time.perf_counter() - start
    start = time.perf_counter()
    report, fetched = imports.sync(ws, specs)
    total = time.perf_counter() - start
    for s in servers:
        s.shutdown()
        s.server_close()
    print(
        f"kb sync of {feeds} feeds, {latency * 1000:.0f} ms latency each: {total:.2f} s for "
        f"{len(report.added)} new works"
        f" (one feed alone {one:.2f} s; the sum of latencies {feeds * latency:.1f} s)"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    root = Path(tempfile.mkdtemp(prefix="kb-bench-import-"))
    try:
        throughput(n, root)
        sync(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
