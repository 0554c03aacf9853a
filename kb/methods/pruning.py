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

CRITERIA = ("std", "apoz", "magnitude", "taylor", "random")


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
    if criterion == "std":
        return a.std(0)
    if criterion == "apoz":  # many zeros = unimportant
        return -(a <= 0).mean(0)
    if criterion == "magnitude":  # the norm of the unit's incoming weights
        return np.linalg.norm(net.weights[layer], axis=1)
    if criterion == "taylor":  # |mean over data of activation x d loss / d activation|
        return np.abs((a * _grad_wrt_hidden(net, acts, y, layer)).mean(0))
    if criterion == "random":
        return np.random.default_rng(seed).random(a.shape[1])
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
