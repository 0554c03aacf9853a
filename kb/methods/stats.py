"""Verdicts from intervals across seeds: reproduced, not reproduced or inconclusive, never a point and a tolerance.

Each seed re-draws the data split (and the estimator's own randomness), so per-seed numbers are independent
replications. A claim that A beats B is judged on the per-seed differences A - B (paired: the same split for
both), a claim that a number exceeds a threshold on the per-seed numbers; both through Student's t-interval
of the mean. The verdict is decided by where the whole interval lies:

- "A > B":   reproduced when the interval lies above 0, not reproduced when it lies at or below 0;
- "A >= B":  reproduced when it lies at or above 0, not reproduced when it lies below 0;
- "x > t":   reproduced when it lies above t, not reproduced when it lies at or below t;

and inconclusive when it straddles the line (including with one seed, where there is no interval).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int
    level: float = LEVEL

    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.mean:+.4f} (one seed: no interval)"
        if self.low == self.high:
            return f"{self.mean:+.4f} in each of {self.n} seeds"
        return f"{self.mean:+.4f}, {self.level:.0%} CI [{self.low:+.4f}, {self.high:+.4f}] over {self.n} seeds"

    def plain(self, within: tuple[float, float] | None = None) -> str:
        """For quantities that are not differences (AUROC, accuracy): no sign. Bounds shown within the range the
        quantity can take (a rate's t-interval may pass 1; the verdict is still decided on the interval itself).
        The words around it say what it is (spread(n))."""
        if self.n < 2:
            return f"{self.mean:.4f}"
        if self.low == self.high:
            return f"{self.mean:.4f} in every seed"
        low, high = (max(self.low, within[0]), min(self.high, within[1])) if within else (self.low, self.high)
        return f"{self.mean:.4f} [{low:.4f}, {high:.4f}]"


RATE = (0.0, 1.0)  # what a rate, an accuracy or an AUROC can be


def spread(n: int, level: float = LEVEL) -> str:
    """What the numbers next to it are: a mean and its interval, or one seed's value."""
    return f"mean, {level:.0%} CI over {n} seeds" if n >= 2 else "one seed, so no interval"


def interval(values: Iterable[float], level: float = LEVEL) -> Interval:
    """Student's t-interval of the mean of independent per-seed values."""
    x = np.asarray(list(values), dtype=float)
    n, mean = len(x), float(np.mean(x)) if len(x) else math.nan
    if n < 2:
        return Interval(mean, -math.inf, math.inf, n, level)
    from scipy.stats import t

    half = float(t.ppf((1 + level) / 2, n - 1) * np.std(x, ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n, level)


def greater(diffs: Iterable[float], or_equal: bool = False) -> tuple[str, Interval]:
    """The verdict on "A > B" (or "A >= B") from the per-seed differences A - B."""
    ci = interval(diffs)
    if ci.n >= 2 and (ci.low >= 0 if or_equal else ci.low > 0):
        return REPRODUCED, ci
    if ci.n >= 2 and (ci.high < 0 if or_equal else ci.high <= 0):
        return NOT_REPRODUCED, ci
    return INCONCLUSIVE, ci


def above(values: Iterable[float], threshold: float) -> tuple[str, Interval]:
    """The verdict on "x > threshold" from per-seed values of x."""
    ci = interval(values)
    if ci.n >= 2 and ci.low > threshold:
        return REPRODUCED, ci
    if ci.n >= 2 and ci.high <= threshold:
        return NOT_REPRODUCED, ci
    return INCONCLUSIVE, ci


def below(values: Iterable[float], threshold: float) -> tuple[str, Interval]:
    """The verdict on "x < threshold" from per-seed values of x."""
    verdict, ci = above([-v for v in values], -threshold)
    return verdict, Interval(-ci.mean, -ci.high, -ci.low, ci.n, ci.level)


def all_of(verdicts: Iterable[str]) -> str:
    """A claim made of parts (every setting, every rival): any part refuted refutes it; all shown shows it."""
    verdicts = list(verdicts)
    if not verdicts:
        return INCONCLUSIVE
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    return REPRODUCED if all(v == REPRODUCED for v in verdicts) else INCONCLUSIVE
