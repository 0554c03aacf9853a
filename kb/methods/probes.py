"""Linear probes on activations: logistic regression, mean difference (and LDA), LAT, CCS.

All take X of shape (n_samples, n_features) and labels y in {0, 1} (1 = the concept is present,
e.g. the statement is true), and expose `direction_` and `intercept_`: decision_function(X) is
X @ direction_ + intercept_, and score(X, y) is the AUROC.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import roc_auc_score, roc_curve
from threadpoolctl import threadpool_limits


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def tpr_at_fpr(y: np.ndarray, scores: np.ndarray, fpr: float = 0.01) -> float:
    """The true-positive rate at the threshold that keeps the false-positive rate at or below `fpr`."""
    fprs, tprs, _ = roc_curve(y, scores)
    return float(tprs[fprs <= fpr].max()) if np.any(fprs <= fpr) else 0.0


class LinearProbe(BaseEstimator, ClassifierMixin):
    """What every probe shares once fitted: a direction and an intercept."""

    def decision_function(self, X) -> np.ndarray:
        return np.asarray(X) @ self.direction_ + self.intercept_

    def predict(self, X) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(int)

    def score(self, X, y, sample_weight=None) -> float:
        return float(roc_auc_score(y, self.decision_function(X), sample_weight=sample_weight))

    def _orient(self, X, y) -> None:
        """Point the direction from class 0 to class 1 and put the threshold between their means."""
        X = np.asarray(X)
        if y is None or len(np.unique(y)) < 2:  # no labels (or one class): centre the threshold only
            self.intercept_ = -float(np.mean(X @ self.direction_))
            return
        y = np.asarray(y)
        low, high = (float(np.mean(X[y == c] @ self.direction_)) for c in (0, 1))
        if high < low:
            self.direction_ = -self.direction_
            low, high = -low, -high
        self.intercept_ = -(low + high) / 2


class LogisticProbe(LinearProbe):
    """A logistic-regression probe: the standard linear probe.

    Implements the probes of probing-classifiers-2022, linear-classifier-probes-2016 and coup-probes-2023.
    Small C means strong L2 regularisation; as C -> 0 the direction tends to the mean difference
    (claim 1 of `kb methods run mean-difference-is-regularised-lr`).
    """

    def __init__(self, C: float = 1.0, fit_intercept: bool = True, max_iter: int = 2000, tol: float = 1e-6):
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y):
        # BLAS threads cost more than they give on fits this small (25x slower on 2 cores, measured)
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        with threadpool_limits(1), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = LogisticRegression(C=self.C, fit_intercept=self.fit_intercept, max_iter=self.max_iter, tol=self.tol)
            model.fit(X, y)
        # at tiny C the optimum is near zero and lbfgs stops early; say so rather than warn
        self.converged_ = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        self.direction_ = model.coef_[0].copy()
        self.intercept_ = float(model.intercept_[0]) if self.fit_intercept else 0.0
        self.n_iter_ = int(model.n_iter_[0])
        return self


class MeanDifferenceProbe(LinearProbe):
    """The mass-mean probe: the direction from the mean of class 0 to the mean of class 1.

    With covariance=True the direction is corrected by the pooled within-class covariance (shrunk
    towards a multiple of the identity by `shrinkage`), which is linear discriminant analysis.
    Implements geometry-of-truth-2023 (mass-mean probing), as used in contrastive-activation-addition-2024
    and refusal-single-direction-2024.
    """

    def __init__(self, covariance: bool = False, shrinkage: float = 0.1):
        self.covariance = covariance
        self.shrinkage = shrinkage

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        self.means_ = np.stack([X[y == 0].mean(0), X[y == 1].mean(0)])
        diff = self.means_[1] - self.means_[0]
        if self.covariance:
            centred = np.concatenate([X[y == c] - self.means_[c] for c in (0, 1)])
            cov = centred.T @ centred / len(centred)
            cov = (1 - self.shrinkage) * cov + self.shrinkage * np.trace(cov) / len(cov) * np.eye(len(cov))
            self.direction_ = np.linalg.solve(cov, diff)
        else:
            self.direction_ = diff
        self._orient(X, y)
        return self


class LATProbe(LinearProbe):
    """Linear Artificial Tomography, as Representation Engineering reads a concept.

    Paired (the default): pairs (X[y == 1][i], X[y == 0][i]), e.g. a statement and its contrast; the
    order inside each pair is shuffled, the differences recentred, and their first principal component
    is the direction. paired=False pairs random rows with no labels at all (the label-free variant).
    Either way labels are used only to choose the sign. Implements representation-engineering-2023.
    """

    def __init__(self, paired: bool = True, random_state: int | None = None):
        self.paired = paired
        self.random_state = random_state

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        rng = np.random.default_rng(self.random_state)
        if self.paired:
            pos, neg = X[y == 1], X[y == 0]
            n = min(len(pos), len(neg))
            diffs = pos[:n] - neg[:n]
        else:
            order = rng.permutation(len(X))
            n = len(order) // 2
            diffs = X[order[:n]] - X[order[n : 2 * n]]
        diffs = diffs * rng.choice([-1.0, 1.0], size=(len(diffs), 1))  # no order within a pair
        diffs = diffs - diffs.mean(0)
        with threadpool_limits(1):
            _, _, vt = np.linalg.svd(diffs, full_matrices=False)
        self.direction_ = vt[0]
        self._orient(X, y)
        return self


class CCSProbe(LinearProbe):
    """Contrast-Consistent Search: an unsupervised probe trained on contrast pairs.

    fit(X_pos, y=None, X_neg=...) takes the two halves of each pair (e.g. a statement and its negation)
    as rows of X and X_neg. The loss asks p(x+) ~ 1 - p(x-) (consistency) and min(p(x+), p(x-)) ~ 0
    (confidence); the best of `n_restarts` random starts is kept. Each half is normalised by its own
    mean and scale first, as in the paper. If y (1 when the X row is the true half) is given it is used
    only to choose the sign, which CCS cannot know. Implements discovering-latent-knowledge-2023.
    """

    def __init__(
        self,
        n_restarts: int = 10,
        n_epochs: int = 1000,
        lr: float = 1e-2,
        weight_decay: float = 0.01,
        random_state: int | None = None,
    ):
        self.n_restarts = n_restarts
        self.n_epochs = n_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.random_state = random_state

    def fit(self, X, y=None, X_neg=None):
        import torch

        if X_neg is None:
            raise ValueError("CCS needs contrast pairs: fit(X_pos, y=None, X_neg=X_neg)")
        X, X_neg = np.asarray(X, dtype=np.float32), np.asarray(X_neg, dtype=np.float32)
        self.mean_pos_, self.mean_neg_ = X.mean(0), X_neg.mean(0)
        self.scale_ = np.concatenate([X - self.mean_pos_, X_neg - self.mean_neg_]).std(0).mean() + 1e-8
        pos = torch.from_numpy((X - self.mean_pos_) / self.scale_)
        neg = torch.from_numpy((X_neg - self.mean_neg_) / self.scale_)
        generator = torch.Generator().manual_seed(self.random_state or 0)
        best = (np.inf, None, None)
        for _ in range(self.n_restarts):
            w = (torch.randn(X.shape[1], generator=generator) / np.sqrt(X.shape[1])).requires_grad_()
            b = torch.zeros(1, requires_grad=True)
            opt = torch.optim.AdamW([w, b], lr=self.lr, weight_decay=self.weight_decay)
            for _ in range(self.n_epochs):
                opt.zero_grad()
                loss = self._loss(torch.sigmoid(pos @ w + b), torch.sigmoid(neg @ w + b))
                loss.backward()
                opt.step()
            with torch.no_grad():
                final = float(self._loss(torch.sigmoid(pos @ w + b), torch.sigmoid(neg @ w + b)))
            if final < best[0]:
                best = (final, w.detach().numpy().copy(), float(b.detach()))
        self.loss_, self.weights_, self.bias_ = best
        # for single statements: the same direction in the raw activation space
        self.direction_ = self.weights_.astype(float) / self.scale_
        both = np.concatenate([X, X_neg])
        labels = None if y is None else np.concatenate([np.asarray(y), 1 - np.asarray(y)])
        self._orient(both, labels)
        self.sign_ = 1.0 if self.direction_ @ self.weights_ > 0 else -1.0
        return self

    @staticmethod
    def _loss(p_pos, p_neg):
        import torch

        consistency = (p_pos - (1 - p_neg)) ** 2
        confidence = torch.minimum(p_pos, p_neg) ** 2
        return (consistency + confidence).mean()

    def pair_scores(self, X, X_neg) -> np.ndarray:
        """The paper's pair-level credence that the X half is true: (p(x+) + 1 - p(x-)) / 2."""
        sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
        p_pos = sig((np.asarray(X) - self.mean_pos_) / self.scale_ @ self.weights_ + self.bias_)
        p_neg = sig((np.asarray(X_neg) - self.mean_neg_) / self.scale_ @ self.weights_ + self.bias_)
        credence = (p_pos + 1 - p_neg) / 2
        return credence if self.sign_ > 0 else 1 - credence
