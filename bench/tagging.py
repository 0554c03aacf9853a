"""Tagging throughput on generated works: rules alone, and rules + probes with the embeddings cold
(computed now) and warm (read from the store beside the catalogue).

    python bench/tagging.py [N_WORKS] [N_COLD]     (default 10000 and 1000: embedding 10,000 texts cold
                                                    takes minutes on 2 cores, so the cold rate is measured on a sample)
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, WORDS  # noqa: E402

from kb import tagging  # noqa: E402
from kb.embeddings import Store, work_text  # noqa: E402


def works(n: int, techniques: list[dict], seed: int = 0) -> list[dict]:
    """The shipped catalogue's titles and summaries, shuffled into n works with a few random words
    each (so that every text differs); half keep their curated tags, half wait for suggestions."""
    from kb.store.datadir import load

    rng = random.Random(seed)
    ds = load(REPO / "data")
    summaries = {s.meta.work: s.body for s in ds.summaries}
    base = [(w.title, summaries.get(w.id, ""), [t.slug for t in w.techniques]) for w in ds.works]
    out = []
    for i in range(n):
        title, summary, tags = base[i % len(base)]
        out.append(
            {
                "id": f"w{i}",
                "title": title,
                "abstract": " ".join(rng.choice(WORDS) for _ in range(12)),
                "summary": {"body": summary} if summary else None,
                "techniques": [{"slug": t, "by": "curator"} for t in tags] if i % 2 == 0 else [],
                "motivations": [],
            }
        )
    return out


def evidence_first(corpus: list[dict], techniques: list[dict], motivations: list[dict]) -> tuple[float, float]:
    """Seconds to fit the evidence-first tagger on the shipped data/'s tuning part, and to run it over the corpus."""
    from kb.store.datadir import load

    shipped = [w.model_dump() for w in load(REPO / "data").works]
    start = time.perf_counter()
    tagger = tagging.EvidenceTagger(techniques, motivations).fit(tagging.fitting_set(shipped))
    fit = time.perf_counter() - start
    start = time.perf_counter()
    for w in corpus:
        tagger.propose(tagging.tagger_text(w))
    return fit, time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    n_cold = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000
    taxonomy = tomllib.loads((REPO / "data" / "taxonomy.toml").read_text())
    techniques = [{**t, "parent": t.get("parent")} for t in taxonomy["technique"]]
    motivations = taxonomy["motivation"]
    corpus = works(n, techniques)
    store = Store(Path(tempfile.mkdtemp()) / "embeddings.sqlite")

    start = time.perf_counter()
    tagging.suggest(corpus, techniques, motivations, None)
    rules = time.perf_counter() - start

    fit, propose = evidence_first(corpus, techniques, motivations)

    texts = [work_text(w) for w in corpus]
    store.embed(texts[:8])  # load the model outside the timing
    start = time.perf_counter()
    store.embed(texts[8 : 8 + n_cold])
    cold = (time.perf_counter() - start) / n_cold
    store.embed(texts)  # the rest, untimed
    start = time.perf_counter()
    store.embed(texts)
    warm_read = time.perf_counter() - start
    start = time.perf_counter()
    tagging.suggest(corpus, techniques, motivations, store.embed)
    warm = time.perf_counter() - start

    print(f"{n} works, half without curated tags:")
    print(f"  rules alone                              {rules:7.2f} s   {n / rules:9,.0f} works/s")
    print(f"  evidence-first tagger, fitted on data/'s tuning part in {fit:.2f} s, then")
    print(f"    proposing (title + abstract)           {propose:7.2f} s   {n / propose:9,.0f} works/s")
    print(
        f"  embedding, cold (sample of {n_cold})        {cold * n:7.2f} s   {1 / cold:9,.0f} works/s "
        f"(extrapolated to {n})"
    )
    print(
        f"  embedding, from the store (cache hits)   {warm_read:7.2f} s   {n / warm_read:9,.0f} works/s  "
        f" {cold * n / warm_read:.0f}x faster than cold"
    )
    print(
        f"  rules + probes, embeddings cached         {warm:7.2f} s   {n / warm:9,.0f} works/s (training "
        "one probe per tag included)"
    )


if __name__ == "__main__":
    main()
