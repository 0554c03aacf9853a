"""What the evidence-first tagger (kb.tagging.EvidenceTagger) learns from curated works: which sentence of an
abstract states a motivation, and which of the taxonomy's phrases name a technique reliably.

Both are fitted from data/ when the tagger is built, on the tuning part of its split only (kb.tagging.held_out
decides; the caller passes the works), in seconds, with numpy alone: no stored weights, no network,
nothing to go stale as data/ grows. Every proposal still carries a verbatim piece of the input as its evidence: a
whole sentence for a motivation, the matched phrase for a technique.

- Motivations: two logistic regressions over a few interpretable features each. One says whether a sentence states
  a motivation (the stakes and concern words of CONTRIBUTING.md's standard, any motivation's cue words, why-words
  such as "crucial" or "we hope", where the sentence stands, whether it reports numbers); a sentence is positive
  when it is part of a curated stated or partly-stated quote. The other says which motivations a work is about
  (each motivation's cue count over the whole abstract, its share, whether it leads, and the log-odds of a word
  model learned from the abstracts' own words: WordTopic), positive when the curators quote the authors for it.
  Each motivation scores its own stating sentence x topic (the best sentence naming one of its cues, if at least
  half as good as the best sentence of all; else the best one at half its score), and the best is proposed with
  that sentence; one motivation per work (MotivationModel.score says why). The threshold maximises the
  out-of-fold F-beta with beta 0.5 (folds by work, inside the fitting set): claiming that authors say what they do
  not is the worse error. Issue 23 asks for precision 0.9; cross-validated
  on the tuning part (158 works with an abstract, 69 positives, 2026-12-07) the tagger reaches 0.97 (31 of 32) at
  recall 0.45, an optimistic figure since the word lists were written by reading that part; on 80 works curated
  after the rules were frozen, 0.87 (20 of 23) at recall 0.57 (BENCHMARKS.md). Thresholds weighting recall more, and
  MiniLM sentence features, raised recall only by losing precision in cross-validation. The statement is found
  more reliably than the motivation it is for (works said to state one, whichever: 0.91 on the added works): which
  of five motivations the curators file a statement under follows the work's subject, and the stating sentence's
  words. Left out one set at a time (bench/tagger_sets.py: each set of works curated blind to the tagger, and the
  held-out part's other works, scored by a tagger fitted without them; 279 works, 136 positives, 2026-12-07),
  scoring each motivation by its own sentence instead of the likeliest topic by the best sentence raised pooled
  recall from 0.404 to 0.463 at precision 0.859 -> 0.863 (55 of 64 -> 63 of 73): figures of sets already tuned on.
  Then the first look at a fifth set sealed until this was committed (42 works): precision 0.73 (11 of 15), recall
  0.42, against 0.69 and 0.35 for the code before; and at a sixth (39 works) 0.50 (4 of 8), recall 0.19, each
  wrong proposal on a work that states another motivation; at a seventh (44 works) 0.75 (3 of 4), recall
  0.21. An eighth (37 works), after WordTopic below: 0.83 (5 of 6), recall 0.36 (the code before it: 1.00, 4 of 4,
  recall 0.29); a ninth (36 works) with the same code: 1.00 (9 of 9), recall 0.43; a tenth (34 works), the same
  code: 0.88 (7 of 8), recall 0.37; an eleventh (35 works): 0.43 (3 of 7), recall 0.21, every proposal on a work
  that states a motivation, four filed under another; a twelfth (33 works): 1.00 (6 of 6), recall 0.46. Every first
  look together: 0.811 (86 of 106), recall 0.369 (BENCHMARKS.md).
  What the aims cost (bench/tagger_sets.py --curve, five sets left out one at a time, 321 works, 162 positives,
  2026-12-07; leave-one-set-out tuning figures): at this model the most pooled recall at precision >= 0.90 was 0.370
  (the fitted threshold x 1.5), at >= 0.85 0.407; one motivation per work caps it near 0.6 at any threshold. Giving
  deception the standard's words for scheming (kb.tagging.MOTIVATION_CUES) then moved pooled precision 0.843 ->
  0.875 and recall 0.463 -> 0.475 at the same F0.5 rule, and the frontier to 0.383 and 0.494 (BENCHMARKS.md).
  The topic model then gained a learned feature: per motivation, a strongly regularised logistic regression on the
  word stems of the fitting set's abstracts (WordTopic; its out-of-fold log-odds are what the topic model weighs),
  since the hand-written cue lists miss the words later sets state their aims in. Left out one set at a time over
  the seven sets (bench/tagger_sets.py, 2026-12-07; tuning figures): pooled precision 0.821 -> 0.878 (78 of 95 ->
  86 of 98), recall 0.396 -> 0.437; the most recall at precision >= 0.90 on the curve 0.279 -> 0.325, at >= 0.85
  0.360 -> 0.482. Tried and not kept (BENCHMARKS.md): the word model in place of the cue features (0.795, 0.315); a
  second motivation per work when its own sentence names its cue (four more proposals, all wrong); learned words of
  the curated quotes as which motivation a sentence names (one more right proposal of 96: not worth a second model).
  Given the abstracts' MiniLM sentence embeddings (kb tag and kb tag eval with the methods extra, not with
  --rules-only), the topic model reads one more learned feature (VectorTopic: the same out-of-fold log-odds, from a
  ridge logistic regression on the embedding). Left out one set at a time over nine sets (2026-12-08; tuning
  figures): pooled precision 0.869 -> 0.911 (106 of 122 -> 102 of 112), recall 0.422 -> 0.406; the most recall at
  precision >= 0.90 on the curve 0.295 -> 0.434, at >= 0.85 0.442 -> 0.522. Its first look, at an eleventh set
  sealed until it was committed: 0.50 (4 of 8), recall 0.29, against 0.43 and 0.21 with the words alone. Over ten
  sets, that one included, the fitted threshold's gain shrank to 0.862 -> 0.870 (recall 0.423 -> 0.430); only with
  the embedding did the curve reach precision 0.90 (recall 0.340; without it, none). At a twelfth set: 1.00 (5 of
  5), recall 0.38, against 1.00 (6 of 6) and 0.46 with the words alone.
  Tried and not kept (BENCHMARKS.md): the topic model fitted on stating works only (P(motivation | stated));
  learned combinations of statement and topic in place of their product; a sentence word model (naive Bayes
  log-count ratios) as a statement feature.
- Techniques: each technique's name and keywords, less those found more often in works without the technique than
  with it in the fitting set (a generic word such as "ablation"). Phrases learned from the texts themselves (word
  n-grams found only in a technique's works) were tried and dropped: on the tuning part they were words like
  "has been" or "do they", which do not name a technique, and they did not raise the cross-validated F1. A
  technique whose phrases are words of many subjects ("data-driven", "gradient" for pruning's methods) counts only in
  a text that also names one of its ancestors ("pruning"), when that raises its F1 on the fitting set
  (context_gates): the phrase is still the evidence, the ancestor's phrase only where it stands. A phrase inside a
  longer phrase of an unrelated technique names nothing ("circuit" in "circuit breakers": kb.tagging._within).
  Scored leave-one-set-out (each of the three sets curated blind to the tagger, fitted on the tuning part without
  it; 2026-12-07): technique macro F1 0.820, 0.910 and 0.896 on the 80, 46 and 41 works, mean 0.875, from 0.742,
  0.861 and 0.832 before kb.tagging.ALIASES was revised on those sets' misses, so a training score; on the
  held-out part, which chose nothing, 0.638 -> 0.664 (BENCHMARKS.md).
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Work = Mapping[str, Any]

# The threshold maximises the out-of-fold F-beta with beta 0.5 (precision counted as twice as important as recall);
# the lowest threshold reaching a precision target (0.7 to 0.9) was tried first and chose worse ones: the first lucky
# stretch of a few dozen proposals set it, and cross-validated it gave lower precision AND recall (docstring). Other
# betas only move along the same curve (bench/tagger_sets.py --curve: 0.2 to 1.5 pooled, left out set by set)
BETA = 0.5
MIN_STATING_WORKS = 10  # fewer works with a curated statement than this to learn from, and the tagger keeps its rules
MIN_PROPOSALS = 5  # the precision that sets the threshold is read over at least this many out-of-fold proposals
FOLDS = 5  # out-of-fold scores for the threshold: folds by work, assigned by a hash of the id (stable)
L2 = 1.0  # ridge penalty on the standardised features: few positives (dozens), so keep the weights small
TOPIC_L2 = 5.0  # stronger for the topic model: it sees each work once per motivation, with a dozen positives each
# A motivation none of whose cue sentences scores at least this share of the best sentence's keeps the best sentence at
# this share of its score (MotivationModel.stating); 0.25 or 0.75 ranked worse left out set by set; 1.0 scores as before
SECOND_BEST = 0.5

# Words of a sentence that gives a reason for the work rather than reporting it (the "why" of an abstract).
WHY = (
    "important",
    "crucial",
    "critical",
    "essential",
    "urgent",
    "necessary",
    "need",
    "concern",
    "danger",
    "risk",
    "threat",
    "hope",
    "promis",
    "increasingly",
    "growing",
    "future",
    "trust",
    "ensur",
    "safe",
    "reliab",
    "challenge",
    "problem",
    "vulnerab",
)
AGENT = ("AI", "AIs", "LLM", "LLMs", "language model", "agent", "system", "assistant", "model")
MODAL = ("could", "might", "may", "would", "will", "must", "should")
# Words of a sentence that sets the work against AI systems growing more able (the usual opening of a stated reason).
GROWTH = (
    "more capable",
    "more powerful",
    "increasingly capable",
    "autonom",
    "agentic",
    "frontier",
    "advanced",
    "future",
)
REPORT = re.compile(r"\d|%|\bwe (?:find|show|demonstrate|evaluate|train|introduce|propose|present)\b", re.I)


def _words(stems: Iterable[str]) -> re.Pattern:
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in stems) + ")", re.IGNORECASE)


_WHY, _AGENT, _GROWTH = _words(WHY), _words(AGENT), _words(GROWTH)
_MODAL = re.compile(r"\b(?:" + "|".join(MODAL) + r")\b", re.I)


# -- a small logistic regression (numpy: kb tag runs without the methods extra) ----------------------------------


@dataclass
class Logistic:
    """L2-regularised logistic regression on standardised features, fitted by Newton's method."""

    l2: float = L2
    mean_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scale_: np.ndarray = field(default_factory=lambda: np.ones(0))
    coef_: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def fit(self, X: np.ndarray, y: np.ndarray, iterations: int = 30) -> Logistic:
        self.mean_, self.scale_ = X.mean(0), X.std(0) + 1e-9
        Z = np.hstack([(X - self.mean_) / self.scale_, np.ones((len(X), 1))])
        w = np.zeros(Z.shape[1])
        penalty = np.full(Z.shape[1], self.l2)
        penalty[-1] = 0.0  # the intercept is not shrunk
        newton = _newton(Z, penalty + 1e-9)
        for _ in range(iterations):
            p = 1 / (1 + np.exp(-np.clip(Z @ w, -30, 30)))
            gradient = Z.T @ (p - y) + penalty * w
            step = newton(p * (1 - p), gradient)
            w -= step
            if np.abs(step).max() < 1e-8:
                break
        self.coef_ = w
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        Z = np.hstack([(X - self.mean_) / self.scale_, np.ones((len(X), 1))])
        return 1 / (1 + np.exp(-np.clip(Z @ self.coef_, -30, 30)))


def _newton(Z: np.ndarray, penalty: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The Newton step (Z' diag(d) Z + diag(penalty))^-1 gradient, as a function of d and the gradient; through the
    rows' n x n system (Woodbury) when the features outnumber the rows, as a bag of words' do (WordTopic): a
    thousand stems' Hessian would take a second a step, the rows' system milliseconds."""
    if Z.shape[1] <= len(Z):
        return lambda d, gradient: np.linalg.solve((Z * d[:, None]).T @ Z + np.diag(penalty), gradient)
    penalty = np.maximum(penalty, 1e-4)  # the intercept's near-zero penalty would make P^-1 ill-conditioned
    scaled = Z / penalty  # Z P^-1
    kernel = scaled @ Z.T  # Z P^-1 Z', the same at every step

    def step(d: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        root = np.sqrt(np.maximum(d, 1e-12))
        inner = np.eye(len(Z)) + root[:, None] * kernel * root[None, :]
        return gradient / penalty - scaled.T @ (root * np.linalg.solve(inner, root * (scaled @ gradient)))

    return step


# -- which motivation a work is about, from its own words -------------------------------------------------------

# a word stem: a word's first STEM letters ("deceptive", "deception": "decept"), a stemmer without a word list
STEM = 6
# the vocabulary: stems in at least MIN_DF of the fitting set's abstracts (a rarer one names a work, not a subject)
# and in at most MAX_DF of them (a commoner one, "model", "language", names none); it holds about a thousand
MIN_DF = 3
MAX_DF = 0.5
# ridge penalty on the standardised stems: a thousand of them against one to four dozen positives per motivation.
# Left out set by set (bench/tagger_sets.py, 2026-12-07): 3 and 10 ranked alike, 30 and 100 a little worse
WORD_L2 = 10.0
# ridge penalty on the standardised embedding (384 dimensions of MiniLM) of VectorTopic. Left out set by set
# (bench/tagger_sets.py --embed, nine sets, 2026-12-08): 10 gave pooled precision 0.911 and recall 0.406, 50 gave
# 0.875 and 0.446, with less recall at precision 0.90 on the curve (0.371 against 0.434)
VECTOR_L2 = 10.0
_WORD = re.compile(r"[a-z][a-z]+")


@functools.lru_cache(maxsize=4096)  # fit() reads each abstract some forty times (folds inside folds)
def stems(text: str) -> frozenset[str]:
    """The word stems a text holds (words of three letters or more, in lower case)."""
    return frozenset(w[:STEM] for w in _WORD.findall(text.lower()) if len(w) > 2)


class LearnedTopic:
    """Which motivations a text is about, learned from the fitting set: per motivation, a strongly regularised
    logistic regression on a representation of the whole text (matrix), positive when the curators quote the
    text's authors for that motivation. Its log-odds are one feature of the topic model (MotivationModel._fit)."""

    l2 = 1.0

    def __init__(self, slugs: Sequence[str]):
        self.slugs = list(slugs)
        self.models: dict[str, Logistic] = {}

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def fit(self, texts: Sequence[str], labels: Mapping[str, np.ndarray]) -> LearnedTopic:
        X = self.matrix(texts)
        self.models = {slug: Logistic(self.l2).fit(X, y) for slug, y in labels.items() if 0 < y.sum() < len(y)}
        return self

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, one column per motivation: the log-odds that the curators quote the text's authors
        for it (0 for a motivation with no model: none or every work of the fitting set positive)."""
        X = self.matrix(texts)
        out = np.zeros((len(texts), len(self.slugs)))
        for j, slug in enumerate(self.slugs):
            if slug in self.models:
                p = np.clip(self.models[slug].predict(X), 1e-6, 1 - 1e-6)
                out[:, j] = np.log(p / (1 - p))
        return out


class WordTopic(LearnedTopic):
    """From the words a text uses: which of the vocabulary's stems it holds. The cue lists
    (kb.tagging.MOTIVATION_CUES) were written from the early interpretability works; later ones (debate, model
    values, multi-agent systems, data filtering, model specs) state their aims in other words, which this learns
    from the fitting set itself."""

    l2 = WORD_L2

    def __init__(self, slugs: Sequence[str]):
        super().__init__(slugs)
        self.vocabulary: dict[str, int] = {}

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        X = np.zeros((len(texts), len(self.vocabulary)))
        for i, text in enumerate(texts):
            X[i, [self.vocabulary[w] for w in stems(text) if w in self.vocabulary]] = 1.0
        return X

    def fit(self, texts: Sequence[str], labels: Mapping[str, np.ndarray]) -> WordTopic:
        df: dict[str, int] = {}
        for text in texts:
            for w in stems(text):
                df[w] = df.get(w, 0) + 1
        self.vocabulary = {
            w: i for i, w in enumerate(sorted(w for w, n in df.items() if MIN_DF <= n <= MAX_DF * len(texts)))
        }
        super().fit(texts, labels)
        return self


class Embeddings:
    """Texts' vectors from an embedding function (kb.embeddings.Store.embed: MiniLM, kept in build/), each text
    asked for once: fit() reads every abstract some forty times, folds inside folds."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray]):
        self.embed = embed
        self.known: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.known))
        if missing:
            self.known.update(zip(missing, np.asarray(self.embed(missing), dtype=float)))
        return np.array([self.known[t] for t in texts], dtype=float).reshape(len(texts), -1)


class VectorTopic(LearnedTopic):
    """From a sentence embedding of the whole abstract: what it is about in words no list and no stem shared
    with the fitting set name ("shutdown", "off-switch" near "corrigible")."""

    l2 = VECTOR_L2

    def __init__(self, slugs: Sequence[str], vectors: Embeddings):
        super().__init__(slugs)
        self.vectors = vectors

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        return self.vectors(texts)


def hashed_fold(work_id: str, salt: bytes, folds: int = FOLDS) -> int:
    """A work's fold (0 to folds - 1) from a hash of its id: stable as works are added, blind to their content, and
    with another salt unrelated to the first, so that folds inside folds split each training set `folds` ways
    (kb.tagging.held_out's split, kb.tagging.fold's for cross-validation, the word model's inside
    MotivationModel.fit)."""
    digest = hashlib.blake2b(work_id.encode(), digest_size=8, person=salt).digest()
    return int.from_bytes(digest, "big") % folds


def learned_logits(
    make: Callable[[], LearnedTopic], works: Sequence[Work], slugs: Sequence[str], salt: bytes
) -> tuple[LearnedTopic, np.ndarray]:
    """A learned topic model (make()) fitted on these works, and each work's log-odds from one fitted without it
    (one row per work, one column per motivation; folds by a hash of the id with this salt): what the topic model
    learns to weigh, as new works will be scored, not the in-sample scores of a model that has seen their labels."""
    texts = [w["abstract"] for w in works]
    labels = {slug: np.array([float(slug in positives(w)) for w in works]) for slug in slugs}
    folds = np.array([hashed_fold(w["id"], salt) for w in works])
    oof = np.zeros((len(works), len(slugs)))
    for k in range(FOLDS):
        test, train = np.flatnonzero(folds == k), np.flatnonzero(folds != k)
        if len(test) and len(train):
            fitted = make().fit([texts[i] for i in train], {s: y[train] for s, y in labels.items()})
            oof[test] = fitted.logits([texts[i] for i in test])
    return make().fit(texts, labels), oof


# -- motivations: which sentence states which motivation -------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(text.split())


def quoted(sentence: str, quotes: Sequence[str]) -> bool:
    """Whether a sentence is part of one of the curated quotes (or holds one: a quote may be a clause)."""
    s = _norm(sentence)
    return any(s in q or (len(q) > 30 and q in s) for q in map(_norm, quotes))


def positives(work: Work) -> dict[str, list[str]]:
    """The curated stated or partly-stated motivations of a work, each with its quotes."""
    out: dict[str, list[str]] = {}
    for t in work["motivations"]:
        if t["by"] in ("curator", "summariser") and t.get("status") in ("stated", "partly-stated"):
            out.setdefault(t["slug"], []).append(t.get("quote") or "")
    return out


class MotivationModel:
    """Two small models: whether a sentence states a motivation (any), and which motivations a work is about.

    A work's motivation scores statement x topic: its stating sentence's probability of being a statement (stating:
    the best sentence naming one of its cues, or the best of all at half its score), times the probability that the
    curators would tag the work with that motivation at all (from the cue words across the whole text). The
    curators' choice of motivation follows the work's subject more than the words of the stating sentence ("prevent
    harmful outcomes" states AI control's monitoring motivation), which is why the topic is learned from the whole
    text (the cue words, and every word through WordTopic); the sentence's own words weigh in through stating."""

    def __init__(
        self,
        slugs: Sequence[str],
        cues: Mapping[str, re.Pattern],
        stakes: re.Pattern,
        concerns: re.Pattern,
        vectors: Embeddings | None = None,
    ):
        self.slugs, self.cues, self.stakes, self.concerns = list(slugs), cues, stakes, concerns
        self.vectors = vectors  # the abstracts' embeddings, when the caller has them: VectorTopic joins the topic
        self.sentence: Logistic | None = None
        self.topic: Logistic | None = None
        self.threshold = 1.0  # unfitted: proposes nothing by itself
        self.precision: float | None = None  # out-of-fold precision at the threshold, on the fitting set
        self.oof: list[tuple[float, bool]] = []  # out-of-fold (score, right) per work x motivation, best first
        self.wanted = 0  # the fitting set's positives (works x motivations)
        self._topic_cache: dict[str, np.ndarray] = {}
        self.words: LearnedTopic | None = None  # the topic model's learned-words feature (fitted in _fit)
        self.embedding: LearnedTopic | None = None  # ... and its embedding feature, given vectors

    def sentence_features(self, sentences: Sequence[str]) -> np.ndarray:
        rows = []
        n = len(sentences)
        for i, s in enumerate(sentences):
            stakes, concern = bool(self.stakes.search(s)), bool(self.concerns.search(s))
            cue = any(c.search(s) for c in self.cues.values())
            rows.append(
                [
                    stakes,
                    concern,
                    min(3, len(self.stakes.findall(s))) + min(3, len(self.concerns.findall(s))),
                    bool(_GROWTH.search(s)),
                    cue,
                    cue and (stakes or concern),
                    min(3, len(_WHY.findall(s))),
                    bool(_AGENT.search(s)),
                    bool(_MODAL.search(s)),
                    bool(REPORT.search(s)),
                    i == 0,
                    i == n - 1,
                    math.log1p(len(s.split())),
                ]
            )
        return np.array(rows, dtype=float).reshape(n, -1)

    def topic_features(self, text: str) -> np.ndarray:
        if text not in self._topic_cache:  # the folds of fit() read each text six times
            self._topic_cache[text] = self._topic_features(text)
        return self._topic_cache[text]

    def _topic_features(self, text: str) -> np.ndarray:
        """One row per motivation: how much the whole text speaks of it (its cues' count, their share of all the
        cues, whether it leads), and which motivation it is."""
        counts = np.array([len(self.cues[slug].findall(text)) if slug in self.cues else 0 for slug in self.slugs])
        total = max(1, int(counts.sum()))
        return np.array(
            [
                [math.log1p(c), c / total, c == counts.max() and c > 0, *(slug == other for other in self.slugs)]
                for slug, c in zip(self.slugs, counts)
            ],
            dtype=float,
        )

    def fit(self, works: Sequence[Work], sentences: Callable[[str], list[str]], fold_of: Callable[[str], int]):
        """Fit on works (each with the authors' abstract); the threshold from out-of-fold scores, folds by work."""
        works = [w for w in works if sentences(w["abstract"])]
        if not works:
            return self
        folds = np.array([fold_of(w["id"]) for w in works])
        oof: list[dict[str, float]] = [{} for _ in works]
        for k in range(FOLDS):
            test = np.flatnonzero(folds == k)
            if len(test):
                fitted = self._fit([w for w, f in zip(works, folds) if f != k], sentences)
                for i in test:
                    text = works[i]["abstract"]
                    oof[i] = {slug: p for slug, (p, _) in fitted.score(sentences(text), text).items()}
        self._fit(works, sentences, into=self)
        self.oof = sorted(
            ((score, slug in positives(w)) for w, scores in zip(works, oof) for slug, score in scores.items()),
            reverse=True,
        )
        self.wanted = sum(len(positives(w)) for w in works)
        self.threshold, self.precision = self.fitted_threshold()
        return self

    def _fit(self, works, sentences, into: MotivationModel | None = None) -> MotivationModel:
        model = into or MotivationModel(self.slugs, self.cues, self.stakes, self.concerns, self.vectors)
        model._topic_cache = self._topic_cache
        X, y = [], []
        for w in works:
            ss = sentences(w["abstract"])
            quotes = [q for qs in positives(w).values() for q in qs]
            X.append(model.sentence_features(ss))
            y += [float(quoted(s, quotes)) for s in ss]
        labels = np.array(y)
        model.sentence = Logistic().fit(np.vstack(X), labels) if labels.sum() else None
        model.words, oof = learned_logits(lambda: WordTopic(self.slugs), works, self.slugs, b"kb-words")
        learned = [oof]
        if self.vectors is not None:
            vectors = self.vectors
            make = lambda: VectorTopic(self.slugs, vectors)  # noqa: E731
            model.embedding, oof = learned_logits(make, works, self.slugs, b"kb-emb")
            learned.append(oof)
        cues = np.vstack([model.topic_features(w["abstract"]) for w in works])
        T = np.hstack([cues, *(o.reshape(-1, 1) for o in learned)])
        yt = np.array([float(slug in positives(w)) for w in works for slug in self.slugs])
        model.topic = Logistic(TOPIC_L2).fit(T, yt) if 0 < yt.sum() < len(yt) else None
        return model

    def about(self, text: str) -> np.ndarray:
        """The topic model's rows for a text: the cue features, the word model's log-odds per motivation, and the
        embedding model's when it was fitted with vectors."""
        words = self.words.logits([text]).reshape(-1, 1) if self.words else np.zeros((len(self.slugs), 1))
        learned = [words] + ([self.embedding.logits([text]).reshape(-1, 1)] if self.embedding else [])
        return np.hstack([self.topic_features(text), *learned])

    def fitted_threshold(self, beta: float = BETA) -> tuple[float, float | None]:
        """The threshold with the best out-of-fold F-beta over works x motivations, and its precision (fit()'s
        out-of-fold scores; another beta only to chart the precision-recall frontier: bench/tagger_sets.py --curve)."""
        choice, precision, best, tp = 1.0, None, 0.0, 0
        for k, (score, right) in enumerate(self.oof, 1):
            tp += right
            if k < MIN_PROPOSALS or (k < len(self.oof) and self.oof[k][0] == score) or not tp:
                continue  # too few to read a precision from, or a tie: a threshold takes all equal scores
            p, r = tp / k, tp / self.wanted
            f = (1 + beta**2) * p * r / (beta**2 * p + r)
            if f > best:
                choice, precision, best = score, p, f
        return choice, precision

    def score(self, sentences: Sequence[str], text: str) -> dict[str, tuple[float, str]]:
        """The work's likeliest motivation, its score in the text and the sentence that states it: the motivation
        whose own stating sentence (stating) x topic probability is the best.

        One motivation, not each: the curators quote 46 of the tuning part's 54 works that state any under one
        motivation; proposing every motivation over the threshold cost more precision than it gained recall
        (cross-validated on the tuning part, 2026-12-07: precision 0.79, recall 0.53; the likeliest alone: 0.84,
        0.50)."""
        if self.sentence is None or not sentences:
            return {}
        said = self.sentence.predict(self.sentence_features(sentences))
        if self.topic is None:
            return {}
        topic = self.topic.predict(self.about(text))
        candidates = [(*self.stating(slug, sentences, said), about, slug) for slug, about in zip(self.slugs, topic)]
        statement, i, about, slug = max(candidates, key=lambda c: c[0] * c[2])
        return {slug: (float(statement * about), sentences[i])}

    def stating(self, slug: str, sentences: Sequence[str], said: np.ndarray) -> tuple[float, int]:
        """How well the text states this motivation, and the sentence that does: the best sentence naming one of
        its cues when that is at least half as good as the best sentence of all, else the best one at half its
        score (SECOND_BEST).

        Each motivation scores its own sentence x its topic probability, and the best product is proposed; before,
        the likeliest topic took the best sentence whatever it named. Left out one set at a time over the sets
        curated blind to the tagger (bench/tagger_sets.py, 2026-12-07, pooled): precision 55/64 -> 63/73, recall
        0.404 -> 0.463; the motivation a statement is filed under follows its sentence's words too, not only
        the subject of the whole text."""
        best = int(said.argmax())
        cue = self.cues.get(slug)
        named = [j for j, s in enumerate(sentences) if cue and cue.search(s)]
        if named:
            i = max(named, key=lambda j: said[j])
            if said[i] >= said[best] * SECOND_BEST:
                return float(said[i]), i
        return float(said[best]) * SECOND_BEST, best

    def propose(self, sentences: Sequence[str], text: str) -> dict[str, str]:
        """The motivations whose score clears the threshold, each with its sentence."""
        return {slug: s for slug, (p, s) in self.score(sentences, text).items() if p >= self.threshold}


# -- techniques: which of the taxonomy's phrases to trust ---------------------------------------------------------


def prune_keywords(
    texts: Sequence[str], labels: Mapping[str, np.ndarray], keywords: Mapping[str, list[re.Pattern]]
) -> dict[str, list[re.Pattern]]:
    """Each technique's keyword patterns, less those that mislead in the fitting set: found in at least two works
    without the technique and in more works without it than with it (a generic word such as "ablation")."""
    kept: dict[str, list[re.Pattern]] = {}
    for slug, patterns in keywords.items():
        y = labels.get(slug)
        if y is None:
            kept[slug] = list(patterns)
            continue
        keep = []
        for p in patterns:
            hits = np.array([bool(p.search(t)) for t in texts], dtype=bool)  # dtype: an empty set is no crash
            right, wrong = int((hits & (y == 1)).sum()), int((hits & (y == 0)).sum())
            if not (wrong >= 2 and wrong > right):
                keep.append(p)
        kept[slug] = keep
    return kept


def _f1(found: np.ndarray, y: np.ndarray) -> float:
    tp = int((found & (y == 1)).sum())
    return 2 * tp / (int(found.sum()) + int(y.sum())) if tp else 0.0


def context_gates(
    texts: Sequence[str],
    labels: Mapping[str, np.ndarray],
    keywords: Mapping[str, list[re.Pattern]],
    contexts: Mapping[str, list[re.Pattern]],
) -> dict[str, list[re.Pattern]]:
    """The techniques whose phrases are to count only in a text that also names their context (an ancestor's
    phrases), each with that context: those whose F1 on the fitting set rises when a phrase without it is ignored.

    Cross-validated on the tuning part (2026-12-07) this raised technique macro F1 from 0.761 to 0.770, and to 0.735
    from 0.723 on the 80 works added after the freeze (a tuning figure too); a context of any technique of the same
    root, not only the ancestors, gave 0.765 and 0.739. Greedily dropping each phrase whose removal raises a
    technique's F1 on the fitting set was tried instead of prune_keywords' rule and dropped: 0.757 cross-validated,
    0.724 on the added works (it fits the fitting set, 0.801 there, and no more). Which techniques it gates follows
    the fitting set: on the whole tuning part activation-statistics pruning alone, inside three of its five folds
    and without the added works gradient-based pruning too."""
    gated: dict[str, list[re.Pattern]] = {}
    for slug, context in contexts.items():
        y, patterns = labels.get(slug), keywords.get(slug)
        if y is None or not patterns or not context or not len(texts):
            continue
        own = np.array([any(p.search(t) for p in patterns) for t in texts], dtype=bool)
        near = np.array([any(p.search(t) for p in context) for t in texts], dtype=bool)
        if _f1(own & near, y) > _f1(own, y):
            gated[slug] = list(context)
    return gated
