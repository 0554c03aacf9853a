"""The evidence-first tagger, leave one set out: each set of works curated blind to it, scored by a tagger fitted
without that set, and the counts pooled.

    .venv/bin/python bench/tagger_sets.py [--json] [--misses | --curve] [--embed]

The sets are the files bench/tagger_added_*.txt named in SETS (each scored as `kb tag eval --rules-only
--works-from FILE` scores it: fitted on the tuning part of the split less that file's works) and the held-out part
of the split (`kb tag eval --rules-only --part held-out`: fitted on the whole tuning part). The held-out part
shares works with the files; its row is printed whole, as the command gives it, but pooled only with the works no
file names, so no work is counted twice (a second pooled row adds the whole held-out part, as four `kb tag eval`
runs summed would). Pooled: stated-motivation precision and recall (95% Wilson) from the summed
counts, technique macro F1 from the summed counts per technique (and the mean of the sets' own macro F1). --misses
prints, per set, every positive the tagger did not propose and every wrong proposal, with the model's scores: what
to read before changing the model. --embed gives the tagger the abstracts' MiniLM embeddings (as `kb tag eval`
without --rules-only does; the methods extra; computed once, kept in build/). --curve prints the pooled precision
and recall under other threshold rules (each set's fitted threshold scaled, or fitted by another F-beta) and the
most recall each reaches at precision 0.90 and 0.85: what the aims cost at the current ranking. Reads data/
through the catalogue, rebuilt first if stale, like `kb tag eval`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Set
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SETS = (
    "tagger_added_after_freeze.txt",
    "tagger_added_batch3.txt",
    "tagger_added_batch4.txt",
    "tagger_added_batch5.txt",
    "tagger_added_batch6.txt",
    "tagger_added_batch7.txt",
    "tagger_added_batch8.txt",
    "tagger_added_batch9.txt",
    "tagger_added_batch10.txt",
    "tagger_added_batch11.txt",
    "tagger_added_batch12.txt",
)


def listed(path: Path, known: Set[str]) -> frozenset[str]:
    """The works a set's file names; an id the catalogue does not hold stops the run (a set must not shrink
    silently)."""
    from kb import tagging

    named = tagging.listed_ids(path.read_text().splitlines())
    unknown = [f"{path.name}:{n}: {work}" for n, work in named if work not in known]
    if unknown:
        sys.exit("no such work in the catalogue: " + "; ".join(unknown))
    return frozenset(work for _, work in named)


def catalogue_works() -> dict:
    from kb import catalogue
    from kb.workspace import Workspace

    with Workspace.find().connect() as conn:  # rebuilt first if data/ changed
        return catalogue.export(conn)


def embedder():
    """The catalogue's embedding store's embed (kb tag eval's, without --rules-only)."""
    from kb.embeddings import Store
    from kb.workspace import Workspace

    return Store(Workspace.find().embeddings_path).embed


def scored_sets(exported: dict, embed=None) -> list[tuple[str, list, object, bool]]:
    """(name, works scored, the tagger fitted without them, pooled or not) per set."""
    from kb import tagging

    works, vocabulary = exported["works"], (exported["techniques"], exported["motivations"])
    named: frozenset[str] = frozenset()
    out = []
    known = {w["id"] for w in works}
    for name in SETS:
        ids = listed(REPO / "bench" / name, known)
        named |= ids
        tagger = tagging.EvidenceTagger(*vocabulary, embed).fit(tagging.fitting_set(works, ids))
        out.append((name, [w for w in works if w["id"] in ids], tagger, True))
    tagger = tagging.EvidenceTagger(*vocabulary, embed).fit(tagging.fitting_set(works))
    held = [w for w in works if tagging.held_out(w["id"])]
    out.append(("held-out part", held, tagger, False))
    out.append(("held-out part, works no file names", [w for w in held if w["id"] not in named], tagger, True))
    return out


def misses(name: str, works: list, tagger) -> list[dict]:
    """Each curated positive the tagger missed and each proposal that is wrong, with the model's score."""
    from kb import tagging
    from kb.evidence_model import positives

    model, rows = tagger.motivation_model, []
    for w in works:
        if not tagging._has_text(w):
            continue
        said = positives(w)
        proposed = {p.slug: p.evidence for p in tagger.propose(w["abstract"]) if p.kind == "motivation"}
        scores = model.score(tagging.sentences(w["abstract"]), w["abstract"]) if model else {}
        for slug in set(said) ^ set(proposed):
            rows.append(
                {
                    "set": name,
                    "work": w["id"],
                    "slug": slug,
                    "error": "missed" if slug in said else "wrong",
                    "quote": (said.get(slug) or [proposed.get(slug)])[0],
                    "likeliest": {s: [round(p, 3), sentence] for s, (p, sentence) in scores.items()},
                    "threshold": round(model.threshold, 3) if model else None,
                }
            )
    return rows


SCALES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0)
BETAS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.5)


def scored_works(works: list, tagger) -> tuple[list[tuple[float, bool]], int]:
    """Each work's one motivation score and whether the curators have that motivation as stated or partly stated,
    and how many such positives the works have (what kb.tagging._count counts, threshold aside)."""
    from kb import tagging
    from kb.evidence_model import positives

    model, out, wanted = tagger.motivation_model, [], 0
    for w in works:
        if not tagging._has_text(w):
            continue
        said = positives(w)
        wanted += len(said)
        for slug, (p, _) in (model.score(tagging.sentences(w["abstract"]), w["abstract"]) if model else {}).items():
            out.append((p, slug in said))
    return out, wanted


def curve(scored: list[tuple[str, list, object, bool]]) -> list[dict]:
    """Pooled stated-motivation precision and recall under other threshold rules, each set's threshold from its own
    fitting set as before: the fitted threshold scaled, and the out-of-fold F-beta for other betas."""
    per_set = [(tagger.motivation_model, *scored_works(works, tagger)) for _, works, tagger, pool in scored if pool]

    def pooled(rule: str, cut) -> dict:
        tp = sum(right for model, pairs, _ in per_set for p, right in pairs if p >= cut(model))
        proposed = sum(p >= cut(model) for model, pairs, _ in per_set for p, _ in pairs)
        wanted = sum(n for _, _, n in per_set)
        return {
            "rule": rule,
            "right": tp,
            "proposed": proposed,
            "positives": wanted,
            "precision": round(tp / proposed, 3) if proposed else None,
            "recall": round(tp / wanted, 3),
        }

    rows = [pooled(f"fitted threshold x {s}", lambda m, s=s: s * m.threshold) for s in SCALES]
    rows += [pooled(f"out-of-fold F-beta, beta {b}", lambda m, b=b: m.fitted_threshold(b)[0]) for b in BETAS]
    return rows


def frontier(rows: list[dict], floor: float) -> dict | None:
    """The rule with the highest pooled recall at pooled precision >= floor."""
    return max((r for r in rows if (r["precision"] or 0) >= floor), key=lambda r: r["recall"], default=None)


def main(argv: list[str] | None = None) -> int:
    from kb import tagging

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--misses", action="store_true", help="print each missed positive and wrong proposal")
    parser.add_argument(
        "--curve", action="store_true", help="print pooled precision and recall under other threshold rules"
    )
    parser.add_argument("--embed", action="store_true", help="the topic model reads the abstracts' embeddings too")
    args = parser.parse_args(argv)
    exported = catalogue_works()
    up = tagging.ancestry(exported["techniques"])
    rows, pooled, overlapping, wrong = [], {}, {}, []
    scored = scored_sets(exported, embedder() if args.embed else None)
    if args.curve:
        rules = curve(scored)
        best = {str(f): frontier(rules, f) for f in (0.9, 0.85)}
        if args.json:
            print(json.dumps({"curve": rules, "frontier": best}, indent=1))
            return 0
        print("rule | right / proposed | positives | precision | recall")
        for r in rules:
            print(f"{r['rule']} | {r['right']} / {r['proposed']} | {r['positives']} | {r['precision']} | {r['recall']}")
        for f, r in best.items():
            print(f"highest pooled recall at precision >= {f}: " + (f"{r['recall']} ({r['rule']})" if r else "none"))
        return 0
    for name, works, tagger, pool in scored:
        counts = tagging._count(tagger, works, exported["techniques"], up)
        figures = tagging._figures(counts)
        rows.append({"set": name, "pooled": pool, **figures})
        if pool:
            pooled = tagging._add(pooled, counts) if pooled else counts
            if args.misses:
                wrong += misses(name, works, tagger)
        if name != "held-out part, works no file names":
            overlapping = tagging._add(overlapping, counts) if overlapping else counts
    total = {"set": "pooled", **tagging._figures(pooled)}
    twice = {
        "set": "pooled, the whole held-out part (its works in a file counted twice)",
        **tagging._figures(overlapping),
    }
    total["technique_macro_f1_mean_of_sets"] = round(
        sum(r["technique_macro_f1"] for r in rows if r["pooled"]) / sum(r["pooled"] for r in rows), 3
    )
    if args.json:
        print(json.dumps({"sets": rows, "pooled": total, "pooled_overlapping": twice, "misses": wrong}, indent=1))
        return 0
    print(
        "set | works | proposed / positives | precision (95% Wilson) | recall (95% Wilson) | works stating p, r"
        " | technique macro F1"
    )
    for r in [*rows, total, twice]:
        s, ws = r["stated"], r["works_stating"]
        print(
            f"{r['set']} | {r['motivation_works']} | {s['proposed']} / {s['positives']} | {s['precision']} "
            f"{s['precision_ci']} | {s['recall']} {s['recall_ci']} | {ws['precision']}, {ws['recall']} | "
            f"{r['technique_macro_f1']}"
        )
    print(f"technique macro F1, mean of the pooled sets: {total['technique_macro_f1_mean_of_sets']}")
    for m in wrong:
        print(f"\n[{m['error']}] {m['set']} {m['work']} {m['slug']} (threshold {m['threshold']}): {m['quote']}")
        for slug, (p, sentence) in m["likeliest"].items():
            print(f"    likeliest {slug} {p}: {sentence}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
