"""Verdicts from honest intervals: reproduced, not reproduced, inconclusive, not testable or not tested.

Which interval, and why:

- **Fresh data per seed** (planted data, template draws): the per-seed numbers are independent replications, so
  Student's t-interval of their mean is right (`interval(values)`).
- **One fixed dataset re-split per seed** (the city and comparison statements, the digits): the seeds' training
  sets overlap, so their numbers are positively correlated and the plain t-interval is too narrow. Nadeau and
  Bengio's corrected resampled t (Machine Learning 52, 2003) widens it: the variance of the mean is
  (1/n + n_test/n_train) s^2 instead of s^2/n (`interval(values, test_train=n_test / n_train)`). It is the
  standard correction for repeated random splits, needs no refitting, and is conservative where the overlap is
  what makes seeds agree.
- **A fixed, hand-written test set** (coup probes' non-templated texts): what varies is which texts happened to be
  written, not the split; a percentile bootstrap over those texts (of the rate averaged over seeds) says how much
  the rate depends on them (`bootstrap(outcomes)`).

The verdict is decided by where the whole interval lies:

- "A > B":  reproduced when it lies above 0, not reproduced when it lies at or below 0;
- "A >= B": a non-inferiority claim with a stated margin m (a difference smaller than m counts as "as well"):
  reproduced when it lies above -m, not reproduced when it lies below -m;
- "x > t":  reproduced when it lies above t, not reproduced when it lies at or below t;

inconclusive when it straddles the line (or with one seed: no interval); not testable when the design cannot
separate the hypotheses (two methods that are the same direction by construction); not tested when the setting
cannot speak to the claim at all (a claim about language models, run on a sentence-embedding model).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
NOT_TESTABLE, NOT_TESTED = "not testable", "not tested"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_TESTABLE, NOT_TESTED)

PLAIN_T, CORRECTED_T, BOOTSTRAP = "t", "corrected resampled t", "bootstrap over texts"
BOOTSTRAP_DRAWS = 2000  # percentile bootstrap: enough that the 2.5% and 97.5% points move by < 0.01 between runs


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int
    level: float = LEVEL
    method: str = PLAIN_T

    def _over(self) -> str:
        if self.method == BOOTSTRAP:
            return f"bootstrap over {self.n} texts"
        corrected = self.method == CORRECTED_T
        return f"over {self.n} seeds" + (", corrected for re-splitting one dataset" if corrected else "")

    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.mean:+.4f} (one seed: no interval)"
        if self.low == self.high:
            return f"{self.mean:+.4f} in each of {self.n} seeds"
        return f"{self.mean:+.4f}, {self.level:.0%} CI [{self.low:+.4f}, {self.high:+.4f}] {self._over()}"

    def plain(self, within: tuple[float, float] | None = None) -> str:
        """For quantities that are not differences (AUROC, accuracy): no sign. Bounds shown within the range the
        quantity can take (a rate's t-interval may pass 1; the verdict is still decided on the interval itself).
        The words around it say what it is (spread(n))."""
        if self.n < 2:
            return f"{self.mean:.4f}"
        if self.low == self.high and self.method != BOOTSTRAP:
            return f"{self.mean:.4f} in every seed"
        low, high = (max(self.low, within[0]), min(self.high, within[1])) if within else (self.low, self.high)
        return f"{self.mean:.4f} [{low:.4f}, {high:.4f}]"


RATE = (0.0, 1.0)  # what a rate, an accuracy or an AUROC can be


def spread(n: int, level: float = LEVEL, resplit: bool = False) -> str:
    """What the numbers next to it are: a mean and its interval, or one seed's value."""
    if n < 2:
        return "one seed, so no interval"
    return f"mean, {level:.0%} CI over {n} seeds" + (" (corrected resampled t)" if resplit else "")


def interval(values: Iterable[float], level: float = LEVEL, test_train: float | None = None) -> Interval:
    """Student's t-interval of the mean of per-seed values; with test_train (n_test / n_train of each split),
    Nadeau and Bengio's corrected resampled t for seeds that re-split one dataset."""
    x = np.asarray(list(values), dtype=float)
    n, mean = len(x), float(np.mean(x)) if len(x) else math.nan
    method = PLAIN_T if test_train is None else CORRECTED_T
    if n < 2:
        return Interval(mean, -math.inf, math.inf, n, level, method)
    from scipy.stats import t

    factor = 1 / n + (test_train or 0.0)  # the plain t's 1/n, plus the correction for overlapping training sets
    half = float(t.ppf((1 + level) / 2, n - 1) * np.std(x, ddof=1) * math.sqrt(factor))
    return Interval(mean, mean - half, mean + half, n, level, method)


def bootstrap(outcomes, level: float = LEVEL, seed: int = 0) -> Interval:
    """A percentile interval for a rate over a fixed set of texts: outcomes is (seeds, texts) of 0/1 (or a score
    per text); texts are resampled with replacement, the same draw for every seed, and the rate averaged over
    seeds. Deterministic (its own seed) so a rerun gives the same page."""
    o = np.atleast_2d(np.asarray(outcomes, dtype=float))
    per_text = o.mean(0)
    n = per_text.size
    if n < 2:
        return Interval(float(per_text.mean()) if n else math.nan, -math.inf, math.inf, n, level, BOOTSTRAP)
    rng = np.random.default_rng(seed)
    draws = per_text[rng.integers(0, n, size=(BOOTSTRAP_DRAWS, n))].mean(1)
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(per_text.mean()), float(low), float(high), n, level, BOOTSTRAP)


def greater(
    diffs: Iterable[float], or_equal: bool = False, margin: float = 0.0, test_train: float | None = None
) -> tuple[str, Interval]:
    """The verdict on "A > B", or with or_equal on "A >= B" within `margin`, from the per-seed differences A - B."""
    ci = interval(diffs, test_train=test_train)
    return decide(ci, -margin if or_equal else 0.0, or_equal), ci


def decide(ci: Interval, line: float, or_equal: bool = False) -> str:
    """Where the interval lies against the claim's line: above it (or on it, for ">="), below it, or across it."""
    if ci.n < 2:
        return INCONCLUSIVE
    if ci.low >= line if or_equal else ci.low > line:
        return REPRODUCED
    if ci.high < line if or_equal else ci.high <= line:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def above(values: Iterable[float], threshold: float, test_train: float | None = None) -> tuple[str, Interval]:
    """The verdict on "x > threshold" from per-seed values of x."""
    ci = interval(values, test_train=test_train)
    return decide(ci, threshold), ci


def below(values: Iterable[float], threshold: float, test_train: float | None = None) -> tuple[str, Interval]:
    """The verdict on "x < threshold" from per-seed values of x."""
    verdict, ci = above([-v for v in values], -threshold, test_train)
    return verdict, Interval(-ci.mean, -ci.high, -ci.low, ci.n, ci.level, ci.method)


def all_of(verdicts: Iterable[str]) -> str:
    """A claim made of parts (every setting, every rival): any part refuted refutes it; all shown shows it. Parts
    that cannot speak to it (not testable, not tested) are left out; if no part can, neither can the claim."""
    verdicts = list(verdicts)
    counted = [v for v in verdicts if v not in (NOT_TESTABLE, NOT_TESTED)]
    if not counted:
        if verdicts and all(v == NOT_TESTED for v in verdicts):
            return NOT_TESTED
        return NOT_TESTABLE if verdicts else INCONCLUSIVE
    if NOT_REPRODUCED in counted:
        return NOT_REPRODUCED
    return REPRODUCED if all(v == REPRODUCED for v in counted) else INCONCLUSIVE


def within(diffs: Iterable[float], margin: float, test_train: float | None = None) -> tuple[str, Interval]:
    """The verdict on "A and B are equivalent" (within +-margin), from per-seed differences A - B: reproduced when
    the interval lies inside the margin, not reproduced when it lies wholly outside, inconclusive otherwise."""
    ci = interval(diffs, test_train=test_train)
    if ci.n < 2:
        return INCONCLUSIVE, ci
    if -margin < ci.low and ci.high < margin:
        return REPRODUCED, ci
    if ci.low >= margin or ci.high <= -margin:
        return NOT_REPRODUCED, ci
    return INCONCLUSIVE, ci
