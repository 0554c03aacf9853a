"""Each estimator against a plain numpy transcription, written here, of the steps of the code it claims to follow.

The transcriptions follow the original algorithms step by step, not kb.methods' code: geometry-of-truth's
MMProbe.from_data (mass-mean, iid form through a pseudo-inverse with an absolute cutoff), Representation
Engineering's PCARepReader with n_difference=1 (differences of shuffled pairs, recentred, first principal
component, sign by per-pair majority vote), and Discovering Latent Knowledge's CCS class (each half normalised
on its own, sigmoid(w.x + b), informative + consistent loss, full-batch AdamW, restarts kept by final loss).
"""

import numpy as np
import pytest

pytest.importorskip("sklearn")  # kb.methods.probes needs it to import
from tests.conftest import needs  # noqa: E402

pytestmark = needs("torch")

from kb.methods import data, pruning  # noqa: E402
from kb.methods.probes import CCSProbe, LATProbe, MeanDifferenceProbe  # noqa: E402


def abs_cos(a, b) -> float:
    return abs(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))))


@pytest.fixture(scope="module")
def planted():
    return data.planted(n=2000, seed=3)


# -- geometry of truth: mass-mean probe -----------------------------------------------------------------------


def mass_mean_transcribed(acts, labels, iid: bool, atol=1e-3):
    pos_acts, neg_acts = acts[labels == 1], acts[labels == 0]
    pos_mean, neg_mean = pos_acts.mean(0), neg_acts.mean(0)
    direction = pos_mean - neg_mean
    if not iid:
        return direction
    centered_data = np.concatenate([pos_acts - pos_mean, neg_acts - neg_mean], 0)
    covariance = centered_data.T @ centered_data / acts.shape[0]
    # pinv(hermitian=True, atol): singular values at or below atol are dropped (rtol is 0 when atol is given)
    u, s, vt = np.linalg.svd(covariance)
    inv = vt.T @ np.diag(np.where(s > atol, 1 / np.where(s > atol, s, 1), 0)) @ u.T
    return inv @ direction


@pytest.mark.parametrize("iid", [False, True], ids=["mass-mean", "mass-mean-iid"])
def test_mass_mean_matches_geometry_of_truth(planted, iid):
    X, y = planted.X_train, planted.y_train
    ours = MeanDifferenceProbe(covariance="iid" if iid else None).fit(X, y).direction_
    assert abs_cos(ours, mass_mean_transcribed(X, y, iid)) > 0.999
    assert ours @ mass_mean_transcribed(X, y, iid) > 0  # and points the same way


def test_the_iid_form_drops_directions_below_the_cutoff():
    # a rank-deficient covariance: the pseudo-inverse ignores the flat directions instead of blowing up on them
    rng = np.random.default_rng(0)
    X = np.zeros((400, 6))
    X[:, :3] = rng.normal(size=(400, 3))
    y = np.tile([1, 0], 200)
    X[y == 1, 0] += 1.0
    ours = MeanDifferenceProbe(covariance="iid").fit(X, y).direction_
    assert np.all(np.isfinite(ours)) and np.allclose(ours[3:], 0)
    assert abs_cos(ours, mass_mean_transcribed(X, y, iid=True)) > 0.999


def test_shrinkage_lda_is_a_named_option_that_differs_from_the_iid_form(planted):
    X, y = planted.X_train, planted.y_train
    lda = MeanDifferenceProbe(covariance="shrinkage", shrinkage=0.5).fit(X, y).direction_
    iid = MeanDifferenceProbe(covariance="iid").fit(X, y).direction_
    assert abs_cos(lda, iid) < 0.999
    with pytest.raises(ValueError, match="covariance must be"):
        MeanDifferenceProbe(covariance="ledoit").fit(X, y)


# -- representation engineering: LAT ---------------------------------------------------------------------


def repe_reader_transcribed(true_rows, false_rows, flips):
    """PCARepReader on pairs whose order was shuffled by `flips` (1: the true statement comes first)."""
    # the dataset: each pair in its shuffled order, interleaved; n_difference=1 takes [::2] - [1::2]
    hidden = np.empty((2 * len(true_rows), true_rows.shape[1]))
    hidden[0::2] = np.where(flips[:, None] > 0, true_rows, false_rows)
    hidden[1::2] = np.where(flips[:, None] > 0, false_rows, true_rows)
    labels = [[1, 0] if f > 0 else [0, 1] for f in flips]
    relative = hidden[0::2] - hidden[1::2]
    mean = relative.mean(0, keepdims=True)
    recentred = relative - mean
    # PCA's first component: the top eigenvector of the recentred differences' covariance
    values, vectors = np.linalg.eigh(recentred.T @ recentred)
    direction = vectors[:, -1]
    # get_signs: project the (recentred) hidden states of each pair; is the true one the max or the min?
    projected = (hidden - mean) @ direction
    pairs = projected.reshape(-1, 2)
    is_max = np.mean([o[lab.index(1)] == max(o) for o, lab in zip(pairs, labels)])
    is_min = np.mean([o[lab.index(1)] == min(o) for o, lab in zip(pairs, labels)])
    sign = np.sign(is_max - is_min) or 1.0
    return sign * direction


def test_paired_lat_matches_repe_reader_on_the_same_in_pair_flips(planted):
    X, y = planted.X_train, planted.y_train
    true_rows, false_rows = X[y == 1], X[y == 0]
    seed = 7
    # LATProbe's first draw is its in-pair flips: feed RepE the same ones
    flips = np.random.default_rng(seed).choice([-1.0, 1.0], size=(len(true_rows), 1))[:, 0]
    n = len(true_rows)
    ours = LATProbe(paired=True, random_state=seed).fit(
        np.concatenate([true_rows, false_rows]), np.r_[y[y == 1], y[y == 0]], pair=np.r_[np.arange(n) + n, np.arange(n)]
    )
    theirs = repe_reader_transcribed(true_rows, false_rows, flips)
    assert abs_cos(ours.direction_, theirs) > 0.99999
    assert ours.direction_ @ theirs > 0  # the sign rule agrees too


def test_the_vote_sign_rule_follows_the_pairs_not_the_class_means():
    # most pairs put the true member higher along the axis, but a few far outliers drag the class means the other way
    n = 200
    rng = np.random.default_rng(1)
    base = rng.normal(size=(n, 3)) * 0.01
    base[:, 0] = rng.normal(size=n) * 5  # the spread that PCA finds
    true_rows, false_rows = base.copy(), base.copy()
    true_rows[:, 0] += 0.1
    false_rows[:, 0] -= 0.1
    true_rows[:5, 0] -= 50.0  # five pairs far out, the other way round
    X, y = np.concatenate([true_rows, false_rows]), np.r_[np.ones(n), np.zeros(n)]
    pair = np.r_[np.arange(n) + n, np.arange(n)]
    vote = LATProbe(sign="vote", random_state=0).fit(X, y, pair=pair).direction_
    means = LATProbe(sign="means", random_state=0).fit(X, y, pair=pair).direction_
    assert vote[0] > 0 > means[0]


# -- discovering latent knowledge: CCS ------------------------------------------------------------------------


def ccs_transcribed(x0, x1, init, nepochs=1000, lr=1e-3, weight_decay=0.01, var_normalize=True):
    """DLK's CCS.repeated_train, full batch, with torch.optim.AdamW's update written out, from given starts.
    var_normalize=False is DLK's code's default: the mean removed, the scale left."""

    def normalize(x):
        normalized_x = x - x.mean(axis=0, keepdims=True)
        if var_normalize:
            normalized_x = normalized_x / x.std(axis=0, keepdims=True)
        return normalized_x

    x0, x1 = normalize(x0), normalize(x1)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    best_loss, best = np.inf, None
    for start in init:
        theta = start.copy()  # weights then bias
        m, v = np.zeros_like(theta), np.zeros_like(theta)
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        for step in range(1, nepochs + 1):
            p0, p1 = sig(x0 @ theta[:-1] + theta[-1]), sig(x1 @ theta[:-1] + theta[-1])
            informative_loss = (np.minimum(p0, p1) ** 2).mean()
            consistent_loss = ((p0 - (1 - p1)) ** 2).mean()
            loss = informative_loss + consistent_loss
            # gradients by hand: d/dp of each term, then the sigmoid's p (1 - p), then the inputs
            n = len(p0)
            g0 = (2 * np.minimum(p0, p1) * (p0 <= p1) + 2 * (p0 + p1 - 1)) / n * p0 * (1 - p0)
            g1 = (2 * np.minimum(p0, p1) * (p1 < p0) + 2 * (p0 + p1 - 1)) / n * p1 * (1 - p1)
            grad = np.r_[x0.T @ g0 + x1.T @ g1, g0.sum() + g1.sum()]
            theta *= 1 - lr * weight_decay  # AdamW: decoupled weight decay first
            m = beta1 * m + (1 - beta1) * grad
            v = beta2 * v + (1 - beta2) * grad**2
            m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
            theta -= lr * m_hat / (np.sqrt(v_hat) + eps)
        if loss < best_loss:
            best_loss, best = loss, theta.copy()
    return best, best_loss


def test_ccs_matches_dlk_from_the_same_starts(planted):
    X = planted.X_train
    first, second = X[0::2], X[1::2]
    flip = np.random.default_rng(0).random(len(first)) < 0.5
    x0, x1 = np.where(flip[:, None], second, first), np.where(flip[:, None], first, second)
    ccs = CCSProbe(n_restarts=2, random_state=0).fit(x0, None, X_neg=x1)
    theirs, their_loss = ccs_transcribed(x0, x1, ccs.init_)
    assert abs_cos(ccs.weights_, theirs[:-1]) > 0.999
    assert ccs.loss_ == pytest.approx(their_loss, rel=0.05, abs=1e-4)
    assert ccs.n_epochs_ == 1000  # DLK's default, with no early stop asked for


def test_ccs_with_mean_only_normalisation_matches_dlk_default(planted):
    X = planted.X_train
    first, second = X[0::2], X[1::2]
    flip = np.random.default_rng(1).random(len(first)) < 0.5
    x0, x1 = np.where(flip[:, None], second, first), np.where(flip[:, None], first, second)
    ccs = CCSProbe(n_restarts=2, random_state=0, normalization="mean").fit(x0, None, X_neg=x1)
    theirs, their_loss = ccs_transcribed(x0, x1, ccs.init_, var_normalize=False)
    assert abs_cos(ccs.weights_, theirs[:-1]) > 0.999
    assert ccs.loss_ == pytest.approx(their_loss, rel=0.05, abs=1e-4)
    pos, neg = ccs._normalise(x0, x1)
    assert np.allclose(pos.mean(0), 0, atol=1e-9) and np.allclose(pos, x0 - x0.mean(0))  # the scale is kept
    with pytest.raises(ValueError, match="normalization"):
        CCSProbe(normalization="l2").fit(x0, None, X_neg=x1)


def test_paired_lat_takes_its_pairs_from_the_pairing_not_the_row_order(planted):
    X, y = planted.X_train, planted.y_train  # rows 2i (true) and 2i+1 (false) are pairs
    pair = np.arange(len(y)) ^ 1
    ours = LATProbe(random_state=0).fit(X, y, pair=pair)
    shuffle = np.random.default_rng(0).permutation(len(y))
    back = np.argsort(shuffle)
    shuffled = LATProbe(random_state=0).fit(X[shuffle], y[shuffle], pair=back[pair[shuffle]])
    assert abs_cos(ours.direction_, shuffled.direction_) > 0.99999  # the same pairs, whatever order the rows are in


def test_ccs_normalises_each_half_by_its_own_mean_and_scale():
    rng = np.random.default_rng(2)
    x0, x1 = rng.normal(size=(300, 5)) * 3 + 10, rng.normal(size=(300, 5)) * 0.5 - 4
    ccs = CCSProbe(n_restarts=1, n_epochs=1).fit(x0, None, X_neg=x1)
    pos, neg = ccs._normalise(x0, x1)
    for half in (pos, neg):
        assert np.allclose(half.mean(0), 0, atol=1e-9) and np.allclose(half.std(0), 1, atol=1e-6)


def test_ccs_scores_a_pair_by_dlk_credence(planted):
    X = planted.X_train
    x0, x1 = X[0::2], X[1::2]  # the true member first in every pair
    ccs = CCSProbe(n_restarts=2, n_epochs=50, random_state=0).fit(x0, np.ones(len(x0)), X_neg=x1)
    p0, p1 = ccs.probabilities(x0, x1)
    assert np.allclose(ccs.pair_scores(x0, x1), 0.5 * (p0 + 1 - p1))
    # DLK normalises a scored set by its own statistics: shifting and scaling a whole half changes nothing
    assert np.allclose(ccs.pair_scores(x0 * 3 + 7, x1), ccs.pair_scores(x0, x1))
    assert not np.allclose(ccs.pair_scores(x0 * 3 + 7, x1, statistics="train"), ccs.pair_scores(x0, x1))


# -- the pruning bound --------------------------------------------------------------------------------------


def test_the_sqrt2_k_std_bound_holds_on_200_random_networks():
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(200):
        net, X, y = pruning.random_network(rng)
        for layer in range(len(net.weights) - 1):
            bound = pruning.loss_rise_bound(net, X, layer)
            measured = pruning.measured_loss_rise(net, X, y, layer)
            assert np.all(measured <= bound + 1e-12)
            checked += len(bound)
    assert checked > 1000


def test_the_threads_literal_bound_fails_on_a_constructed_network():
    net, X, y = pruning.counterexample()
    measured = pruning.measured_loss_rise(net, X, y, 0)[0]
    literal = pruning.literal_bound(net, X, 0)[0]
    assert measured > 10 * literal  # K std with K over every layer and no sqrt(2): far below the real rise
    assert measured <= pruning.loss_rise_bound(net, X, 0)[0]  # the sound form still holds


# -- planted data -----------------------------------------------------------------------------------------


def test_planted_pairs_share_their_nuisance():
    p = data.planted(n=4000, seed=1)
    for X in (p.X_train, p.X_iid):
        diffs = X[0::2] - X[1::2]
        rows = X - X.mean(0)
        # the nuisance's spread (std 4, variance 16) is in the rows but cancels in a pair's difference
        assert np.var(rows @ p.nuisance) > 10
        assert np.var(diffs @ p.nuisance) < 0.5
        assert np.var(diffs @ p.nuisance) == pytest.approx(np.var(diffs @ p.truth), rel=0.3)
    diffs = p.X_ood[0::2] - p.X_ood[1::2]
    assert np.var(diffs @ p.ood_nuisance) < 0.5


def test_ccs_trains_to_convergence_and_says_where_it_stopped(planted):
    X = planted.X_train
    x0, x1 = X[0::2], X[1::2]
    capped = CCSProbe(n_restarts=3, n_epochs=200, random_state=0).fit(x0, None, X_neg=x1)
    full = CCSProbe(n_restarts=3, n_epochs=20_000, tol=1e-5, random_state=0).fit(x0, None, X_neg=x1)
    assert full.converged_ and full.drift_ < 1e-5 and full.n_epochs_ < 20_000  # stopped because it settled
    assert not capped.converged_ and capped.n_epochs_ == 200
    assert full.loss_ < capped.loss_  # the capped run stopped short
    assert full.loss_ == pytest.approx(full.losses_.min())  # the kept restart is the one with the lowest loss


def ccs_one_restart_at_a_time(pos, neg, init, n_epochs, lr=1e-3, weight_decay=0.01):
    """The straightforward CCS loop: each restart alone, its loss differentiated by autograd and stepped by
    torch.optim.AdamW (what CCSProbe did before it trained its restarts together with the gradient written out)."""
    import torch

    pos, neg = (torch.tensor(a, dtype=torch.float32) for a in (pos, neg))
    finals, losses = [], []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the probe does: on 2 busy cores torch's threads make these tiny steps 80x slower
    try:
        for start in torch.tensor(init, dtype=torch.float32):
            final, loss = _one_restart(torch, pos, neg, start, n_epochs, lr, weight_decay)
            finals.append(final)
            losses.append(loss)
    finally:
        torch.set_num_threads(threads)
    return np.array(finals), np.array(losses)


def _one_restart(torch, pos, neg, start, n_epochs, lr, weight_decay):
    w, b = start[:-1].clone().requires_grad_(), start[-1].clone().requires_grad_()
    opt = torch.optim.AdamW([w, b], lr=lr, weight_decay=weight_decay)
    loss = lambda: CCSProbe._loss(torch.sigmoid(pos @ w + b)[:, None], torch.sigmoid(neg @ w + b)[:, None])  # noqa: E731
    for _ in range(n_epochs):
        opt.zero_grad()
        loss().sum().backward()
        opt.step()
    with torch.no_grad():
        final = float(loss())
    return torch.cat([w.detach(), b.detach()[None]]).double().numpy(), final


@pytest.mark.slow  # 4-9 s each on the shared cores
@pytest.mark.parametrize("normalization", ["std", "mean"])
def test_ccs_restarts_trained_together_match_each_trained_alone_by_autograd(planted, normalization):
    X = planted.X_train[:600]
    x0, x1 = X[0::2], X[1::2]
    ccs = CCSProbe(n_restarts=3, n_epochs=1000, random_state=2, normalization=normalization).fit(x0, None, X_neg=x1)
    alone, losses = ccs_one_restart_at_a_time(*ccs._normalise(x0, x1), ccs.init_, n_epochs=1000)
    for together, single in zip(ccs.restarts_, alone):  # every restart, not only the kept one: same direction, bias
        assert abs_cos(together[:-1], single[:-1]) > 0.99999
        assert together[-1] == pytest.approx(single[-1], abs=1e-3)
    assert ccs.losses_ == pytest.approx(losses, rel=1e-3, abs=1e-6)
    assert np.array_equal(ccs.weights_, ccs.restarts_[int(np.argmin(ccs.losses_)), :-1])
