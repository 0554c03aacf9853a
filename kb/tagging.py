"""Suggesting techniques and x-risk motivations for works nobody has tagged, with evidence.

Two taggers, combined: a rule tagger that matches each taxonomy entry's keywords in the title,
abstract and summary (the matched sentence is the evidence), and a learned tagger that trains one
linear probe per tag (kb.methods' LogisticProbe) on MiniLM embeddings of the curated works, calibrated
on out-of-fold scores so its confidence is a probability. A motivation is "stated" when a sentence of
the work's own title or abstract says it, and "inferred" otherwise. `kb tag eval` measures all this
against the curated labels with cross-validation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any

import numpy as np

from kb.query import CURATED

# a work record: the catalogue's (kb.catalogue.workrecord) or any dict with its keys
Work = Mapping[str, Any]

THRESHOLD = 0.5


@dataclass
class Suggestion:
    kind: str  # "technique" or "motivation"
    slug: str
    confidence: float
    by: str  # "rule" or "model"
    evidence: str


# Where an abstract's sentence ends: after . ! or ? (and a closing quote or bracket), before what can start a sentence
# (a capital, a digit, an opening quote or bracket), and not after an abbreviation that a capital often follows ("e.g.
# GPT-4", "et al. (2022)", a name's initial); or at a line break. A lower-case word never starts one ("i.e. that").
ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "vs.", "cf.", "Fig.", "Figs.", "Eq.", "Sec.", "approx.", "resp.")
_BREAK = re.compile(
    "".join(rf"(?<!{re.escape(a)})" for a in ABBREVIATIONS)
    + r"(?<!\b[A-Z]\.)"  # nor after an initial
    + r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))[ \t]+(?=[A-Z0-9\"'“‘(\[])"  # an end, spaces, a sentence's start
    + r"|\s*\n\s*"
)


def sentences(text: str) -> list[str]:
    """The sentences of a text, stripped; each one a piece of the text as it is."""
    return [s.strip() for s in _BREAK.split(text or "") if s.strip()]


def _pattern(keyword: str) -> re.Pattern:
    # an all-capitals keyword (LAT, CCS, SAE) must match as written; others ignore case
    flags = 0 if keyword.isupper() and len(keyword) <= 5 else re.IGNORECASE
    return re.compile(rf"(?<![\w-]){re.escape(keyword)}(?:s|es)?(?![\w-])", flags)  # plurals too


class RuleTagger:
    """Keyword rules from data/taxonomy.toml: a technique's or motivation's name and its keywords."""

    def __init__(self, techniques: list[dict], motivations: list[dict]):
        self.rules = []
        for kind, items in (("technique", techniques), ("motivation", motivations)):
            for t in items:
                patterns = [_pattern(k) for k in sorted({t["name"], *t.get("keywords", [])})]
                # one alternation per case mode screens a field in a single search; most tags match nothing
                screen = [
                    re.compile("|".join(f"(?:{p.pattern})" for p in patterns if p.flags & re.I == flag), flag)
                    for flag in (re.I, 0)
                    if any(p.flags & re.I == flag for p in patterns)
                ]
                self.rules.append((kind, t["slug"], patterns, screen))

    def suggest(self, title: str, abstract: str = "", summary: str = "") -> list[Suggestion]:
        fields = {"title": title or "", "abstract": abstract or "", "summary": summary or ""}
        weights = {"title": 1.0, "abstract": 0.6, "summary": 0.4}
        out = []
        for kind, slug, patterns, screen in self.rules:
            score, evidence, stated = 0.0, None, False
            for field, text in fields.items():
                if not any(r.search(text) for r in screen):
                    continue
                hits = [p for p in patterns if p.search(text)]
                if not hits:
                    continue
                score += weights[field] * len(hits)
                if evidence is None:  # the first sentence that matches, and the words it matched
                    sentence = next(s for s in sentences(text) if any(p.search(s) for p in hits))
                    words = sorted({m.group(0) for p in hits for m in p.finditer(sentence)})
                    evidence = f"{field}: “{sentence[:220]}” ({', '.join(words)})"
                    stated = field in ("title", "abstract")
            if score and evidence is not None:  # a score comes with the evidence of its first match
                confidence = min(0.95, 1 - math.exp(-1.2 * score))
                if kind == "motivation":  # a keyword is no statement: only the evidence-first tagger says stated
                    evidence = (
                        "keywords in the work's own text — " if stated else "keywords in a summary — "
                    ) + evidence
                out.append(Suggestion(kind, slug, round(confidence, 3), "rule", evidence))
        return out


class CalibratedProbe:
    """A LogisticProbe whose scores are mapped to probabilities by Platt scaling on out-of-fold scores."""

    def __init__(self, C: float = 1.0, folds: int = 3, random_state: int = 0):
        self.C, self.folds, self.random_state = C, folds, random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> CalibratedProbe:
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        from kb.methods.probes import LogisticProbe

        folds = min(self.folds, int(y.sum()), int(len(y) - y.sum()))
        scores = np.zeros(len(y))
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=self.random_state).split(X, y):
            scores[test] = LogisticProbe(C=self.C).fit(X[train], y[train]).decision_function(X[test])
        self.probe_ = LogisticProbe(C=self.C).fit(X, y)
        self.platt_ = LogisticRegression().fit(scores[:, None], y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.platt_.predict_proba(self.probe_.decision_function(X)[:, None])[:, 1]


class ModelTagger:
    """One calibrated probe per tag with enough curated examples."""

    def __init__(self, min_positives: int = 3, C: float = 1.0):
        self.min_positives, self.C = min_positives, C

    def fit(self, X: np.ndarray, labels: dict[str, np.ndarray]) -> ModelTagger:
        self.probes_ = {}
        for tag, y in labels.items():
            if self.min_positives <= y.sum() <= len(y) - self.min_positives:
                self.probes_[tag] = CalibratedProbe(self.C).fit(X, y)
        return self

    def predict_proba(self, X: np.ndarray) -> dict[str, np.ndarray]:
        return {tag: probe.predict_proba(X) for tag, probe in self.probes_.items()}


def combine(rule: float, model: float) -> float:
    """Noisy-OR: either tagger alone can carry a tag; together they are surer."""
    return 1 - (1 - rule) * (1 - model)


# -- labels, evaluation ------------------------------------------------------------------------------


def ancestry(techniques: list[dict]) -> dict[str, list[str]]:
    from kb.tree import Tree

    tree = Tree.of(techniques)
    return {slug: tree.lineage(slug) for slug in tree.parent}


def curated(work: Work, kind: str) -> set[str]:
    return {t["slug"] for t in work[f"{kind}s"] if t["by"] in CURATED}


def label_matrix(
    works: Sequence[Work], kind: str, techniques: list[dict], motivations: list[dict]
) -> dict[str, np.ndarray]:
    """Curated labels; a technique counts for all its ancestors (probing is representation reading)."""
    up = ancestry(techniques) if kind == "technique" else {m["slug"]: [m["slug"]] for m in motivations}
    slugs = list(up)
    Y = {s: np.zeros(len(works), dtype=int) for s in slugs}
    for i, w in enumerate(works):
        for tag in curated(w, kind):
            for a in up.get(tag, [tag]):
                Y[a][i] = 1
    return Y


def expand(scores: dict[str, float], up: dict[str, list[str]]) -> dict[str, float]:
    out = dict(scores)
    for slug, p in scores.items():
        for a in up.get(slug, [slug]):
            out[a] = max(out.get(a, 0.0), p)
    return out


def prf(y: np.ndarray, p: np.ndarray) -> tuple[float, float, float]:
    tp, fp, fn = int(((p == 1) & (y == 1)).sum()), int(((p == 1) & (y == 0)).sum()), int(((p == 0) & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate(
    works: Sequence[Work],
    techniques: list[dict],
    motivations: list[dict],
    embed,
    folds: int = 5,
    min_positives: int = 3,
    seed: int = 0,
) -> dict:
    """Cross-validated precision/recall/F1 per tag for the rule, model and combined taggers.

    Only works with curated tags take part; the model never sees a work it is scored on (K folds).
    embed(texts) -> unit vectors, or None to evaluate the rules alone.
    """
    from sklearn.model_selection import KFold

    from kb.embeddings import work_text

    rules = RuleTagger(techniques, motivations)
    results = {}
    for kind in ("technique", "motivation"):
        pool = [w for w in works if curated(w, kind)]
        Y = label_matrix(pool, kind, techniques, motivations)
        up = _lineage(kind, techniques, motivations)
        rule_scores = [expand({s.slug: s.confidence for s in _rule(rules, w) if s.kind == kind}, up) for w in pool]
        model_scores: list[dict[str, float]] = [{} for _ in pool]
        if embed is not None and len(pool) >= folds:
            X = embed([work_text(w) for w in pool])
            for train, test in KFold(folds, shuffle=True, random_state=seed).split(X):
                tagger = ModelTagger(min_positives).fit(X[train], {t: y[train] for t, y in Y.items()})
                for tag, probs in tagger.predict_proba(X[test]).items():
                    for i, p in zip(test, probs):
                        model_scores[i][tag] = float(p)
        rows = _score_rows(Y, rule_scores, model_scores, min_positives, with_model=embed is not None)
        results[kind] = {"works": len(pool), "tags": rows, "macro_f1": _macro(rows)}
    return results


def evaluate_held_out(
    works: Sequence[Work],
    techniques: list[dict],
    motivations: list[dict],
    embed,
    held_out: set[str],
    min_positives: int = 3,
) -> dict:
    """Precision/recall/F1 per tag on the curated works in held_out, which the learned tagger never sees.

    The keyword rules are used as they are; the learned tagger is trained on the other curated works only.
    For works added after the taxonomy's keywords were written this is the figure cross-validation cannot
    give (it also scores the works the keywords were chosen by looking at); whether the keywords were later
    revised with these works in view is the curators' to say. A tag takes part when it has at least
    min_positives positives among the held-out works.
    """
    from kb.embeddings import work_text

    rules = RuleTagger(techniques, motivations)
    results = {}
    for kind in ("technique", "motivation"):
        pool = [w for w in works if curated(w, kind)]
        test = [w for w in pool if w["id"] in held_out]
        train = [w for w in pool if w["id"] not in held_out]
        up = _lineage(kind, techniques, motivations)
        Y = label_matrix(test, kind, techniques, motivations)
        rule_scores = [expand({s.slug: s.confidence for s in _rule(rules, w) if s.kind == kind}, up) for w in test]
        model_scores: list[dict[str, float]] = [{} for _ in test]
        if embed is not None and test and len(train) >= 2 * min_positives:
            Y_train = label_matrix(train, kind, techniques, motivations)
            X = embed([work_text(w) for w in train + test])
            tagger = ModelTagger(min_positives).fit(X[: len(train)], Y_train)
            for tag, probs in tagger.predict_proba(X[len(train) :]).items():
                for i, p in enumerate(probs):
                    model_scores[i][tag] = float(p)
        rows = _score_rows(Y, rule_scores, model_scores, min_positives, with_model=embed is not None)
        results[kind] = {
            "works": len(test),
            "trained_on": len(train),
            # the model never sees them; whether the keywords were written without them is the curators' word,
            # which the code cannot check: the label says only what the code guarantees
            "setting": "held out from the model's training",
            "tags": rows,
            "macro_f1": _macro(rows),
        }
    return results


def _lineage(kind: str, techniques: list[dict], motivations: list[dict]) -> dict[str, list[str]]:
    return ancestry(techniques) if kind == "technique" else {m["slug"]: [m["slug"]] for m in motivations}


def _score_rows(
    Y: dict[str, np.ndarray], rule_scores: list[dict], model_scores: list[dict], min_positives: int, with_model: bool
) -> list[dict]:
    """One row per tag with enough positives: precision, recall and F1 of each tagger at the threshold."""
    rows = []
    for tag, y in Y.items():
        if y.sum() < min_positives:
            continue
        row = {"tag": tag, "positives": int(y.sum())}
        taggers = {
            "rule": [r.get(tag, 0.0) for r in rule_scores],
            "model": [m.get(tag, 0.0) for m in model_scores],
            "combined": [combine(r.get(tag, 0.0), m.get(tag, 0.0)) for r, m in zip(rule_scores, model_scores)],
        }
        for name, scores in taggers.items():
            if name != "rule" and not with_model:
                continue
            pred = np.array([int(p >= THRESHOLD) for p in scores], dtype=int)
            row.update(dict(zip((f"{name}_p", f"{name}_r", f"{name}_f1"), (round(v, 3) for v in prf(y, pred)))))
        rows.append(row)
    return rows


def _macro(rows: list[dict]) -> dict[str, float]:
    return {
        name: round(float(np.mean([r[f"{name}_f1"] for r in rows])), 3)
        for name in ("rule", "model", "combined")
        if rows and f"{name}_f1" in rows[0]
    }


def _rule(rules: RuleTagger, w: Work) -> list[Suggestion]:
    return rules.suggest(w["title"], w.get("abstract") or "", (w.get("summary") or {}).get("body") or "")


# -- suggesting for the works nobody tagged ------------------------------------------------------


def suggest(
    works: Sequence[Work], techniques: list[dict], motivations: list[dict], embed
) -> dict[str, list[Suggestion]]:
    """For each work without curated techniques: suggestions of both kinds, combined, above the threshold."""
    from kb.embeddings import work_text

    rules = RuleTagger(techniques, motivations)
    targets = [w for w in works if not curated(w, "technique")]
    if not targets:
        return {}
    model_probs: dict[str, dict[str, list[float]]] = {}
    if embed is not None:
        X_all = embed([work_text(w) for w in works])
        index = {w["id"]: i for i, w in enumerate(works)}
        for kind in ("technique", "motivation"):
            train = [w for w in works if curated(w, kind)]
            if len(train) < 6:
                continue
            Y = label_matrix(train, kind, techniques, motivations)
            tagger = ModelTagger().fit(X_all[[index[w["id"]] for w in train]], Y)
            probs = tagger.predict_proba(X_all[[index[w["id"]] for w in targets]])
            model_probs[kind] = {tag: list(p) for tag, p in probs.items()}
    out = {}
    for n, w in enumerate(targets):
        by_tag: dict[tuple[str, str], Suggestion] = {(s.kind, s.slug): s for s in _rule(rules, w)}
        merged = []
        keys = set(by_tag) | {(k, t) for k, probs in model_probs.items() for t in probs}
        for kind, slug in sorted(keys):
            rule = by_tag.get((kind, slug))
            tag_probs = model_probs.get(kind, {}).get(slug)
            model = tag_probs[n] if tag_probs else 0.0
            p = combine(rule.confidence if rule else 0.0, model)
            if p < THRESHOLD:
                continue
            if rule and model < THRESHOLD / 2:
                merged.append(Suggestion(kind, slug, round(p, 3), "rule", rule.evidence))
            else:
                evidence = f"probe on the embedding of the title and text: p = {model:.2f}" + (
                    f"; {rule.evidence}" if rule else ""
                )
                if kind == "motivation" and not rule:
                    evidence = "inferred (no sentence states it) — " + evidence
                merged.append(
                    Suggestion(kind, slug, round(p, 3), "model" if model >= THRESHOLD / 2 else "rule", evidence)
                )
        out[w["id"]] = merged
    return out


def retag(ds, suggestions: dict[str, list[Suggestion]], embed=None):
    """The dataset's works with each work's rule and model tags replaced by the new suggestions.
    Curated tags are never touched. A suggested motivation is inferred (its reasoning: what the tagger saw), unless
    the evidence-first tagger finds the sentence of the abstract that states it: then it is stated, with that
    sentence as its quote."""
    from kb.store.records import MotivationTag, Tag, Work

    evidence = EvidenceTagger([t.model_dump() for t in ds.techniques], [m.model_dump() for m in ds.motivations], embed)
    evidence.fit(fitting_set([w.model_dump() for w in ds.works]))  # learns from the tuning part only
    works, changed = [], []
    for w in ds.works:
        new = suggestions.get(w.id)
        if new is None:
            works.append(w)
            continue
        fields = {}
        kept = [t for t in w.techniques if t.by in CURATED]
        have = {t.slug for t in kept}
        fields["techniques"] = kept + [
            Tag(slug=s.slug, by=s.by, confidence=s.confidence, evidence=s.evidence[:500])
            for s in new
            if s.kind == "technique" and s.slug not in have
        ]
        kept = [t for t in w.motivations if t.by in CURATED]
        have = {t.slug for t in kept}
        stated = {p.slug: p for p in evidence.propose(w.abstract or "") if p.kind == "motivation"}
        inferred = {s.slug: s for s in new if s.kind == "motivation"}
        fields["motivations"] = kept + [
            MotivationTag(
                slug=slug,
                status=stated[slug].status,
                by="rule",
                confidence=STATED_CONFIDENCE,
                quote=stated[slug].evidence,
                where="abstract",
            )
            if slug in stated
            else MotivationTag(
                slug=slug,
                status="inferred",
                by=inferred[slug].by,
                confidence=inferred[slug].confidence,
                reasoning=inferred[slug].evidence[:500],
            )
            for slug in sorted(set(stated) | set(inferred), key=[m.slug for m in ds.motivations].index)
            if slug not in have
        ]
        updated = Work.model_validate({**w.model_dump(), **fields})
        if updated != w:
            changed.append(w.id)
        works.append(updated)
    return works, changed


# -- the workflows behind `kb tag` ---------------------------------------------------------------------


def _embedder(ws, note):
    from kb.embeddings import MissingExtra, Store

    store = Store(ws.embeddings_path)
    try:
        _ = store.model_dir  # finds the packaged model, or raises: tells whether embeddings are possible
    except MissingExtra as e:
        note(f"{e}; using the keyword rules alone")
        return None
    return store.embed


def explain(ws, work: str, rules_only: bool = False, note=print) -> tuple[str, list]:
    """(work id, suggestions) for one work as if it had no curated tags, so the taggers show their reasoning."""
    from kb import catalogue

    with ws.connect() as conn:
        exported = catalogue.export(conn)
        work = catalogue.get_work(conn, work)["id"]
    works = [dict(w, techniques=[], motivations=[]) if w["id"] == work else w for w in exported["works"]]
    embed = None if rules_only else _embedder(ws, note)
    suggestions = suggest(works, exported["techniques"], exported["motivations"], embed)
    return work, suggestions.get(work, [])


def apply(ws, rules_only: bool = False, note=print) -> tuple[dict, list[str]]:
    """Tag every work that has no curated tags and write the suggestions into data/: (suggestions, changed ids).

    Raises kb.store.problems.DataProblems when data/ does not load cleanly: nothing is written then."""
    import dataclasses

    from kb import catalogue

    with ws.connect() as conn:
        exported = catalogue.export(conn)
    embed = None if rules_only else _embedder(ws, note)
    suggestions = suggest(exported["works"], exported["techniques"], exported["motivations"], embed)
    if embed is not None:  # the evidence-first tagger's abstracts, embedded now: retag fits it under the lock
        embed([w["abstract"] for w in exported["works"] if w.get("abstract")])
    changed: list[str] = []

    def retagged(ds):  # data/ as it is now, under the lock: an import may have landed while the taggers ran
        nonlocal changed
        new_works, changed = retag(ds, suggestions, embed)
        return dataclasses.replace(ds, works=new_works) if changed else None

    ws.update(retagged)
    return suggestions, changed


def evaluate_catalogue(
    ws,
    folds: int = 5,
    rules_only: bool = False,
    note=print,
    added_since: str | None = None,
    only: tuple[str, ...] = (),
    part: str = "held-out",
) -> dict:
    """`kb tag eval`: the taggers measured against the catalogue's curated labels, cross-validated.

    With added_since (a date, YYYY-MM-DD) or only (work ids), measured instead on those works alone, held
    out: the works added to data/ on or after that day, which the taxonomy's keywords were not written for. The
    evidence-first tagger comes first, measured on `part` of its split (held-out by default; "tuning" is a training
    score)."""
    from kb import catalogue

    with ws.connect() as conn:
        exported = catalogue.export(conn)
        held_out = {catalogue.get_work(conn, w)["id"] for w in only}
    if added_since is not None:
        held_out |= {w["id"] for w in exported["works"] if w["added"] and w["added"][:10] >= added_since}
    vocabulary = exported["techniques"], exported["motivations"]
    embed = None if rules_only else _embedder(ws, note)
    if added_since is not None or only:
        first = {
            "evidence-first": evaluate_evidence(exported["works"], *vocabulary, "added", frozenset(held_out), embed)
        }
    else:
        first = {"evidence-first": evaluate_evidence(exported["works"], *vocabulary, part, embed=embed)}
    if added_since is None and not only:
        return first | evaluate(exported["works"], exported["techniques"], exported["motivations"], embed, folds=folds)
    return first | evaluate_held_out(
        exported["works"], exported["techniques"], exported["motivations"], embed, held_out
    )


# -- the evidence-first tagger ---------------------------------------------------------------------------------
#
# It proposes what it can show: a technique with the phrase of the text that names it; a motivation as "stated"
# only with the sentence of the text that states it (one naming both catastrophic stakes and the motivation,
# CONTRIBUTING.md's standard), as "partly-stated" with one naming a safety concern and the motivation. The evidence
# is always a piece of the text it was given, never a paraphrase: what `kb tag` writes as a quote is then checked
# by `kb validate` against the stored abstract.
#
# The words below were first written from that standard, then revised on the tuning part of the split only
# (held_out() keeps a third of the curated works sealed, never read while they were written).

# A sentence states a motivation when it names catastrophic stakes (CONTRIBUTING.md's "stated") ...
STAKES = (
    "catastroph",
    "existential",
    "x-risk",
    "extinction",
    "takeover",
    "take over",
    "seize power",
    "power-seeking",
    "loss of control",
    "lose control",
    "misaligned",
    "misalignment",
    "deceptive alignment",
    "deceptively aligned",
    "deceptive strateg",
    "strategically deceptive",
    "alignment faking",
    "scheming",
    "sabotage",
    "bioweapon",
    "biological weapon",
    "chemical weapon",
    "weapons of mass destruction",
    "superhuman",
    "superintelligen",
    "advanced AI",
    "powerful AI",
    "AI safety",
    "hidden objective",
    "hidden goal",
    "shut down",
    "shutdown",
    "dangerous capabilit",
    "dangerously capable",
    "extreme risk",
    "irreversibl",
    "AGI",
    "transformative AI",
    "sandbag",
    "resource acquisition",
    "goal preservation",
    "human control",
)
# ... and partly states it when it names a safety concern without those stakes (misuse, harm, honesty, trust).
CONCERNS = (
    "safety",
    "safe",
    "harm",
    "misuse",
    "malicious",
    "jailbreak",
    "attack",
    "adversarial",
    "alignment",
    "honest",
    "truthful",
    "falsehood",
    "lie",
    "lying",
    "deceiv",
    "decept",
    "governance",
    "assurance",
    "undesir",
    "concerning",
    "failure mode",
    "high-stakes",
    "high-impact",
    "dual-use",
    "bad actor",
    "backdoor",
    "reward hack",
    "sycophan",
    "vulnerab",
    "manipulat",
    "unintended",
    "dangerous",
)
MOTIVATION_CUES = {  # most specific first: a sentence naming several is about the first
    "risk-analysis": ("risk", "threat", "agenda", "priorit", "hazard"),
    "deception": (
        "decept",
        "deceiv",
        "lie",
        "lying",
        "honest",
        "dishonest",
        "truth",
        "falsehood",
        "false statement",
        "latent knowledge",
        "sleeper",
        "conceal",
        "sandbag",
        "hidden",
        "manipulat",
        "sycophan",
        # the standard's own words for deception at scale ("deceptive or scheming models, models that hide goals"):
        # without them a scheming model's sentence went to monitoring or control (bench/tagger_sets.py, wip-tagger6)
        "scheming",
        "schemer",
        "alignment fak",
        "hide",
        "hiding",
    ),
    "monitoring": (
        "monitor",
        "detect",
        "catch",
        "flag",
        "oversight",
        "oversee",
        "control measure",
        "control protocol",
        "control evaluation",
        "untrusted",
        "subver",
        "collu",
        "tamper",
    ),
    "control": (
        "steer",
        "controll",
        "prevent",
        "refus",
        "unlearn",
        "mitigat",
        "safeguard",
        "jailbreak",
        "harmless",
        "defen",
    ),
    "auditing": ("audit", "interpretab", "transparen", "inspect", "assurance"),
}


def _stems(words) -> re.Pattern:
    """Any of the words at the start of a word (a stem: 'decept' finds 'deceptive'), ignoring case."""
    # a space or a hyphen between a phrase's words stands for either, or none ("power-seeking", "power seeking")
    spelled = (r"[\s-]?".join(map(re.escape, re.split(r"[\s-]+", w))) for w in words)
    return re.compile(r"(?<![\w-])(?:" + "|".join(spelled) + ")", re.IGNORECASE)


_STAKES = _stems(STAKES)
_CONCERNS = _stems(CONCERNS)


@dataclass
class Proposal:
    kind: str  # "technique" or "motivation"
    slug: str
    status: str | None  # "stated" or "partly-stated" for a motivation; None for a technique
    evidence: str  # the piece of the input that shows it: a phrase (technique) or a sentence (motivation)


# Phrases that name a technique, beyond the taxonomy's keywords (which the suggestion tagger shares, so its measured
# figures stay as they are): read off the tuning part's missed works (2026-12-07, and again the same day with the
# cross-validated figures of kb tag eval --part tuning, macro F1 0.755 -> 0.790), each a name of the technique, of its
# object or of what it does, never a work's title words alone; one that misleads in the fitting set is pruned by fit().
# Revised again from the misses of the three sets curated blind to the tagger, each scored by a tagger fitted without
# it (mean technique macro F1 0.812 -> 0.875, a training score: BENCHMARKS.md). Added: chain-of-thought monitoring and
# lie detectors (each in curated works of the tuning part too), SAE variants (crosscoders, transcoders, sparse
# dictionaries), and "linearly encode" beside "linearly represent". Dropped: causal intervention's words of every
# subject, "intervention" and "intervening" (a steering vector is "an intervention" too), "ablating" and "ablated"
# (concept ablation), the taxonomy's "editing" (knowledge and activation editing), and representation control's
# "perturbation" (of weights to prune, of inputs to attribute).
ALIASES = {
    "representation-reading": (
        "linear representation",
        "linearly represent",
        "linear direction",
        "linearly encode",
        "linearly encoded",
        "linearly separable",
    ),
    "probing": ("lie detector",),
    "mean-difference-probing": ("difference-in-mean", "difference in means", "diff-in-mean"),
    # "control vector" and "editing direction" read off the 80 added works' misses (wip-tagger6: a training score)
    "representation-control": (
        "editing representations",
        "representation editing",
        "control vector",
        "editing direction",
    ),
    "activation-steering": ("task vector", "in-context vector", "persona vector"),
    "concept-attribution": ("concept bottleneck", "explaining neurons", "semantic concept"),
    "causal-intervention": ("causally", "causal effect", "causal role"),
    # "heads" was one too, and dropped: attention heads are named as often by steering and pruning works (technique
    # macro F1 cross-validated 0.770 -> 0.774 without it, on the 80 added works 0.735 -> 0.741)
    "circuit-analysis": ("information flow", "motif"),
    "activation-statistics-pruning": ("entropy-based", "activation-based", "activation entropy"),
    "gradient-based-pruning": ("second-derivative", "saliency"),
    "sparse-autoencoders": ("crosscoder", "transcoder", "sparse dictionary"),
    "ai-control": (
        "control measure",
        "safety case",
        "CoT monitoring",
        "chain-of-thought monitoring",
        "CoT monitor",
        "monitorability",
    ),
    "model-organisms": (
        "emergent misalignment",
        "emergently misaligned",
        "password-locked",
        "sandbagging",
        "simulated environment",
        "stress-test",
    ),
    "directional-ablation": ("refusal feature",),
}


# The spellings a phrase of the taxonomy stands for too (phrase_pattern): a space, a hyphen or nothing between its
# words ("difference-in-means", "difference in means"), and after a prefix that writers join either way
# ("auto-encoder", "autoencoder"); British and American "-ise"/"-ize"; a plural. Rules of English, not of the works,
# so that a work the phrases were not written for is read as well as those they were. A verb's other forms and its
# noun ("ablate", "ablated", "ablation") were tried too and dropped: cross-validated on the tuning part (2026-12-07)
# technique macro F1 fell from 0.790 to 0.786 ("pruned", "mediated", "edited" in works without the technique).
JOINED_PREFIXES = ("auto", "multi", "sub", "self", "non")


def _word(word: str, last: bool) -> str:
    prefix = next((p for p in JOINED_PREFIXES if word.lower().startswith(p) and len(word) > len(p) + 3), None)
    out = re.escape(word[: len(prefix)]) + "-?" + re.escape(word[len(prefix) :]) if prefix else re.escape(word)
    out = re.sub(r"(?<=i)s(?=(?:e|ed|es|ing|ation|ations)?$)", "[sz]", out)  # "orthogonalisation", "-ization"
    return out + ("(?:s|es)?" if last else "")


def phrase_pattern(keyword: str) -> re.Pattern:
    """A taxonomy phrase as the evidence-first tagger matches it: in the spellings above, ignoring case; an acronym
    (SAE, CCS) as written, as the rule tagger does."""
    if keyword.isupper() and len(keyword) <= 5:
        return _pattern(keyword)
    words = re.split(r"[\s-]+", keyword.strip())
    body = r"[\s-]?".join(_word(w, i == len(words) - 1) for i, w in enumerate(words))
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", re.IGNORECASE)


DEFINITION_WORDS = 8  # an acronym's definition, "latent adversarial training (LAT)": at most this many words before it
DEFINITION_CHARS = 400  # ... read from at most this many characters before it (eight long words and their spaces)


def defined_otherwise(acronym: str, text: str, phrases: Sequence[re.Pattern]) -> bool:
    """Whether the text spells the acronym out ("... (LAT)") in words that are none of the technique's phrases: the
    same letters naming something else (latent adversarial training is not linear artificial tomography)."""
    # the parenthesis first, then the words before it: one pattern for both backtracks without end on a run of
    # hyphens (a feed's "-----" rule), since a word and what separates words may both be hyphens
    found = re.search(rf"\(\s*{re.escape(acronym)}s?\s*\)", text)
    if found is None:
        return False
    before = re.findall(r"[\w-]+", text[max(0, found.start() - DEFINITION_CHARS) : found.start()])
    definition = " ".join(before[-DEFINITION_WORDS:])
    return bool(definition) and not any(p.search(definition) for p in phrases)


def _within(span: tuple[int, int], others: Sequence[tuple[int, int]]) -> bool:
    """Whether a phrase stands inside a longer phrase of another technique: that one names the other technique, and
    the shorter one nothing ("circuit" in "circuit breakers" names representation rerouting, not circuit analysis;
    "intervention" in "inference-time intervention" representation control). The caller leaves out a technique's
    kin, its ancestors and descendants: "pruning" in "structured pruning" names pruning too. Measured on the three
    sets curated blind to the tagger, each scored fitted without it (2026-12-07): one work changed, a circuit
    breakers paper no longer tagged circuit analysis (mean technique macro F1 0.874 -> 0.875)."""
    start, end = span
    return any(a <= start and end <= b and b - a > end - start for a, b in others)


class EvidenceTagger:
    """Techniques by the phrases that name them, motivations stated by the sentences that state them.

    Built from the taxonomy it proposes by rules alone (a stakes or concern word and a motivation's cue in one
    sentence); fit(works) then learns from curated works (kb.evidence_model): which sentences state a motivation,
    with a threshold weighted for precision (F0.5), and which of the taxonomy's keywords mislead. Either way every
    piece of evidence is a piece of the text it was given."""

    def __init__(self, techniques: list[dict], motivations: list[dict], embed=None):
        # embed: texts -> unit vectors (kb.embeddings.Store.embed), or None; with it the topic model also reads
        # the abstract's sentence embedding (kb.evidence_model.VectorTopic). The evidence stays a piece of the text.
        self.embed = embed
        self.techniques = [
            (
                t["slug"],
                [phrase_pattern(k) for k in sorted({t["name"], *t.get("keywords", []), *ALIASES.get(t["slug"], ())})],
            )
            for t in techniques
        ]
        self.taxonomy = techniques, motivations
        known = {m["slug"] for m in motivations}
        self.cues = {slug: _stems(words) for slug, words in MOTIVATION_CUES.items() if slug in known}
        self.motivation_model: Any = None  # kb.evidence_model.MotivationModel once fitted
        up = ancestry(techniques)  # a technique's kin: itself, its ancestors and its descendants (_within)
        self.kin = {slug: set(line) | {d for d, below in up.items() if slug in below} for slug, line in up.items()}
        # technique -> its ancestors' phrases, for those found only beside them (fit(): evidence_model.context_gates)
        self.gated: dict[str, list[re.Pattern]] = {}

    def fit(self, works: Sequence[Work]) -> EvidenceTagger:
        """Learn from these curated works (the caller's choice: the tuning part of the split, see fitting_set)."""
        from kb import evidence_model as em

        texts = [w for w in works if w.get("abstract") and w.get("abstract_source")]
        vectors = em.Embeddings(self.embed) if self.embed is not None else None
        if vectors is not None:
            vectors([w["abstract"] for w in texts])  # one call for the whole fitting set, not one per work
        model = em.MotivationModel(list(self.cues), self.cues, _STAKES, _CONCERNS, vectors)
        stated = sum(bool(em.positives(w)) for w in texts)
        # with too few works that state a motivation there is nothing to learn from: the rules stand
        self.motivation_model = model.fit(texts, sentences, fold) if stated >= em.MIN_STATING_WORKS else None
        techniques, motivations = self.taxonomy
        pool = [w for w in texts if curated(w, "technique")]
        Y = label_matrix(pool, "technique", techniques, motivations)
        every = dict(self.techniques)  # the phrases as written, before pruning: an ancestor's context is all of them
        read = [tagger_text(w) for w in pool]
        kept = em.prune_keywords(read, Y, every)
        self.techniques = [(slug, kept[slug]) for slug, _ in self.techniques]
        up = ancestry(techniques)
        contexts = {slug: [p for a in up.get(slug, [slug])[1:] for p in every.get(a, [])] for slug in every}
        self.gated = em.context_gates(read, Y, kept, contexts)
        return self

    def _found(self, text: str) -> dict[str, list[tuple[re.Pattern, re.Match]]]:
        """Each technique's phrases where they stand in the text, phrase by phrase."""
        return {slug: [(p, m) for p in patterns for m in p.finditer(text)] for slug, patterns in self.techniques}

    def propose(self, text: str) -> list[Proposal]:
        """What the text shows; every evidence string is a substring of `text`."""
        out = []
        found = self._found(text)
        for slug, patterns in self.techniques:
            words = [p for p in patterns if p.flags & re.IGNORECASE]  # the spelled-out phrases (not acronyms)
            others = [m.span() for other, ms in found.items() if other not in self.kin.get(slug, {slug}) for _, m in ms]
            hit = next(
                (
                    m
                    for p, m in found[slug]
                    if not _within(m.span(), others)
                    and (p in words or not defined_otherwise(m.group(0).rstrip("s"), text, words))
                ),
                None,
            )
            if hit and slug in self.gated and not any(p.search(text) for p in self.gated[slug]):
                hit = None  # a phrase of many subjects, and the text names none of the technique's ancestors
            if hit:
                out.append(Proposal("technique", slug, None, hit.group(0)))
        if self.motivation_model is not None:
            return out + [
                Proposal("motivation", slug, "stated" if _STAKES.search(s) else "partly-stated", s)
                for slug, s in self.motivation_model.propose(sentences(text), text).items()
            ]
        return out + self._rule_motivations(text)

    def _rule_motivations(self, text: str) -> list[Proposal]:
        """A sentence with a stakes (stated) or concern word (partly stated) and a motivation's cue."""
        found: dict[str, Proposal] = {}
        for status, says in (("stated", _STAKES), ("partly-stated", _CONCERNS)):
            for sentence in sentences(text):
                if not says.search(sentence):
                    continue
                # a sentence is about one motivation: the most specific it names (MOTIVATION_CUES' order)
                slug = next((slug for slug, cue in self.cues.items() if cue.search(sentence)), None)
                if slug is not None and slug not in found:  # the first, stronger sentence stands
                    found[slug] = Proposal("motivation", slug, status, sentence)
        return list(found.values())


def tagger_text(work: Work) -> str:
    """What the evidence-first tagger reads for techniques: the title and the authors' own abstract (never a
    curator's note). For motivations it reads the abstract alone: a quote's place is the abstract, and a title's
    few words ('AI Control: ...') name a subject, not a reason."""
    return "\n".join(x for x in (work["title"], work.get("abstract") or "") if x)


# How far a quoted "stated" or "partly-stated" suggestion is to be trusted: the tagger's precision the first time it
# met each set of works curated blind to it (kb tag eval --rules-only --works-from bench/tagger_added_*.txt,
# 2026-12-07/08: 20 of 23, 11 of 11, 7 of 9, 11 of 15, 4 of 8, 3 of 4, 5 of 6, 9 of 9, 7 of 8, and with the words
# alone 3 of 7 and 6 of 6 (with the embedding too, 4 of 8 and 5 of 5); 86 of 106 = 0.811 either way).
# Cross-validation inside the tuning part says more, but the word lists were written by reading that part. A figure
# shown to readers, never a threshold: nothing is decided from it.
STATED_CONFIDENCE = 0.81
# What the evidence-first tagger's topic model reads besides the cue words: `kb tag eval` says which, since the
# embedding needs the methods extra (--rules-only, or without it: the words alone)
READS_WORDS = "the abstract's cue words and learned word stems"
READS_EMBEDDING = READS_WORDS + ", and its MiniLM sentence embedding"
HELD_OUT_EVERY = 3  # one curated work in three is sealed: never looked at while the tagger's words were written


def held_out(work_id: str) -> bool:
    """The sealed part of the split, by a hash of the id: stable as works are added, blind to their content."""
    from kb.evidence_model import hashed_fold

    return hashed_fold(work_id, b"", HELD_OUT_EVERY) == 0  # no salt: the split as first drawn


def fold(work_id: str) -> int:
    """A work's fold for cross-validation inside the tuning part: another hash (salted), so it is unrelated to
    held_out's."""
    from kb.evidence_model import hashed_fold

    return hashed_fold(work_id, b"kb-folds")


def fitting_set(works: Sequence[Work], without: Set[str] = frozenset()) -> list[Work]:
    """What the evidence-first tagger learns from, always: the tuning part of the split (never a held-out work),
    less the works `without` (a set it is to be scored on, as `kb tag eval --works-from` scores one)."""
    return [w for w in works if not held_out(w["id"]) and w["id"] not in without]


def listed_ids(lines: Iterable[str]) -> list[tuple[int, str]]:
    """The work ids a list of works names (a --works-from file, bench/tagger_added_*.txt), with their line numbers:
    one id a line, '#' starting a comment."""
    named = ((n, line.split("#")[0].strip()) for n, line in enumerate(lines, 1))
    return [(n, work) for n, work in named if work]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """The 95% Wilson score interval of a proportion k/n (None when n is 0)."""
    if not n:
        return None
    p = k / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return round((centre - half) / (1 + z * z / n), 3), round((centre + half) / (1 + z * z / n), 3)


def _has_text(w: Work) -> bool:
    return bool(w.get("abstract") and w.get("abstract_source"))


def _count(tagger: EvidenceTagger, scored: Sequence[Work], techniques: list[dict], up: dict) -> dict:
    """Counts of the tagger's proposals against the curated labels of these works (see evaluate_evidence)."""
    m = dict.fromkeys(("tp", "fp", "fn", "strict", "works", "work_tp", "work_fp", "work_fn"), 0)
    # a technique's counts on works with the authors' abstract, and (_title) on those with a title alone
    t = {slug: {k + x: 0 for k in ("tp", "fp", "fn") for x in ("", "_title")} for slug in up}
    tech = {"with_text": 0, "all": 0}
    for w in scored:
        if _has_text(w):
            m["works"] += 1
            said = {x["slug"]: x["status"] for x in w["motivations"] if x["by"] in CURATED}
            positive = {s for s, status in said.items() if status in ("stated", "partly-stated")}
            levels = {p.slug: p.status for p in tagger.propose(w["abstract"]) if p.kind == "motivation"}
            m["tp"] += len(set(levels) & positive)
            m["fp"] += len(set(levels) - positive)
            m["fn"] += len(positive - set(levels))
            m["strict"] += sum(said.get(s) == level for s, level in levels.items())
            # a work said to state some motivation, whichever: the statement found, the motivation aside
            m["work_tp"] += bool(levels) and bool(positive)
            m["work_fp"] += bool(levels) and not positive
            m["work_fn"] += not levels and bool(positive)
        labels = {a for s in curated(w, "technique") for a in up.get(s, [s])}
        if not labels:
            continue
        tech["all"] += 1
        tech["with_text"] += _has_text(w)
        found = {a for p in tagger.propose(tagger_text(w)) if p.kind == "technique" for a in up.get(p.slug, [p.slug])}
        suffix = "" if _has_text(w) else "_title"
        for slug in found | labels:
            t[slug][("tp" if slug in labels and slug in found else "fp" if slug in found else "fn") + suffix] += 1
    return {"motivations": m, "techniques": t, "technique_works": tech}


def recall_ceiling(scored: Sequence[Work], techniques: list[dict], motivations: list[dict]) -> dict:
    """The most an evidence-first tagger could find in these works, whatever its rules: the curated stated or
    partly-stated motivations (a work and a motivation, as evaluate_evidence counts them) one of whose quotes stands
    in the text the tagger reads (the authors' abstract, or a post's own summary: no post body is stored), and the
    curated technique labels (with their ancestors) whose name, a keyword of the taxonomy or an alias
    (ALIASES) stands in the title or abstract. The technique figure is rough: a work may name its technique in words
    no list holds, and a phrase may be there by chance."""
    from kb.store.validate import quoted_in

    up = ancestry(techniques)
    phrases = EvidenceTagger(techniques, motivations).techniques  # unfitted: every phrase, none pruned
    out = dict.fromkeys(("quotes_found", "positives", "quotes_found_all", "positives_all", "named", "labels"), 0)
    for w in scored:
        text = w["abstract"] if _has_text(w) else None
        said: dict[str, list[str]] = {}
        for x in w["motivations"]:
            if x["by"] in CURATED and x.get("status") in ("stated", "partly-stated"):
                said.setdefault(x["slug"], []).append(x.get("quote") or "")
        for quotes in said.values():
            found = any(quoted_in(q, text) for q in quotes)
            out["quotes_found_all"] += found
            out["positives_all"] += 1
            if text:
                out["quotes_found"] += found
                out["positives"] += 1
        labels = {a for s in curated(w, "technique") for a in up.get(s, [s])}
        if labels and text:
            tt = tagger_text(w)
            named = {a for slug, ps in phrases if any(p.search(tt) for p in ps) for a in up.get(slug, [slug])}
            out["named"] += len(labels & named)
            out["labels"] += len(labels)
    return out


def _add(a: dict, b: dict) -> dict:
    return {k: _add(a[k], v) if isinstance(v, dict) else a.get(k, 0) + v for k, v in b.items()}


def _rates(tp: int, fp: int, fn: int) -> dict:
    return {
        "proposed": tp + fp,
        "positives": tp + fn,
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "precision_ci": wilson(tp, tp + fp),
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "recall_ci": wilson(tp, tp + fn),
    }


def _figures(counts: dict) -> dict:
    m = counts["motivations"]
    tp, fp, fn = m["tp"], m["fp"], m["fn"]
    out = {
        "motivation_works": m["works"],
        "stated": {
            **_rates(tp, fp, fn),
            "precision_strict": round(m["strict"] / (tp + fp), 3) if tp + fp else None,  # the level agrees too
        },
        "works_stating": _rates(m["work_tp"], m["work_fp"], m["work_fn"]),
        "technique_works": counts["technique_works"]["with_text"],
        "technique_works_all": counts["technique_works"]["all"],
    }
    for key, suffixes in (("techniques", ("",)), ("techniques_all", ("", "_title"))):
        rows = []
        for slug, c in counts["techniques"].items():
            tp_, fp_, fn_ = (sum(c.get(k + x, 0) for x in suffixes) for k in ("tp", "fp", "fn"))
            if tp_ + fn_ >= 3:
                p = tp_ / (tp_ + fp_) if tp_ + fp_ else 0.0
                r = tp_ / (tp_ + fn_)
                f1 = 2 * p * r / (p + r) if p + r else 0.0
                rows.append(
                    {"tag": slug, "positives": tp_ + fn_, "p": round(p, 3), "r": round(r, 3), "f1": round(f1, 3)}
                )
        out[key] = rows
        out[key.replace("techniques", "technique_macro_f1")] = (
            round(float(np.mean([r["f1"] for r in rows])), 3) if rows else None
        )
    return out


def evaluate_evidence(
    works: Sequence[Work],
    techniques: list[dict],
    motivations: list[dict],
    part: str,
    added: frozenset[str] = frozenset(),
    embed=None,
) -> dict:
    """The evidence-first tagger against the curated labels on one part of the split ("held-out" or "tuning"), or
    ("added") on the works `added`: those curated after its rules were frozen, which it then never learns from.

    The tagger learns from the tuning part only (fitting_set), less the added works. Motivations: works with the
    authors' abstract; a label is positive when the curated status is stated or partly-stated (the authors' words
    say it), and a proposal (stated or partly-stated) is right when it is positive; precision_strict also asks the
    level to agree.
    Techniques: works with curated techniques and the authors' abstract (the tagger's text; `_all` figures add the
    works it can read only the title of), labels and proposals both counted with their ancestors; macro F1 over
    techniques with at least 3 positives in the part. On the tuning part the figures are a training score, and
    `cross_validated` gives the tuning part scored fold by fold by a tagger fitted on the other folds. With embed
    (texts -> vectors), the tagger's topic model reads the abstracts' embeddings too (EvidenceTagger)."""
    up = ancestry(techniques)
    tuning = fitting_set(works, added)
    tagger = EvidenceTagger(techniques, motivations, embed).fit(tuning)
    chosen = {
        "held-out": [w for w in works if held_out(w["id"])],
        "tuning": tuning,
        "added": [w for w in works if w["id"] in added],
    }[part]
    split = (
        f"{len(chosen)} works named as added after the tagger's rules were frozen; it learns from the tuning part"
        " without them"
        if part == "added"
        else f"works whose id hashes (blake2b) to 0 mod {HELD_OUT_EVERY} are held out; the tagger learns from the"
        " others only"
    )
    result = {
        "part": part,
        "split": split,
        # None: too few curated statements to learn from, and the rules stand
        "threshold": round(tagger.motivation_model.threshold, 3) if tagger.motivation_model else None,
        "reads": None if tagger.motivation_model is None else READS_EMBEDDING if embed is not None else READS_WORDS,
        **_figures(_count(tagger, chosen, techniques, up)),
        "ceiling": recall_ceiling(chosen, techniques, motivations),
    }
    if part == "tuning":
        from kb.evidence_model import FOLDS

        total: dict = {}
        for k in range(FOLDS):
            inside = EvidenceTagger(techniques, motivations, embed).fit([w for w in tuning if fold(w["id"]) != k])
            counts = _count(inside, [w for w in tuning if fold(w["id"]) == k], techniques, up)
            total = _add(total, counts) if total else counts
        result["cross_validated"] = _figures(total)
    return result
