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
                    "As C -> 0, the logistic-regression direction tends to the mean difference (cosine -> 1), on "
                    "planted data and on MiniLM."
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
                    "The activations represent truth linearly enough for a probe to read it (IID AUROC above 0.9 on "
                    "real statements)."
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
                    "A probe trained on off-policy examples catches held-out positives (TPR at 1% FPR above 0.8)."
                ),
                "catches-other-formats": "It still catches positives in other formats (TPR at 1% FPR above 0.5).",
                "rarely-fires-on-hard-negatives": (
                    "It rarely fires on hard negatives about theft that are not theft advice (FPR below 0.2)."
                ),
            },
        ),
        Experiment(
            "std-pruning",
            "Pruning the lowest-variance units with mean replacement barely changes the network",
            ("network-trimming-2016", "pruning-cnns-resource-efficient-inference-2017"),
            ("activation-statistics-pruning", "magnitude-pruning", "gradient-based-pruning"),
            {
                "half-pruned-costs-little": (
                    "Pruning half the units with the lowest activation std, replaced by their means, costs under 2 "
                    "points of accuracy."
                ),
                "mean-beats-zero-replacement": "Mean replacement beats zero replacement for the same units.",
                "bound-holds": "The Lipschitz bound sqrt(2) K_j std_j is never below the measured loss rise.",
            },
            uses_transformer=False,
        ),
    ]
}
