"""The experiments and the claims each one tests. Light: `kb methods list` imports nothing heavy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    works: tuple[str, ...]  # catalogue work ids the claims come from
    techniques: tuple[str, ...]  # taxonomy slugs whose pages show the results
    claims: dict[str, str]  # name -> the claim as the literature makes it; runners give verdicts by name
    uses_transformer: bool = True


def parse_seeds(text: str) -> tuple[int, ...]:
    """`--seeds` values: a list `0,1,2`, a range `0-4` (both ends included), a mix `0-2,7`, or a bare count `5`
    (seeds 0..4, the old form). One seed alone is a range of one: `3-3`; a bare `0` (a count of no seeds would run
    nothing) is seed 0. Raises ValueError saying what is wrong."""
    text = text.strip()
    if text.isdigit():
        count = int(text)
        return tuple(range(count)) if count else (0,)
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        low, dash, high = part.partition("-")
        if not low.strip().isdigit() or (dash and not high.strip().isdigit()):
            raise ValueError(f"{part!r} is not a seed, a range such as 0-4, or a list such as 0,1,2")
        first, last = int(low), int(high) if dash else int(low)
        if last < first:
            raise ValueError(f"the range {part!r} runs backwards")
        seeds += [s for s in range(first, last + 1) if s not in seeds]
    return tuple(seeds)


EXPERIMENTS = {
    e.name: e
    for e in [
        Experiment(
            "mean-difference-is-regularised-lr",
            "Mean-difference probing is logistic regression with very strong L2 regularisation",
            ("coup-probes-2023", "geometry-of-truth-2023"),
            ("mean-difference-probing", "probing"),
            {
                "lr-tends-to-mean-difference": (
                    "As C -> 0, the logistic-regression direction tends to the mean difference (cosine -> 1: above "
                    "0.999 at C = 1e-6), on planted data and on real activations."
                ),
            },
        ),
        Experiment(
            "probes-vs-lat",
            "Probes versus LAT, CCS and mean difference, in and out of distribution",
            (
                "representation-engineering-2023",
                "geometry-of-truth-2023",
                "discovering-latent-knowledge-2023",
                "challenges-unsupervised-knowledge-discovery-2023",
            ),
            ("lat", "probing", "mean-difference-probing", "ccs"),
            {
                "lat-worse-in-distribution": "LAT is worse in distribution than a logistic-regression probe.",
                "mean-difference-ood-at-least-lat": (
                    "Out of distribution, mean-difference probing does at least as well as LAT."
                ),
                "truth-linearly-readable": (
                    "The activations represent truth linearly enough for a probe to read it: AUROC above 0.9 on "
                    "held-out real statements and, with the same probe, on their negations."
                ),
            },
        ),
        Experiment(
            "truth-generalisation",
            "Truth probes trained on one curated dataset, tested on the others",
            ("geometry-of-truth-2023",),
            ("probing", "mean-difference-probing"),
            {
                "mass-mean-generalises-better": (
                    "Mass-mean probes generalise better than logistic regression: trained on one dataset, they score "
                    "higher on the others."
                ),
                "truth-generalises": (
                    "A truth probe trained on one curated true/false dataset reads truth on each of the others "
                    "(AUROC above chance in every cell of the generalisation matrix)."
                ),
            },
        ),
        Experiment(
            "coup-probes",
            "Probes trained off-policy catch the target behaviour",
            ("coup-probes-2023", "off-policy-probe-generalisation-2026"),
            ("probing",),
            {
                "catches-held-out": (
                    "A probe trained on off-policy examples catches held-out positives, templated and hand-written "
                    "(TPR above 0.8 at a threshold that fires on 1% of harmless traffic, texts about theft included)."
                ),
                "catches-other-formats": "It still catches positives in other formats (TPR at 1% FPR above 0.5).",
                "rarely-fires-on-hard-negatives": (
                    "It rarely fires on texts about theft that are not theft advice (FPR below 0.2 on hand-written "
                    "topic-matched texts)."
                ),
            },
        ),
        Experiment(
            "std-pruning",
            "Pruning the lowest-variance units with mean replacement barely changes the network",
            # the thread's post and comments make the claims; the papers are the usual criteria it is set against
            (
                "train-first-vs-prune-first-2022",
                "donald-hobson-activation-std-comment",
                "aogara-low-variance-pruning-question-comment",
                "network-trimming-2016",
                "pruning-cnns-resource-efficient-inference-2017",
            ),
            ("activation-statistics-pruning", "magnitude-pruning", "gradient-based-pruning"),
            {
                "half-pruned-costs-little": (
                    "Pruning half the units with the lowest activation std, replaced by their means, costs under 2 "
                    "points of accuracy."
                ),
                "mean-beats-zero-replacement": "Mean replacement beats zero replacement for the same units.",
                "low-std-first-is-better": (
                    "The thread's idea: low-std units are the better candidates. Pruning them first keeps more accuracy"
                    " than pruning the highest-std units first, or random units."
                ),
                "std-beats-magnitude-and-apoz": (
                    "Low-std-first pruning keeps more accuracy than the usual criteria: smallest incoming weights "
                    "(magnitude) and most often zero (APoZ)."
                ),
                "prune-train-commute": (
                    "The post's question: pruning and training commute. Pruning the lowest-std half of both hidden "
                    "layers (mean replacement) before training gives the accuracy of pruning them after training."
                ),
                "prune-train-commute-fine-tuned": (
                    "The same, with the network pruned after training then fine-tuned (a fifth of the epochs)."
                ),
                "bound-holds": "The Lipschitz bound sqrt(2) K_j std_j is never below the measured loss rise.",
                "literal-bound-holds": (
                    "The thread's bound as written, K std_j with K the product of every layer's operator norm and no "
                    "sqrt(2), is never below the measured loss rise."
                ),
                "bound-without-sqrt2-holds": (
                    "With K restricted to the layers after the unit (K_j) but still no sqrt(2), K_j std_j is never "
                    "below the measured loss rise."
                ),
            },
            uses_transformer=False,
        ),
    ]
}
