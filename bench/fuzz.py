"""Fuzzing every parser and `kb validate`: mutated real inputs in, and a count of the cases that crashed.

A crash is any exception but the one the parser is meant to raise for bad input (a SourceError naming the source,
a FrontMatterError with its line, a QuerySyntaxError); for `kb validate`, any exception at all (bad data is a list
of problems). Inputs are the project's real ones, byte-mutated with a seeded generator: up to six edits each (a byte
flipped, a hostile piece or random bytes inserted or written over, a run deleted, the input cut, a run repeated).

    python bench/fuzz.py                        # 10,000 cases for each target (tens of minutes on two cores)
    python bench/fuzz.py --cases 500 --target validate --target feed
    python bench/fuzz.py --seed 7 --show 3      # another seed; up to 3 examples of each crash

Targets: feed, arxiv, forum (LessWrong/AF GraphQL answers), openalex, frontmatter, query (the search box), validate
(one file of a copy of the shipped data/ mutated per case: works, authors, taxonomy, a summary or sources.toml).
tests/test_fuzz.py runs a small sample of every target in the suite. Prints one line per target:
`target cases ok rejected crashed` and, per kind of crash, its count and a first example.
"""

from __future__ import annotations

import argparse
import collections
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

MAX_EDITS = 6
HOSTILE = [
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\x1b]52;c;aGk=\x07",
    b"\x1b[2J",
    b"\xe2\x80\xae",  # RIGHT-TO-LEFT OVERRIDE
    b"\x93\x94\x85",
    b'"',
    b"}",
    b"]",
    b"\n",
    b"\\u0000",
    b"null",
    b"[]",
    b"1e999",
    b"-0",
    b"0000-00-00",
    b"2024-02-30",
    b"!!timestamp tomorrow",
    b"!!binary '%%%'",
    b"&a [*a]",
    b"<![CDATA[",
    b"&#x1b;",
    b"<script>",
    b"../../",
]


def mutate(rng: random.Random, body: bytes, pieces: list[bytes] = HOSTILE) -> bytes:
    for _ in range(rng.randint(1, MAX_EDITS)):
        at = rng.randint(0, len(body))
        op = rng.randrange(6)
        piece = rng.choice(pieces) if rng.random() < 0.6 else rng.randbytes(rng.randint(1, 6))
        if op == 0 and body:
            at = min(at, len(body) - 1)
            body = body[:at] + bytes([body[at] ^ (1 << rng.randrange(8))]) + body[at + 1 :]
        elif op == 1:
            body = body[:at] + piece + body[at:]
        elif op == 2:
            body = body[:at] + piece + body[at + len(piece) :]
        elif op == 3:
            body = body[:at] + body[at + rng.randint(1, 64) :]
        elif op == 4:
            body = body[:at]
        else:
            run = body[at : at + rng.randint(1, 64)]
            body = body[:at] + run * rng.randint(2, 8) + body[at:]
    return body


class Target:
    """seeds: the real inputs; run(body) parses one case and raises only `rejected` for bad input."""

    def __init__(self, name: str, seeds: list[bytes], run: Callable[[bytes], object], rejected: tuple = ()):
        self.name, self.seeds, self.run, self.rejected = name, seeds, run, rejected


def _importer_targets() -> list[Target]:
    import json

    from importers import arxiv, feeds, lesswrong, openalex
    from importers.records import SourceError
    from tests import test_importers_fuzz as real  # the recorded answers the suite's property tests mutate

    posts = json.dumps({"data": {"posts": {"results": [real.FORUM_POST]}}}).encode()
    comments = json.dumps({"data": {"comments": {"results": [real.FORUM_COMMENT]}}}).encode()
    spec = {"user": "someone", "comments": True, "limit": 5}
    return [
        Target("feed", real.FEEDS, lambda b: feeds.parse_all(b, "https://lab.example/feed"), (SourceError,)),
        Target("arxiv", real.ARXIV, arxiv.parse, (SourceError,)),
        Target(
            "forum",
            [posts, comments],
            lambda b: list(lesswrong.fetch(real.forum(*((b, comments) if b"posts" in b[:20] else (posts, b))), spec)),
            (SourceError,),
        ),
        Target(
            "openalex",
            [json.dumps(real.OPENALEX).encode()],
            lambda b: list(openalex.works(real.answering(b), "A1", "https://api.openalex.org")),
            (SourceError,),
        ),
    ]


def _parser_targets() -> list[Target]:
    from kb.query import QuerySyntaxError, fts_expression
    from kb.store import frontmatter

    summaries = [p.read_bytes() for p in sorted((REPO / "data" / "summaries").glob("*.md"))[:20]]
    queries = [q.encode() for q in ('probe "linear probe" lat* OR lens', 'title:probe author:"Neel Nanda" NOT x')]
    from kb.catalogue.schema import FTS_COLUMNS

    conn = sqlite3.connect(":memory:")  # the catalogue's full-text columns, so that field filters are checked
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5({', '.join(FTS_COLUMNS)})")
    conn.execute(f"INSERT INTO t VALUES ({', '.join('?' * len(FTS_COLUMNS))})", ["probes of truth"] * len(FTS_COLUMNS))

    def query(body: bytes) -> None:
        expression = fts_expression(body.decode("utf-8", "replace"))
        if expression is not None:
            conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone()

    return [
        Target(
            "frontmatter",
            summaries,
            lambda b: frontmatter.parse(b.decode("utf-8", "replace")),
            (frontmatter.FrontMatterError,),
        ),
        Target("query", queries, query, (QuerySyntaxError,)),
    ]


class _ValidateTarget(Target):
    """One file of a copy of data/ mutated per case, then data/ loaded and checked as `kb validate` does."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="kb-fuzz-"))
        self.data = Path(shutil.copytree(REPO / "data", self.folder / "data"))
        files = [self.data / "taxonomy.toml", self.data / "authors.jsonl", self.data / "sources.toml"]
        files += sorted((self.data / "works").glob("*.jsonl")) + sorted((self.data / "summaries").glob("*.md"))[:10]
        self.files = [f for f in files if f.exists()]
        self.original = {f: f.read_bytes() for f in self.files}
        self.picked = 0
        super().__init__("validate", [b""], self._run)

    def pick(self, rng: random.Random) -> None:
        self.picked = rng.randrange(len(self.files))

    def _run(self, body: bytes) -> None:
        from kb.store import datadir, validate

        path = self.files[self.picked]
        path.write_bytes(body)
        try:
            ds = datadir.load(self.data)
            validate.check_all(ds)
        finally:
            path.write_bytes(self.original[path])

    def seed_for(self) -> bytes:
        return self.original[self.files[self.picked]]

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def targets(names: list[str] | None = None) -> list[Target]:
    every = {t.name: t for t in _importer_targets() + _parser_targets()}
    wanted = names or [*every, "validate"]
    out = [every[n] for n in wanted if n in every]
    if "validate" in wanted:
        out.append(_ValidateTarget())
    unknown = set(wanted) - set(every) - {"validate"}
    if unknown:
        raise SystemExit(f"unknown target(s): {', '.join(sorted(unknown))}; known: {', '.join(every)}, validate")
    return out


def fuzz(target: Target, cases: int, seed: int = 0) -> dict:
    """Run `cases` mutated inputs; returns counts and, per kind of crash (type and place), a first example."""
    rng = random.Random(f"{seed}:{target.name}")
    counts = collections.Counter()
    crashes: dict[str, tuple[int, bytes, str]] = {}
    for _ in range(cases):
        if isinstance(target, _ValidateTarget):
            target.pick(rng)
            source = target.seed_for()
        else:
            source = rng.choice(target.seeds)
        body = mutate(rng, source)
        try:
            target.run(body)
        except target.rejected:
            counts["rejected"] += 1
        except Exception as e:  # noqa: BLE001 -- what the fuzzer is counting
            frame = traceback.extract_tb(e.__traceback__)[-1]
            kind = f"{type(e).__name__} at {Path(frame.filename).name}:{frame.lineno}"
            counts["crashed"] += 1
            n, first, text = crashes.get(kind, (0, body, f"{type(e).__name__}: {e}"[:200]))
            crashes[kind] = (n + 1, first, text)
        else:
            counts["ok"] += 1
    return {"cases": cases, **counts, "crashes": crashes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases per target (default 10,000)")
    parser.add_argument("--target", action="append", help="one target (repeatable); default all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=1, help="examples printed per kind of crash")
    args = parser.parse_args(argv)
    total = 0
    print(f"{'target':<12} {'cases':>7} {'ok':>7} {'rejected':>9} {'crashed':>8} {'seconds':>8}")
    for target in targets(args.target):
        start = time.perf_counter()
        try:
            result = fuzz(target, args.cases, args.seed)
        finally:
            if isinstance(target, _ValidateTarget):
                target.close()
        seconds = time.perf_counter() - start
        print(
            f"{target.name:<12} {result['cases']:>7} {result.get('ok', 0):>7} {result.get('rejected', 0):>9}"
            f" {result.get('crashed', 0):>8} {seconds:>8.1f}",
            flush=True,
        )
        for kind, (n, body, text) in sorted(result["crashes"].items(), key=lambda kv: -kv[1][0]):
            print(f"    {n:>6} x {kind}: {text}")
            if args.show:
                print(f"           first input: {body[:160]!r}")
        total += result.get("crashed", 0)
    print(f"crashed in all: {total}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
