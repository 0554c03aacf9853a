"""Pruning the units of one hidden layer, by activation statistics and the usual rival criteria.

A pruned unit is replaced by a constant: zero (plain removal) or its mean activation over the
training data. A constant unit can be folded into the next layer's bias, so mean replacement removes
the unit exactly as zero replacement does; `fold` does that and returns a smaller network.

Implements activation-statistics pruning (network-trimming-2016: APoZ; the standard-deviation
criterion argued in the thread), beside magnitude (learning-weights-connections-2015) and Taylor
(pruning-cnns-resource-efficient-inference-2017) criteria.
"""

from __future__ import annotations

import numpy as np

from kb.methods.models import MLP

CRITERIA = ("std", "high-std", "apoz", "magnitude", "taylor", "random")


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    z = logits - logits.max(1, keepdims=True)
    return np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y]


def scores(net: MLP, X: np.ndarray, y: np.ndarray, layer: int, criterion: str, seed: int = 0) -> np.ndarray:
    """Importance of each unit of hidden `layer`: the lowest are pruned first."""
    acts = net.forward(X)
    a = acts[layer + 1]
    if criterion == "std":  # the thread's idea: low-std units first
        return a.std(0)
    if criterion == "high-std":  # its opposite, to test the idea: high-std units first
        return -a.std(0)
    if criterion == "apoz":  # many zeros = unimportant
        return -(a <= 0).mean(0)
    if criterion == "magnitude":  # the norm of the unit's incoming weights
        return np.linalg.norm(net.weights[layer], axis=1)
    if criterion == "taylor":  # |mean over data of activation x d loss / d activation|
        return np.abs((a * _grad_wrt_hidden(net, acts, y, layer)).mean(0))
    if criterion == "random":
        return np.random.default_rng(seed).random(int(a.shape[1]))
    raise ValueError(f"unknown criterion {criterion!r}; known: {', '.join(CRITERIA)}")


def _grad_wrt_hidden(net: MLP, acts: list[np.ndarray], y: np.ndarray, layer: int) -> np.ndarray:
    g = _softmax(acts[-1])
    g[np.arange(len(y)), y] -= 1  # d loss / d logits
    for i in range(len(net.weights) - 1, layer, -1):
        g = g @ net.weights[i]
        if i - 1 > layer:
            g = g * (acts[i] > 0)
    return g / len(y)


def prune(net: MLP, X_fit: np.ndarray, layer: int, units: np.ndarray, replace: str = "mean"):
    """The `replace` argument for MLP.forward that sets `units` to their mean (over X_fit) or zero."""
    width = net.weights[layer].shape[0]
    mask = np.zeros(width, dtype=bool)
    mask[units] = True
    values = net.forward(X_fit)[layer + 1].mean(0) if replace == "mean" else np.zeros(width)
    return {layer: (mask, values)}


def fold(net: MLP, X_fit: np.ndarray, layer: int, units: np.ndarray, replace: str = "mean") -> MLP:
    """A smaller network without `units`: their constant output is added into the next layer's bias."""
    mean = net.forward(X_fit)[layer + 1].mean(0) if replace == "mean" else np.zeros(net.weights[layer].shape[0])
    keep = np.setdiff1d(np.arange(net.weights[layer].shape[0]), units)
    W, b = [w.copy() for w in net.weights], [c.copy() for c in net.biases]
    b[layer + 1] = b[layer + 1] + W[layer + 1][:, units] @ mean[units]
    W[layer], b[layer] = W[layer][keep], b[layer][keep]
    W[layer + 1] = W[layer + 1][:, keep]
    return MLP(W, b)


def lipschitz_factors(net: MLP, layer: int) -> np.ndarray:
    """K_j = ||W_next[:, j]|| x the product of the operator norms of the later layers.

    Replacing unit j by a constant c moves the logits by at most K_j |a_j - c| (ReLU is 1-Lipschitz).
    """
    later = np.prod([np.linalg.norm(W, 2) for W in net.weights[layer + 2 :]]) if len(net.weights) > layer + 2 else 1.0
    return np.linalg.norm(net.weights[layer + 1], axis=0) * later


def loss_rise_bound(net: MLP, X: np.ndarray, layer: int) -> np.ndarray:
    """Per unit, the bound on the mean cross-entropy rise when it is replaced by its mean: sqrt(2) K_j std_j.

    Cross-entropy is sqrt(2)-Lipschitz in the logits (its gradient softmax - onehot has norm at most
    sqrt(2)), and E|a_j - mean| <= std_j; this is the thread's "K times the standard deviation" bound in
    a form that holds.
    """
    return np.sqrt(2) * lipschitz_factors(net, layer) * net.forward(X)[layer + 1].std(0)


def measured_loss_rise(net: MLP, X: np.ndarray, y: np.ndarray, layer: int) -> np.ndarray:
    """Per unit, the mean cross-entropy rise on X when that unit alone is replaced by its mean."""
    base = cross_entropy(net.forward(X)[-1], y).mean()
    width = net.weights[layer].shape[0]
    return np.array(
        [cross_entropy(net.forward(X, prune(net, X, layer, np.array([j])))[-1], y).mean() - base for j in range(width)]
    )


def literal_bound(net: MLP, X: np.ndarray, layer: int) -> np.ndarray:
    """The thread's bound taken literally, per unit: K std_j with K the product of the operator norms of every
    layer of the network (its Lipschitz constant from input to logits) and no sqrt(2).

    It is not a bound: K includes the layers below the unit, which do not lie between the unit and the loss,
    and cross-entropy can move faster than the logits. `counterexample` builds a network where it fails.
    """
    K = np.prod([np.linalg.norm(W, 2) for W in net.weights])
    return K * net.forward(X)[layer + 1].std(0)


def counterexample(scale: float = 100.0, n: int = 1000, seed: int = 0):
    """A network and data on which the literal bound fails: (net, X, y).

    One input x = +-100, true class 1 for nine rows in ten. The hidden unit reads 0.01 x, so it is 1 or 0
    (std 0.3) while the first layer's operator norm is 0.01; the output layer gives the logits +-scale/2 (a - 0.5).
    Replacing the unit by its mean 0.9 makes every class-0 row confidently wrong, a large loss rise, while K std
    stays small because the tiny first layer enters K.
    """
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.9).astype(int)
    y[:2] = (0, 1)  # both classes, whatever the draw
    X = np.where(y == 1, 100.0, -100.0)[:, None]
    weights = [np.array([[0.01]]), np.array([[-scale / 2], [scale / 2]])]
    biases = [np.zeros(1), np.array([scale / 4, -scale / 4])]
    return MLP(weights, biases), X, y


def random_network(rng: np.random.Generator, n: int = 200) -> tuple[MLP, np.ndarray, np.ndarray]:
    """A ReLU network of random depth, widths and weight scales, with random data and labels: (net, X, y)."""
    sizes = [int(rng.integers(2, 12)), *rng.integers(2, 16, size=int(rng.integers(1, 4))), int(rng.integers(2, 6))]
    weights = [rng.normal(size=(b, a)) * rng.uniform(0.2, 3) / np.sqrt(a) for a, b in zip(sizes, sizes[1:])]
    biases = [rng.normal(size=b) * rng.uniform(0, 1) for b in sizes[1:]]
    X = rng.normal(size=(n, sizes[0])) * rng.uniform(0.5, 5)
    return MLP(weights, biases), X, rng.integers(0, sizes[-1], size=n)


def sqrt2_counterexample(scale: float = 1.0, c: float = 1.0, wrong: float = 10.0, n: int = 1000):
    """A network on which K_j std_j, with K_j over the later layers only but no sqrt(2), fails: (net, X, y).

    One input x = +-1 and two hidden units relu(c x) and relu(-c x), so unit 0 is 0 or c, half the rows each
    (E|a - mean| equals its std, c/2). The output layer is confidently wrong on every row (margin `wrong`) and
    replacing unit 0 by its mean pushes both halves further the wrong way, where cross-entropy rises at its
    steepest: sqrt(2) per unit of logit distance along (1, -1). The rise is scale c / 2 against K_0 std_0 =
    (scale / sqrt(2)) (c / 2): a factor sqrt(2) too small, and sqrt(2) K_0 std_0 is met almost exactly.
    """
    X = np.where(np.arange(n) % 2 == 0, -1.0, 1.0)[:, None]
    y = (X[:, 0] < 0).astype(int)  # x = -1 (unit 0 silent) is class 1, x = +1 (unit 0 at c) class 0
    u = (2 * wrong + scale * c) / c  # unit 1's weight: class 1 rows sit `wrong` on the wrong side
    b = -wrong - scale * c  # and so do class 0 rows
    weights = [np.array([[c], [-c]]), np.array([[scale / 2, u / 2], [-scale / 2, -u / 2]])]
    biases = [np.zeros(2), np.array([b / 2, -b / 2])]
    return MLP(weights, biases), X, y


def fold_lowest_std(net: MLP, X: np.ndarray, fraction: float) -> MLP:
    """Both hidden layers (every hidden layer, first to last) with their lowest-std `fraction` of units folded into
    the next layer's bias at their means: the thread's pruning, applied to the whole network."""
    for layer in range(len(net.weights) - 1):
        a = net.forward(X)[layer + 1]
        units = np.argsort(a.std(0), kind="stable")[: int(round(fraction * a.shape[1]))]
        net = fold(net, X, layer, units, "mean")
    return net
