"""The experiments: each re-runs a claim from the literature and gives a verdict with its numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from kb.methods import data, pruning, stats
from kb.methods.models import Encoder, default_model_dir, digits, train_mlp
from kb.methods.probes import CCSProbe, LATProbe, LogisticProbe, MeanDifferenceProbe, cosine
from kb.methods.registry import EXPERIMENTS
from kb.methods.report import Result, figure, write


@dataclass
class Config:
    quick: bool = False
    model_dir: Path | None = None
    layer: int | None = None
    pooling: str = "mean"
    device: str = "cpu"
    seeds: tuple[int, ...] | None = None  # seed values (registry.parse_seeds reads --seeds); None: the default
    results: Path = Path("results")
    _encoder: Encoder | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def seed_list(self) -> tuple[int, ...]:
        if self.seeds is None:
            return tuple(range(3 if self.quick else 10))
        return tuple(self.seeds)

    @property
    def n_seeds(self) -> int:
        return len(self.seed_list)

    def encoder(self) -> Encoder:
        """One encoder for every experiment of a run (its model loads once); ValueError for a bad layer."""
        if self._encoder is None:
            self._encoder = Encoder(Path(self.model_dir or default_model_dir()), self.layer, self.pooling, self.device)
        return self._encoder


Progress = Callable[[str], None]


def run(name: str, config: Config, progress: Progress = lambda step: None) -> tuple[Result, Path]:
    spec = EXPERIMENTS[name]
    started = dt.datetime.now()
    result = Result(spec.name, spec.title, list(spec.techniques), list(spec.works))
    folder = config.results / name
    encoder = config.encoder() if spec.uses_transformer else None
    RUNNERS[name](result, config, encoder, folder, progress)
    model = (
        {
            "model": encoder.name,
            "layer": encoder.layer,
            "pooling": encoder.pooling,
            "device": encoder.device,
            "model_note": encoder.describe(),
            "rerun": f"kb methods run {name} --model DIR --layer N --pooling last",
        }
        if encoder
        else {"model": "MLP on digits"}
    )
    return result, write(
        result, folder, started, quick=config.quick, seeds=config.n_seeds, seed_values=list(config.seed_list), **model
    )


def _setting(encoder: Encoder) -> dict:
    return {"model": encoder.name, "layer": encoder.layer, "pooling": encoder.pooling}


def _split_pairs(statements: data.Statements, rng: np.random.Generator, train: float = 0.5):
    """Train/test indices that keep each statement with its contrast."""
    firsts = np.flatnonzero(statements.pair > np.arange(len(statements.pair)))
    rng.shuffle(firsts)
    cut = int(len(firsts) * train)
    both = lambda f: np.sort(np.concatenate([f, statements.pair[f]]))  # noqa: E731
    return both(firsts[:cut]), both(firsts[cut:])


def _subset_pairs(pair: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """pair[] renumbered for X[rows] (rows hold whole pairs)."""
    remap = {old: new for new, old in enumerate(rows)}
    return np.array([remap[pair[i]] for i in rows])


def _statements(config: Config) -> dict[str, tuple[data.Statements, data.Statements]]:
    """The real datasets and their negations, fixed across seeds (each seed re-splits them): encoded once."""
    n = 300 if config.quick else 1000
    return {
        "comparisons": (data.comparisons(n), data.comparisons(n, negated=True, seed=1)),
        "cities": (data.cities(), data.cities(negated=True, seed=1)),
    }


# -- 1. mean difference = strongly regularised logistic regression ---------------------------------

C_GRID = np.logspace(-6, 2, 9)


def _cosines(X, y) -> list[float]:
    md = MeanDifferenceProbe().fit(X, y).direction_
    return [cosine(LogisticProbe(C=c).fit(X, y).direction_, md) for c in C_GRID]


def mean_difference_is_regularised_lr(
    result: Result, config: Config, encoder: Encoder, folder: Path, progress: Progress
):
    s = data.comparisons(300 if config.quick else 1000)
    progress(f"{encoder.name} activations")
    X = encoder.encode(s.text)
    planted, real = [], []
    for seed in config.seed_list:
        progress(f"seed {seed}")
        p = data.planted(n=600 if config.quick else 2000, seed=seed)
        planted.append(_cosines(p.X_train, p.y_train))
        half, _ = _split_pairs(s, np.random.default_rng(seed))  # each seed: another half of the pairs
        real.append(_cosines(X[half], s.label[half]))
    planted, real = np.array(planted), np.array(real)
    result.data = {
        "planted": f"{600 if config.quick else 2000} rows, 64 dimensions, spurious nuisance direction; drawn per seed",
        "comparisons": f"{len(s.text)} number comparisons in words, half true; each seed fits on half the pairs",
    }
    result.tables["cosine_lr_vs_mean_difference"] = [
        {"C": float(c), "planted": round(float(a), 5), encoder.name: round(float(b), 5)}
        for c, a, b in zip(C_GRID, planted.mean(0), real.mean(0))
    ]
    v_planted, ci_planted = stats.above(planted[:, 0], THRESHOLD_COSINE)
    v_real, ci_real = stats.above(real[:, 0], THRESHOLD_COSINE)
    result.claim(
        EXPERIMENTS[result.experiment].claims["lr-tends-to-mean-difference"],
        stats.all_of([v_planted, v_real]),
        f"cosine at C=1e-6: planted {ci_planted.plain()}, {encoder.name} {ci_real.plain()} "
        f"({stats.spread(config.n_seeds)}; the claim needs the interval above {THRESHOLD_COSINE}); at C=100: planted "
        f"{planted[:, -1].mean():.3f}, {encoder.name} {real[:, -1].mean():.3f}",
        _setting(encoder),
    )

    def draw(ax):
        ax.semilogx(C_GRID, planted.mean(0), "o-", label="planted data")
        ax.semilogx(C_GRID, real.mean(0), "s-", label=f"{encoder.name}, number comparisons")
        ax.set_xlabel("C (inverse L2 strength)")
        ax.set_ylabel("cosine(LR direction, mean difference)")
        ax.set_ylim(min(planted.min(), real.min()) - 0.05, 1.02)
        ax.legend()

    figure(
        result,
        folder,
        "cosine",
        f"Cosine between the logistic-regression direction and the mean difference, against C "
        f"(mean of {config.n_seeds} seeds)",
        draw,
    )


THRESHOLD_COSINE = 0.999  # what "tends to the mean difference" is taken to mean at C = 1e-6 (the claim says so)
THRESHOLD_READABLE = 0.9  # the claim's own threshold for "readable"


# -- 2. probes versus LAT, CCS and mean difference -------------------------------------------------

METHODS = {
    "LR": lambda seed: LogisticProbe(C=1.0),
    "mass-mean (iid)": lambda seed: MeanDifferenceProbe(covariance="iid"),
    "LDA (shrinkage)": lambda seed: MeanDifferenceProbe(covariance="shrinkage"),
    "mean difference": lambda seed: MeanDifferenceProbe(),
    "LAT (paired)": lambda seed: LATProbe(paired=True, random_state=seed),
    "LAT (unpaired)": lambda seed: LATProbe(paired=False, random_state=seed),
    # DLK's 10 restarts, lr 1e-3 and weight decay, trained to convergence (every restart's direction still within
    # 1e-5 of where it was 100 epochs before) rather than for DLK's fixed 1000 epochs, which stop short on real data
    "CCS": lambda seed, quick=False: CCSProbe(n_epochs=1000 if quick else CCS_MAX_EPOCHS, tol=1e-5, random_state=seed),
}
# a ceiling only (--quick: DLK's 1000): fits stop at convergence (5,500 epochs on number comparisons, measured),
# and the results count those that did not
CCS_MAX_EPOCHS = 10_000
PAIRED = {"CCS"}  # scored on pairs, by DLK's pair credence; the others score single statements


def _halves(y: np.ndarray, pair: np.ndarray, rng: np.random.Generator):
    """Each pair once, its two members in a random order (which comes first must not give the truth away):
    (first, second, first_is_true)."""
    firsts = np.flatnonzero(pair > np.arange(len(pair)))
    flip = rng.random(len(firsts)) < 0.5
    a, b = np.where(flip, pair[firsts], firsts), np.where(flip, firsts, pair[firsts])
    return a, b, y[a]


def _fit(name: str, seed: int, X, y, pair, rng: np.random.Generator, quick: bool = False):
    """Fit one method on rows that come in contrast pairs (pair[i] is i's partner)."""
    probe = METHODS[name](seed, quick=True) if name == "CCS" and quick else METHODS[name](seed)
    if name == "LAT (paired)":
        a, b, a_true = _halves(y, pair, rng)
        true_half, false_half = np.where(a_true == 1, a, b), np.where(a_true == 1, b, a)
        return probe.fit(np.concatenate([X[true_half], X[false_half]]), np.r_[np.ones(len(a)), np.zeros(len(a))])
    if name == "CCS":
        a, b, a_true = _halves(y, pair, rng)
        return probe.fit(X[a], a_true, X_neg=X[b])
    return probe.fit(X, y)


def _score(name, probe, X, y, pair, rng) -> float:
    """AUROC: of single statements, or (CCS) of the pair credence that the first member is the true one."""
    if name in PAIRED:
        a, b, a_true = _halves(y, pair, rng)
        return float(roc_auc_score(a_true, probe.pair_scores(X[a], X[b])))
    return probe.score(X, y)


def _settings(config: Config, encoder: Encoder, seed: int, statements):
    """(name, X_train, y_train, pair_train, X_iid, y_iid, pair_iid, X_ood, y_ood, pair_ood) per dataset."""
    rng = np.random.default_rng(seed)
    p = data.planted(n=600 if config.quick else 2000, seed=seed)
    pair = np.arange(len(p.y_train)) ^ 1
    yield "planted", p.X_train, p.y_train, pair, p.X_iid, p.y_iid, pair, p.X_ood, p.y_ood, pair
    for name, (base, negated) in statements.items():
        X, X_ood = encoder.encode(base.text), encoder.encode(negated.text)
        train, test = _split_pairs(base, rng)
        yield (
            name,
            X[train],
            base.label[train],
            _subset_pairs(base.pair, train),
            X[test],
            base.label[test],
            _subset_pairs(base.pair, test),
            X_ood,
            negated.label,
            negated.pair,
        )


def probes_vs_lat(result: Result, config: Config, encoder: Encoder, folder: Path, progress: Progress):
    n = 300 if config.quick else 1000
    statements = _statements(config)
    result.data = {
        "planted": f"{600 if config.quick else 2000} rows per split, drawn per seed; OOD swaps the nuisance direction",
        "comparisons": f"{n} statements, a new 50/50 train/test split by contrast pair per seed; OOD: {n} negated"
        " statements",
        "cities": f"{len(data.CITIES) * 2} statements ({len(data.CITIES)} cities), split as above; OOD: negations",
        "scoring": "AUROC of single statements; CCS: AUROC of DLK's pair credence 0.5 (p(x+) + 1 - p(x-))",
    }
    rows, ccs_fits = [], []
    for seed in config.seed_list:
        progress(f"seed {seed} ({config.seed_list.index(seed) + 1} of {config.n_seeds})")
        rng = np.random.default_rng(1000 + seed)
        for setting, Xtr, ytr, pair, Xiid, yiid, piid, Xood, yood, pood in _settings(config, encoder, seed, statements):
            for method in METHODS:
                probe = _fit(method, seed, Xtr, ytr, pair, rng, config.quick)
                if method == "CCS":
                    ccs_fits.append(
                        {
                            "setting": setting,
                            "seed": seed,
                            "loss": probe.loss_,
                            "epochs": probe.n_epochs_,
                            "converged": probe.converged_,
                            "drift": probe.drift_,
                        }
                    )
                rows.append(
                    {
                        "setting": setting,
                        "method": method,
                        "seed": seed,
                        "iid": _score(method, probe, Xiid, yiid, piid, rng),
                        "ood": _score(method, probe, Xood, yood, pood, rng),
                    }
                )
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    per_seed = {
        (s, m, k): np.array([r[k] for r in rows if r["setting"] == s and r["method"] == m])
        for s in settings
        for m in METHODS
        for k in ("iid", "ood")
    }
    summary = []
    for s in settings:
        for m in METHODS:
            row = {"setting": s, "method": m}
            for k in ("iid", "ood"):
                ci = stats.interval(per_seed[s, m, k])
                row |= {f"{k}_mean": round(ci.mean, 4), f"{k}_low": round(ci.low, 4), f"{k}_high": round(ci.high, 4)}
            summary.append(row)
    result.tables["auroc"] = summary
    result.tables["auroc_per_seed"] = rows
    result.tables["ccs_convergence"] = ccs_fits
    claims = EXPERIMENTS[result.experiment].claims
    where = _setting(encoder)

    def label(s):
        return "planted" if s == "planted" else f"{s} ({encoder.name})"

    # 1. LAT worse than LR in distribution: the paired per-seed differences, every setting
    parts = {s: stats.greater(per_seed[s, "LR", "iid"] - per_seed[s, "LAT (paired)", "iid"]) for s in settings}
    result.claim(
        claims["lat-worse-in-distribution"],
        stats.all_of(v for v, _ in parts.values()),
        "IID AUROC of LR minus LAT (paired), per seed: "
        + "; ".join(f"{label(s)}: {ci} -> {v}" for s, (v, ci) in parts.items()),
        where,
    )
    # 2. mean difference >= LAT out of distribution, where the comparison means something: where one of the
    # two reads something that survives the shift (its OOD AUROC interval lies above chance). Where both are
    # at or below chance, the direction they read is one the shift reverses (an association, not truth).
    informative = [
        s
        for s in settings
        if any(
            stats.above(per_seed[s, m, "ood"], 0.5)[0] == stats.REPRODUCED for m in ("mean difference", "LAT (paired)")
        )
    ]
    parts = {
        s: stats.greater(per_seed[s, "mean difference", "ood"] - per_seed[s, "LAT (paired)", "ood"], or_equal=True)
        for s in settings
    }
    uninformative = [s for s in settings if s not in informative]
    result.claim(
        claims["mean-difference-ood-at-least-lat"],
        stats.all_of(parts[s][0] for s in informative),
        "OOD AUROC of mean difference minus LAT (paired), per seed: "
        + "; ".join(
            f"{label(s)}: {parts[s][1]}" + (f" -> {parts[s][0]}" if s in informative else " (not counted)")
            for s in settings
        )
        + (
            f". Not counted: {', '.join(uninformative)}, where neither method's OOD AUROC interval lies above chance"
            " (they read something negation reverses, not truth)"
            if uninformative
            else ""
        )
        + (". The verdict rests on planted data only" if informative == ["planted"] else ""),
        where,
    )
    # 3. truth linearly readable: in distribution AND on the negations, for every real dataset
    real = [s for s in settings if s != "planted"]
    parts = {(s, k): stats.above(per_seed[s, "LR", k], THRESHOLD_READABLE) for s in real for k in ("iid", "ood")}
    result.claim(
        claims["truth-linearly-readable"],
        stats.all_of(v for v, _ in parts.values()),
        f"LR AUROC ({stats.spread(config.n_seeds)}), in distribution and on the negated statements with the "
        "same probe: "
        + "; ".join(
            f"{s}: IID {parts[s, 'iid'][1].plain(stats.RATE)}, negated {parts[s, 'ood'][1].plain(stats.RATE)}"
            for s in real
        )
        + f". Both must lie above {THRESHOLD_READABLE}: a probe that reads truth keeps reading it under negation;"
        " one far below chance there reads something negation reverses",
        where,
    )
    converged = sum(f["converged"] for f in ccs_fits)
    result.data["ccs"] = (
        "DLK's 10 restarts, AdamW lr 1e-3, weight decay 0.01, trained until every restart's direction moves less "
        f"than 1e-5 (1 - cosine) in 100 epochs, at most {1000 if config.quick else CCS_MAX_EPOCHS} epochs; "
        f"{converged} of {len(ccs_fits)} fits converged, after "
        f"{min(f['epochs'] for f in ccs_fits)}-{max(f['epochs'] for f in ccs_fits)} epochs; final loss "
        f"{np.mean([f['loss'] for f in ccs_fits]):.4f} on average (max {max(f['loss'] for f in ccs_fits):.4f})"
    )
    get = lambda s, m, k: float(np.mean(per_seed[s, m, k]))  # noqa: E731

    def draw(ax):
        width = 0.8 / len(METHODS)
        for i, method in enumerate(METHODS):
            for j, kind in enumerate(("iid", "ood")):
                xs = np.arange(len(settings)) * 2 + j
                ys = [get(s, method, kind) for s in settings]
                cis = [stats.interval(per_seed[s, method, kind]) for s in settings]
                ax.bar(
                    xs + i * width - 0.4,
                    ys,
                    width,
                    yerr=[[y - c.low for y, c in zip(ys, cis)], [c.high - y for y, c in zip(ys, cis)]]
                    if config.n_seeds > 1
                    else None,
                    error_kw={"lw": 0.6},
                    label=method if j == 0 else None,
                    color=f"C{i}",
                    alpha=1.0 if kind == "iid" else 0.55,
                )
        # one label a setting, under its pair of groups: six labels did not fit a phone-sized figure
        ax.set_xticks([k * 2 + 0.5 - 0.4 + width * len(METHODS) / 2 - width / 2 for k in range(len(settings))])
        ax.set_xticklabels([f"{s}\nIID | OOD" for s in settings])
        ax.set_ylabel("AUROC")
        ax.set_ylim(0, 1.05)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.axhline(0.5, color="grey", lw=0.5)
        ax.legend()

    figure(
        result,
        folder,
        "auroc",
        f"AUROC in distribution (dark) and out of distribution (light): mean and 95% CI over {config.n_seeds} seeds "
        "(CCS: of its pair credence)",
        draw,
    )


# -- 3. coup probes --------------------------------------------------------------------------------


def coup_probes(result: Result, config: Config, encoder: Encoder, folder: Path, progress: Progress):
    rows = []
    n = 100 if config.quick else 300
    for seed in config.seed_list:
        progress(f"seed {seed} ({config.seed_list.index(seed) + 1} of {config.n_seeds})")
        d = data.coup(n=n, seed=seed)
        X = encoder.encode(d.train_text)
        sets = {k: encoder.encode(getattr(d, k)) for k in ("held_out", "shifted", "benign", "hard_negatives")}
        for name, probe in (("LR", LogisticProbe(C=1.0)), ("mean difference", MeanDifferenceProbe())):
            probe.fit(X, d.train_label)
            benign = probe.decision_function(sets["benign"])
            threshold = np.quantile(benign, 0.99)  # the alarm rate on normal traffic is 1%
            rows.append(
                {
                    "probe": name,
                    "seed": seed,
                    "tpr_held_out": float((probe.decision_function(sets["held_out"]) > threshold).mean()),
                    "tpr_shifted": float((probe.decision_function(sets["shifted"]) > threshold).mean()),
                    "fpr_hard_negatives": float((probe.decision_function(sets["hard_negatives"]) > threshold).mean()),
                }
            )
    result.data = {
        "train": f"{n} theft-advice texts vs {n} benign how-to texts, from templates, drawn anew per seed",
        "held_out": f"{n // 2} theft-advice texts in the training format, none of them a training text",
        "shifted": f"{n // 2} in Q&A, numbered-steps and chat formats",
        "benign": f"{n} how-to texts, none of them a training text (sets the 1% threshold)",
        "hard_negatives": f"{n // 2} anti-theft advice texts",
        "not_tested": f"on-policy examples: {encoder.name} generates no text, so off- and on-policy are not compared",
    }
    keys = ("tpr_held_out", "tpr_shifted", "fpr_hard_negatives")
    values = {(p, k): [r[k] for r in rows if r["probe"] == p] for p in ("LR", "mean difference") for k in keys}
    summary = []
    for p in ("LR", "mean difference"):
        row = {"probe": p}
        for k in keys:
            ci = stats.interval(values[p, k])
            row |= {k: round(ci.mean, 3), f"{k}_low": round(ci.low, 3), f"{k}_high": round(ci.high, 3)}
        summary.append(row)
    result.tables["coup"] = summary
    claims = EXPERIMENTS[result.experiment].claims
    where = _setting(encoder)
    hard = stats.interval(values["LR", "fpr_hard_negatives"])
    # what a catch rate means depends on what else the probe fires on: said beside each catch
    caveat = (
        f". The same probe fires on {hard.plain(stats.RATE)} of anti-theft texts"
        + (": it separates texts about theft, not advice to steal" if hard.mean > 0.5 else "")
        + f"; positives and negatives come from templates, and only off-policy (template) training is tested: "
        f"{encoder.name} generates no text, so nothing here is on-policy"
    )
    for claim, key, test, limit, what in (
        (claims["catches-held-out"], "tpr_held_out", stats.above, 0.8, "TPR at 1% FPR on held-out positives"),
        (claims["catches-other-formats"], "tpr_shifted", stats.above, 0.5, "TPR at 1% FPR on format-shifted positives"),
        (
            claims["rarely-fires-on-hard-negatives"],
            "fpr_hard_negatives",
            stats.below,
            0.2,
            "rate of firing on anti-theft advice",
        ),
    ):
        verdict, ci = test(values["LR", key], limit)
        other = stats.interval(values["mean difference", key])
        result.claim(
            claim,
            verdict,
            f"LR {what}: {ci.plain(stats.RATE)} ({stats.spread(config.n_seeds)}; the claim needs it "
            f"{'above' if test is stats.above else 'below'} {limit}); mean difference {other.plain(stats.RATE)}"
            + (caveat if key != "fpr_hard_negatives" else ""),
            where,
        )

    def draw(ax):
        xs = np.arange(len(keys))
        for i, row in enumerate(summary):
            ax.bar(
                xs + i * 0.38 - 0.19,
                [row[k] for k in keys],
                0.38,
                yerr=[[row[k] - row[f"{k}_low"] for k in keys], [row[f"{k}_high"] - row[k] for k in keys]]
                if config.n_seeds > 1
                else None,
                label=row["probe"],
            )
        ax.set_xticks(xs)
        ax.set_xticklabels(["TPR,\nheld-out", "TPR,\nother formats", "FPR,\nhard negatives"])
        ax.set_ylim(0, 1.05)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.set_ylabel("rate at the 1% FPR threshold")  # the model is named beside the figure
        ax.legend()

    figure(
        result,
        folder,
        "coup",
        f"Off-policy probes at a threshold set for 1% false positives on benign text (95% CI over {config.n_seeds} "
        "seeds)",
        draw,
    )


# -- 4. pruning by activation standard deviation --------------------------------------------------

FRACTIONS = np.round(np.arange(0, 1.0, 0.1), 1)
ROUNDING = 1e-12  # float64 noise in a loss difference: a dead unit's "rise" can be 1e-16 against a bound of 0
RIVALS = {"high-std": "high-std first", "random": "random", "magnitude": "magnitude", "apoz": "APoZ"}


def _accuracy(net, X, y, replace=None) -> float:
    return float((net.forward(X, replace)[-1].argmax(1) == y).mean())


def std_pruning(result: Result, config: Config, encoder, folder: Path, progress: Progress):
    curves = {}  # (criterion, replace) -> per seed, accuracy at each fraction
    bound_rows = []
    for seed in config.seed_list:
        progress(f"training the MLP, seed {seed}")
        Xtr, Xte, ytr, yte = digits(seed)
        net = train_mlp(Xtr, ytr, epochs=60 if config.quick else 150, seed=seed)
        progress(f"pruning, seed {seed}")
        for criterion in pruning.CRITERIA:
            order = np.argsort(pruning.scores(net, Xtr, ytr, 0, criterion, seed), kind="stable")
            for replace in ("mean", "zero"):
                curves.setdefault((criterion, replace), []).append(
                    [
                        _accuracy(
                            net, Xte, yte, pruning.prune(net, Xtr, 0, order[: int(round(f * len(order)))], replace)
                        )
                        for f in FRACTIONS
                    ]
                )
        curves.setdefault(("unpruned", "-"), []).append([_accuracy(net, Xte, yte)] * len(FRACTIONS))
        bound = pruning.loss_rise_bound(net, Xtr, 0)
        literal = pruning.literal_bound(net, Xtr, 0)
        measured = pruning.measured_loss_rise(net, Xtr, ytr, 0)
        bound_rows += [
            {"seed": seed, "unit": j, "bound": float(b), "literal": float(k), "measured": float(m)}
            for j, (b, k, m) in enumerate(zip(bound, literal, measured))
        ]
    progress("random networks and the constructed one")
    n_random = 50 if config.quick else 200
    random_checks = _bound_on_random_networks(n_random)
    net, X, y = pruning.counterexample()
    example = {
        "measured": float(pruning.measured_loss_rise(net, X, y, 0)[0]),
        "literal": float(pruning.literal_bound(net, X, 0)[0]),
        "bound": float(pruning.loss_rise_bound(net, X, 0)[0]),
        "std": float(net.forward(X)[1].std(0)[0]),
        "K_all": float(np.prod([np.linalg.norm(W, 2) for W in net.weights])),
    }
    curves = {k: np.array(v) for k, v in curves.items()}
    mean = {k: v.mean(0) for k, v in curves.items()}
    result.data = {
        "digits": "scikit-learn's 8x8 digits, 1,257 train / 540 test, a new split and network per seed",
        "network": "64-128-64-10 ReLU MLP, first hidden layer pruned",
        "random networks": f"{n_random} ReLU networks of random depth (2-4 layers), widths and weight scales, random "
        "data and labels: every unit of every hidden layer replaced by its mean in turn",
    }
    result.tables["accuracy"] = [
        {"criterion": c, "replace": r, **{f"{f:.1f}": round(float(a), 4) for f, a in zip(FRACTIONS, acc)}}
        for (c, r), acc in mean.items()
    ]
    result.tables["bound_vs_measured"] = bound_rows
    result.tables["literal_bound_counterexample"] = [example]
    half = list(FRACTIONS).index(0.5)
    pruned = slice(1, None)  # 10% to 90% pruned: the area under the pruning curve
    claims = EXPERIMENTS[result.experiment].claims
    base = curves[("unpruned", "-")][:, 0]
    v, ci = stats.below(base - curves[("std", "mean")][:, half], 0.02)
    result.claim(
        claims["half-pruned-costs-little"],
        v,
        f"accuracy drop with the lowest-std half of the units pruned (mean replacement), per seed: {ci.plain()} "
        f"({stats.spread(config.n_seeds)}; the claim needs it below 0.02); accuracy "
        f"{base.mean():.3f} unpruned, {mean[('std', 'mean')][half]:.3f} half pruned; other criteria at half: "
        + ", ".join(f"{c} {mean[(c, 'mean')][half]:.3f}" for c in pruning.CRITERIA if c != "std"),
    )
    v, ci = stats.greater(curves[("std", "mean")][:, half] - curves[("std", "zero")][:, half])
    result.claim(
        claims["mean-beats-zero-replacement"],
        v,
        f"half pruned by std, accuracy with mean replacement minus zero replacement, per seed: {ci}",
    )
    auc = {c: curves[(c, "mean")][:, pruned].mean(1) for c in pruning.CRITERIA}
    for claim, rivals in (
        (claims["low-std-first-is-better"], ("high-std", "random")),
        (claims["std-beats-magnitude-and-apoz"], ("magnitude", "apoz")),
    ):
        parts = {r: stats.greater(auc["std"] - auc[r]) for r in rivals}
        result.claim(
            claim,
            stats.all_of(v for v, _ in parts.values()),
            "mean accuracy over 10%-90% pruned (mean replacement), low-std first minus "
            + "; ".join(f"{RIVALS[r]}: {ci} -> {v}" for r, (v, ci) in parts.items())
            + f". Low-std first: {auc['std'].mean():.3f}, "
            + ", ".join(f"{RIVALS[r]} {auc[r].mean():.3f}" for r in rivals),
        )
    over = sum(r["measured"] > r["bound"] + ROUNDING for r in bound_rows)
    ratio = max(r["measured"] / r["bound"] for r in bound_rows if r["bound"] > 0)
    result.claim(
        claims["bound-holds"],
        stats.REPRODUCED if over == 0 and random_checks["over"] == 0 else stats.NOT_REPRODUCED,
        f"{len(bound_rows)} single-unit replacements in the trained networks: the measured rise exceeds the bound "
        f"{over} times and reaches at most {ratio:.1%} of it (it holds but is loose); {random_checks['units']} units "
        f"of {n_random} random networks: exceeded {random_checks['over']} times, at most "
        f"{random_checks['ratio']:.1%} of the bound",
    )
    literal_over = sum(r["measured"] > r["literal"] + ROUNDING for r in bound_rows)
    result.claim(
        claims["literal-bound-holds"],
        stats.NOT_REPRODUCED if example["measured"] > example["literal"] or literal_over else stats.REPRODUCED,
        f"a constructed network (one input x = +-100, a hidden unit reading 0.01 x, an output layer of scale 100): "
        f"replacing the unit by its mean raises the loss by {example['measured']:.2f}, against K std = "
        f"{example['K_all']:.2f} x {example['std']:.2f} = {example['literal']:.2f} for the literal bound (K the "
        f"product of every layer's operator norm, no sqrt(2)); the sound bound sqrt(2) K_j std_j is "
        f"{example['bound']:.1f}. "
        f"In the trained networks the literal bound is exceeded {literal_over} times in {len(bound_rows)}",
    )

    def draw_curves(ax):
        for i, c in enumerate(pruning.CRITERIA):
            ax.plot(FRACTIONS, mean[(c, "mean")], "-o", color=f"C{i}", ms=3, label=f"{c}, mean")
            ax.plot(FRACTIONS, mean[(c, "zero")], "--", color=f"C{i}", label=f"{c}, zero")
        ax.set_xlabel("fraction of the first hidden layer pruned")
        ax.set_ylabel("test accuracy (digits)")
        ax.legend()

    def draw_bound(ax):
        b = np.array([r["bound"] for r in bound_rows])
        m = np.array([max(r["measured"], 1e-7) for r in bound_rows])
        ax.loglog(b + 1e-7, m, ".", alpha=0.6, label="trained networks, sqrt(2) K_j std_j")
        ax.loglog([example["literal"]], [example["measured"]], "rx", ms=10, label="constructed network, literal K std")
        ax.loglog(
            [example["bound"]], [example["measured"]], "g+", ms=10, label="constructed network, sqrt(2) K_j std_j"
        )
        lim = [1e-7, max(b.max(), example["bound"], 1e-6) * 2]
        ax.plot(lim, lim, "k-", lw=0.8, label="bound = measured")
        ax.set_xlabel("bound")
        ax.set_ylabel("measured loss rise")
        ax.legend()

    figure(
        result,
        folder,
        "accuracy",
        f"Accuracy against the fraction of units pruned, per criterion, mean (solid) or zero (dashed) replacement "
        f"(mean of {config.n_seeds} seeds)",
        draw_curves,
    )
    figure(
        result,
        folder,
        "bound",
        "Per unit: the bound against the measured loss rise when the unit is replaced by its mean; the red cross "
        "(above the line) is the constructed network where the thread's literal bound fails",
        draw_bound,
    )


def _bound_on_random_networks(count: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    units = over = 0
    ratio = 0.0
    for _ in range(count):
        net, X, y = pruning.random_network(rng)
        for layer in range(len(net.weights) - 1):
            bound = pruning.loss_rise_bound(net, X, layer)
            measured = pruning.measured_loss_rise(net, X, y, layer)
            units += len(bound)
            over += int(np.sum(measured > bound + ROUNDING))
            ratio = max(ratio, float(np.max(np.where(bound > 0, measured / np.where(bound > 0, bound, 1), 0))))
    return {"units": units, "over": over, "ratio": ratio}


RUNNERS = {
    "mean-difference-is-regularised-lr": mean_difference_is_regularised_lr,
    "probes-vs-lat": probes_vs_lat,
    "coup-probes": coup_probes,
    "std-pruning": std_pruning,
}
