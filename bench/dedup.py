"""Precision and recall of merging on labelled pairs built from real answers (../shared/reference-responses).

Each pair is two records as two sources (or one source twice) would deliver them, and a label: the same real
work, or two works. The first record is imported into an empty catalogue, then the second; the pair counts as
merged when the second joined the first's work. Three kinds of pairs:

- real pairs found in the real answers: OpenAlex's own near-duplicates (a decision letter, an author response
  and an editor's evaluation of one paper: three works; a JMIR paper and its preprint record: one work), the
  items of one lab feed (distinct works), and the same arXiv entry on two pages of a real query;
- cross-source views of a real record, each labelled by what it is: a Google Scholar profile's record (only the
  profile's owner as author, another capitalisation), an arXiv preprint a year earlier, a LessWrong cross-post
  of a lab post (same title and day, another URL);
- near-duplicates of a real record that are other works: one number or one word changed (Part 2, "another"),
  a blog post announcing a paper under the paper's title.

    python bench/dedup.py            # prints precision, recall and every wrong decision
    python bench/dedup.py --small    # the dozen pairs the test suite checks
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "reference-responses"
sys.path.insert(0, str(REPO))

from importers import arxiv, feeds, openalex  # noqa: E402
from importers.records import WorkRecord  # noqa: E402


@dataclasses.dataclass
class Pair:
    a: WorkRecord
    b: WorkRecord
    same: bool
    why: str


def _view(r: WorkRecord, **changes) -> WorkRecord:
    # a view of a record by another source: its own identifiers and address, none of the original's
    return dataclasses.replace(r, **{"links": [], "ids": {}, "url": None, **changes})


def _bump(title: str) -> str:
    """The title of another work one number or one word away."""
    numbers = re.findall(r"\d+", title)
    if numbers:
        n = numbers[-1]
        return title[: title.rfind(n)] + str(int(n) + 1) + title[title.rfind(n) + len(n) :]
    return f"{title}: Part 2" if len(title) % 2 else title.replace(" ", " another ", 1)


def pairs() -> list[Pair]:
    if not SHARED.is_dir():
        raise SystemExit(f"needs the real answers in {SHARED}")
    out: list[Pair] = []
    works = json.loads((SHARED / "openalex" / "works_search.json").read_text())["results"]
    records = [openalex.record(w) for w in works]
    by_title = {r.title: r for r in records}

    # real near-duplicates inside OpenAlex's answer
    salmonella = [r for r in records if "Salmonella" in r.title]
    for x, y in zip(salmonella, salmonella[1:], strict=False):
        out.append(Pair(x, y, False, "review documents of one paper: decision letter, author response, evaluation"))
    for title in by_title:
        preprint = by_title.get(f"{title} (Preprint)")
        if preprint:
            out.append(Pair(by_title[title], preprint, True, "a JMIR paper and its preprint, both in OpenAlex"))

    # cross-source views and near-duplicates of every real OpenAlex work with authors
    for i, r in enumerate(r for r in records if r.authors and r.year):
        if i % 2:
            owner = r.authors[-1]
            scholar = _view(r, source="scholar", title=r.title.upper(), authors=[owner], more_authors=True)
            out.append(Pair(r, dataclasses.replace(scholar, ids={"scholar": f"profile:{i}"}), True, "Scholar view"))
        else:
            preprint = _view(r, source="arxiv", title=r.title.rstrip(".") + ".", year=r.year - 1, date=None)
            arxiv_id = r.ids.get("arxiv", f"2001.{i:05d}")  # arXiv answers with the id OpenAlex knows
            out.append(Pair(r, dataclasses.replace(preprint, ids={"arxiv": arxiv_id}), True, "arXiv view"))
        if i % 3 == 0:
            other = _view(r, source="arxiv", title=_bump(r.title), ids={"arxiv": f"2101.{i:05d}"})
            out.append(Pair(r, other, False, "one number or word apart"))

    # a lab's real feed
    items = feeds.parse((SHARED / "feeds" / "anthropic_red_rss.xml").read_bytes(), "https://red.anthropic.com/rss")
    for i, item in enumerate(items):
        if i % 2 == 0:
            lw = _view(item, source="lesswrong", url=f"https://www.lesswrong.com/posts/{i:017d}/x")
            out.append(
                Pair(item, dataclasses.replace(lw, ids={"lesswrong": f"{i:017d}"}), True, "LessWrong cross-post")
            )
        elif i + 1 < len(items):
            out.append(Pair(item, items[i + 1], False, "two items of one feed"))
        if i % 4 == 1:
            paper = _view(item, source="arxiv", kind="paper", ids={"arxiv": f"2201.{i:05d}"}, url=None)
            out.append(Pair(paper, item, False, "a post announcing a paper under its title"))
        if i % 4 == 3:
            out.append(Pair(item, _view(item, title=_bump(item.title), ids={"feed": f"x{i}"}), False, "one word apart"))

    # the same arXiv entries on overlapping pages of one real query, and neighbours on a page
    pages = sorted((SHARED / "arxiv" / "recorded").glob("q_testing_*.json"))
    seen: dict[str, WorkRecord] = {}
    for page in pages:
        answer = json.loads(page.read_text())
        try:
            _, entries = arxiv.parse(answer["body"].encode())
        except Exception:  # an error page: not a source of pairs
            continue
        for e in entries:
            key = e.ids.get("arxiv")
            if key in seen and len([p for p in out if p.why == "one arXiv entry on two pages"]) < 8:
                out.append(Pair(seen[key], e, True, "one arXiv entry on two pages"))
            seen.setdefault(key, e)
        for x, y in list(zip(entries, entries[1:], strict=False))[:2]:
            out.append(Pair(x, y, False, "two entries of one arXiv answer"))
    return out


def decide(pair: Pair) -> bool:
    from kb.ingest.merging import Merger
    from kb.store.datadir import Dataset

    merger = Merger(Dataset(root=Path(tempfile.gettempdir())))
    first = merger.add(pair.a)
    return merger.add(pair.b) == first


def small() -> list[Pair]:
    """A dozen pairs, each kind of case at least once: the test suite checks these."""
    chosen, kinds = [], {}
    for p in pairs():
        if kinds.get(p.why, 0) < 1:
            kinds[p.why] = kinds.get(p.why, 0) + 1
            chosen.append(p)
    return chosen


def main() -> None:
    labelled = small() if "--small" in sys.argv else pairs()
    tp = fp = fn = tn = 0
    for p in labelled:
        merged = decide(p)
        tp += merged and p.same
        fp += merged and not p.same
        fn += p.same and not merged
        tn += not p.same and not merged
        if merged != p.same:
            print(f"  wrong: {'merged' if merged else 'kept apart'} ({p.why}): {p.a.title[:60]!r} / {p.b.title[:60]!r}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"{len(labelled)} labelled pairs: {tp + fn} of one work, {fp + tn} of two works")
    print(f"precision {precision:.3f} (distinct works merged: {fp})  recall {recall:.3f} (missed merges: {fn})")


if __name__ == "__main__":
    main()
