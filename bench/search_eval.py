"""How well search answers researchers' questions: nDCG@10 and recall@20 per method, on the shipped catalogue.

The questions, their relevant works and why, are in bench/search_questions.toml (written before ranking was
changed). Methods: `keyword` (FTS5 with bm25, what `kb search` did first), `semantic` (cosine of MiniLM
embeddings), and `hybrid` (reciprocal rank fusion of the two). Questions are split into `tune` (looked at while
changing ranking) and `held-out` (never used to choose anything): both are reported, separately.

    python bench/search_eval.py                   # the table: method x split, mean with a 95% bootstrap interval
    python bench/search_eval.py --per-question    # every question's scores and the top five works of each method
    python bench/search_eval.py --split tune      # only the tune questions (while tuning)

Needs the methods extra for semantic and hybrid (embeddings are computed once into build/embeddings.sqlite).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = Path(__file__).resolve().parent / "search_questions.toml"
CUTOFF_NDCG = 10
CUTOFF_RECALL = 20
BOOTSTRAP = 2000  # resamples of the questions for the interval
SPLITS = ("tune", "held-out")


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    questions = tomllib.loads(path.read_text())["question"]
    for q in questions:
        q["grades"] = {work: grade for work, grade, _why in q["relevant"]}
    return questions


def ndcg(ranked: list[str], grades: dict[str, int], k: int = CUTOFF_NDCG) -> float:
    """Normalised discounted cumulative gain at k, gain 2^grade - 1."""
    dcg = sum((2 ** grades.get(w, 0) - 1) / math.log2(i + 2) for i, w in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    best = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def recall(ranked: list[str], grades: dict[str, int], k: int = CUTOFF_RECALL) -> float:
    """The share of relevant works (any grade) among the first k."""
    return len(set(ranked[:k]) & set(grades)) / len(grades)


def interval(values: list[float], seed: int = 0) -> tuple[float, float]:
    """A 95% percentile bootstrap interval of the mean, resampling questions."""
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(values, k=len(values))) / len(values) for _ in range(BOOTSTRAP))
    return means[int(0.025 * BOOTSTRAP)], means[int(0.975 * BOOTSTRAP) - 1]


def rankers(ws) -> dict:
    """Method name -> function(question text) -> work ids, best first."""
    from kb import catalogue, similarity
    from kb.query import Query

    def keyword(text: str) -> list[str]:
        with ws.connect() as conn:
            return [r["id"] for r in catalogue.search(conn, Query(text=text, limit=CUTOFF_RECALL))]

    def semantic(text: str) -> list[str]:
        return [r["id"] for r in similarity.search_by_meaning(ws, text, Query(limit=CUTOFF_RECALL))]

    def hybrid(text: str) -> list[str]:
        return [r["id"] for r in similarity.search_hybrid(ws, text, Query(limit=CUTOFF_RECALL))]

    return {"keyword": keyword, "semantic": semantic, "hybrid": hybrid}


def evaluate(questions: list[dict], methods: dict) -> dict:
    """Per method, per question number: (nDCG@10, recall@20, ranked ids)."""
    out: dict[str, dict[int, tuple]] = {}
    for name, rank in methods.items():
        out[name] = {}
        for q in questions:
            ranked = rank(q["text"])
            out[name][q["n"]] = (ndcg(ranked, q["grades"]), recall(ranked, q["grades"]), ranked)
    return out


def table(questions: list[dict], scores: dict, splits) -> list[str]:
    lines = [f"{'method':<9} {'split':<9} {'n':>3}  {'nDCG@10':<22} {'recall@20':<22}"]
    for name in scores:
        for split in splits:
            qs = [q for q in questions if q["split"] == split]
            if not qs:
                continue
            cells = []
            for metric in (0, 1):
                values = [scores[name][q["n"]][metric] for q in qs]
                low, high = interval(values)
                cells.append(f"{sum(values) / len(values):.3f} [{low:.3f}, {high:.3f}]")
            lines.append(f"{name:<9} {split:<9} {len(qs):>3}  {cells[0]:<22} {cells[1]:<22}")
    return lines


def differences(questions: list[dict], scores: dict, splits, base: str = "keyword") -> list[str]:
    """Each method's nDCG@10 minus the base method's, question by question: the mean and its 95% interval (a method
    wins only where the interval lies above zero)."""
    lines = []
    for name in scores:
        if name == base or base not in scores:
            continue
        for split in splits:
            qs = [q for q in questions if q["split"] == split]
            if qs:
                diff = [scores[name][q["n"]][0] - scores[base][q["n"]][0] for q in qs]
                low, high = interval(diff)
                lines.append(
                    f"{name} - {base:<9} {split:<9} nDCG@10 {sum(diff) / len(diff):+.3f} [{low:+.3f}, {high:+.3f}]"
                )
    return lines


def per_question(questions: list[dict], scores: dict) -> list[str]:
    lines = []
    for q in questions:
        lines.append(f"\n#{q['n']} ({q['split']}) {q['text']}")
        for name in scores:
            n, r, ranked = scores[name][q["n"]]
            top = ", ".join(f"{w}{'*' * q['grades'].get(w, 0)}" for w in ranked[:5])
            lines.append(f"  {name:<9} nDCG {n:.2f} recall {r:.2f}  {top}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=SPLITS, help="only these questions")
    parser.add_argument("--per-question", action="store_true")
    parser.add_argument("--method", action="append", help="only this method (repeatable)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from kb.workspace import Workspace

    ws = Workspace.find(REPO / "data")
    questions = [q for q in load_questions() if not args.split or q["split"] == args.split]
    methods = {k: v for k, v in rankers(ws).items() if not args.method or k in args.method}
    scores = evaluate(questions, methods)
    splits = [args.split] if args.split else SPLITS
    print("\n".join(table(questions, scores, splits)))
    print("\n".join(differences(questions, scores, splits)))
    if args.per_question:
        print("\n".join(per_question(questions, scores)))


if __name__ == "__main__":
    main()
