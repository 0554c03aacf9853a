"""Linear probes on activations: logistic regression, mean difference (and LDA), LAT, CCS.

All take X of shape (n_samples, n_features) and binary labels y of any two values (the larger, e.g. 1 or True, is
the concept present: the statement is true), and expose `classes_`, `direction_` and `intercept_`:
decision_function(X) is X @ direction_ + intercept_, predict gives a class of classes_, score(X, y) is the accuracy
(scikit-learn's meaning) and auroc(X, y) the area under the ROC curve.

They pass scikit-learn's check_estimator as binary classifiers, with these exemptions (SKLEARN_EXEMPT, tested):
paired LAT and CCS cannot be fitted from (X, y) alone, because their input is contrast pairs, and the pairing is
an argument (LATProbe.fit(X, y, pair=...), CCSProbe.fit(X, y, X_neg=...)) rather than guessed from row order;
scikit-learn's checks call fit(X, y), so they are checked as LATProbe(paired=False) and not at all for CCS.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

SKLEARN_EXEMPT = {
    "LATProbe(paired=True)": "needs the contrast pairing, fit(X, y, pair=...); check_estimator calls fit(X, y)",
    "CCSProbe": "needs both halves of each pair, fit(X, y, X_neg=...); check_estimator calls fit(X, y)",
}


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def tpr_at_fpr(y: np.ndarray, scores: np.ndarray, fpr: float = 0.01) -> float:
    """The true-positive rate at the threshold that keeps the false-positive rate at or below `fpr`."""
    fprs, tprs, _ = roc_curve(y, scores)
    return float(tprs[fprs <= fpr].max()) if np.any(fprs <= fpr) else 0.0


class LinearProbe(ClassifierMixin, BaseEstimator):
    """What every probe shares once fitted: classes, a direction and an intercept."""

    # set by fit (declared, not assigned: check_is_fitted reads an unfitted probe by their absence)
    direction_: np.ndarray
    intercept_: float

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # a probe reads one direction: two classes
        return tags

    def _check(self, X, y):
        """Validated (X, y as 0/1): two classes of any labels, classes_ and n_features_in_ set. Labels such as
        {0, 2} become 0 and 1 (not silently a class with no rows); one class or three is an error."""
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=False)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError(
                f"Only binary classification is supported. {type(self).__name__} needs exactly two classes in y, "
                f"found {len(self.classes_)} class(es): {self.classes_[:5].tolist()}"
            )
        return X, (y == self.classes_[1]).astype(int)

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "direction_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.direction_ + self.intercept_

    def predict(self, X) -> np.ndarray:
        above = self.decision_function(X) > 0  # first: it says "not fitted" before classes_ is looked up
        return self.classes_[above.astype(int)]

    def auroc(self, X, y, sample_weight=None) -> float:
        """The area under the ROC curve of decision_function, the larger class as positive (score is accuracy)."""
        check_is_fitted(self, "direction_")
        return float(
            roc_auc_score(np.asarray(y) == self.classes_[1], self.decision_function(X), sample_weight=sample_weight)
        )

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

        X, y = self._check(X, y)
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

    covariance corrects the direction by the pooled within-class covariance S (the covariance of the data
    with each class's mean removed, divided by the number of rows):

    - None (the default): the plain mass-mean direction theta = mu_1 - mu_0;
    - "iid" (or True): geometry-of-truth's iid form, S^+ theta, with S^+ the pseudo-inverse of S that drops
      eigenvalues at or below `atol` (their code's t.linalg.pinv(S, hermitian=True, atol=1e-3));
    - "shrinkage": shrinkage linear discriminant analysis, (1 - s) S + s tr(S)/d I solved against theta,
      with s = `shrinkage`. Not geometry-of-truth's form: a named option, for comparison.

    Implements geometry-of-truth-2023 (mass-mean probing), as used in contrastive-activation-addition-2024
    and refusal-single-direction-2024.
    """

    def __init__(self, covariance: str | bool | None = None, atol: float = 1e-3, shrinkage: float = 0.1):
        self.covariance = covariance
        self.atol = atol
        self.shrinkage = shrinkage

    def fit(self, X, y):
        X, y = self._check(X, y)
        self.means_ = np.stack([X[y == 0].mean(0), X[y == 1].mean(0)])
        diff = self.means_[1] - self.means_[0]
        form = "iid" if self.covariance is True else (self.covariance or None)
        if form is None:
            self.direction_ = diff
        else:
            centred = np.concatenate([X[y == c] - self.means_[c] for c in (0, 1)])
            with threadpool_limits(1):
                cov = centred.T @ centred / len(centred)
                if form == "iid":
                    values, vectors = np.linalg.eigh(cov)
                    kept = values > self.atol
                    self.direction_ = vectors[:, kept] @ ((vectors[:, kept].T @ diff) / values[kept])
                elif form == "shrinkage":
                    s = self.shrinkage
                    cov = (1 - s) * cov + s * np.trace(cov) / len(cov) * np.eye(len(cov))
                    self.direction_ = np.linalg.solve(cov, diff)
                else:
                    raise ValueError(f"covariance must be None, 'iid' or 'shrinkage', not {self.covariance!r}")
        self._orient(X, y)
        return self


class LATProbe(LinearProbe):
    """Linear Artificial Tomography, as Representation Engineering reads a concept.

    Paired (the default): fit(X, y, pair=...) with pair[i] the row of i's contrast (a statement and its
    negation, one of each class); the pairing is always given, never read from row order, so a split that
    breaks a pair is an error rather than a silent mismatch. The order inside each pair is shuffled, the
    differences recentred, and their first principal component is the direction (RepE's PCARepReader with
    n_difference=1). paired=False pairs random rows with no labels at all (the label-free variant).

    Labels choose only the sign. sign="vote" (the default) is RepE's rule: for each pair, does the true
    member project higher or lower than the false one; the sign is that of (share higher - share lower),
    positive on a tie. sign="means" points the direction from the class-0 mean to the class-1 mean. The
    unpaired variant has no labelled pairs to vote with and always uses the means. Implements
    representation-engineering-2023.
    """

    def __init__(self, paired: bool = True, sign: str = "vote", random_state: int | None = None):
        self.paired = paired
        self.sign = sign
        self.random_state = random_state

    def fit(self, X, y, pair=None):
        if self.sign not in ("vote", "means"):
            raise ValueError(f"sign must be 'vote' or 'means', not {self.sign!r}")
        X, y = self._check(X, y)
        rng = np.random.default_rng(self.random_state)
        if self.paired:
            pos, neg = _pairs(y, pair)
            pos, neg = X[pos], X[neg]
            diffs = pos - neg
        else:
            order = rng.permutation(len(X))
            n = len(order) // 2
            diffs = X[order[:n]] - X[order[n : 2 * n]]
        diffs = diffs * rng.choice([-1.0, 1.0], size=(len(diffs), 1))  # no order within a pair
        diffs = diffs - diffs.mean(0)
        with threadpool_limits(1):
            _, _, vt = np.linalg.svd(diffs, full_matrices=False)
        self.direction_ = vt[0]
        if self.paired and self.sign == "vote":
            higher = np.mean(pos @ self.direction_ > neg @ self.direction_)
            lower = np.mean(pos @ self.direction_ < neg @ self.direction_)
            if higher < lower:
                self.direction_ = -self.direction_
            values = X @ self.direction_
            self.intercept_ = -(values[y == 0].mean() + values[y == 1].mean()) / 2
        else:
            self._orient(X, y)
        return self


def _pairs(y: np.ndarray, pair) -> tuple[np.ndarray, np.ndarray]:
    """(true rows, false rows) of each contrast pair, in the order of the true rows; ValueError for a pairing that
    is missing, out of range, not mutual, or joins two rows of one class."""
    if pair is None:
        raise ValueError("paired LAT needs the contrast pairing: fit(X, y, pair=...) with pair[i] the row of i's pair")
    pair = np.asarray(pair)
    if pair.shape != y.shape or not np.issubdtype(pair.dtype, np.integer):
        raise ValueError(f"pair must hold one row index per row ({len(y)}), not an array of shape {pair.shape}")
    if np.any((pair < 0) | (pair >= len(y))) or np.any(pair[pair] != np.arange(len(y))):
        raise ValueError("pair must be mutual row indices within X (pair[pair[i]] == i): a split broke a pair")
    if np.any(y == y[pair]):
        raise ValueError("each pair must join a row of each class (a statement and its contrast)")
    pos = np.flatnonzero(y == 1)
    return pos, pair[pos]


CHECK_EVERY = 100  # epochs between CCS's convergence checks
DEFAULT_DRIFT = 1e-5  # the drift under which CCS counts as converged when no tol is given


class CCSProbe(LinearProbe):
    """Contrast-Consistent Search as Discovering Latent Knowledge runs it: an unsupervised probe on contrast pairs.

    fit(X_pos, y=None, X_neg=...) takes the two halves of each pair (e.g. a statement and its negation)
    as rows of X and X_neg. Each half is normalised separately: normalization="std" (the default) by its own mean
    and its own per-dimension standard deviation (the paper's x~+ = (phi(x+) - mu+) / sigma+); "mean" by its mean
    only, which is DLK's code's default (CCS(var_normalize=False)). The probe is sigmoid(w.x + b); the loss is
    the mean of (p(x+) - (1 - p(x-)))^2 (consistency) plus the mean of min(p(x+), p(x-))^2 (confidence),
    minimised by AdamW (lr 1e-3, weight decay 0.01) full-batch from PyTorch's default Linear initialisation
    (uniform in +-1/sqrt(d)), `n_restarts` times; the restart with the lowest final loss is kept. These are
    DLK's defaults (10 tries x 1000 epochs). The restarts train together as one (restarts, d) tensor: AdamW
    acts on each coordinate alone, so this is the same as training them one after another.

    With `tol`, training stops once no restart's direction moves by more than tol (1 - cosine) over 100 epochs;
    `loss_` (the kept restart's final loss), `n_epochs_`, `drift_` and `converged_` (drift under tol, or under
    1e-5 without one) say where it ended. A pair is scored by DLK's credence that the X half is true,
    0.5 * (p(x+) + 1 - p(x-)) (`pair_scores`), each half of the scored set normalised by its own statistics as
    DLK does for a test set (statistics="train" for the training halves'). CCS cannot know which way round its
    direction points: if y (1 when the X half is the true one) is given it is used only for that sign.
    decision_function on single rows uses w over the pooled per-dimension scale, which is not how DLK scores:
    prefer pair_scores.
    Implements discovering-latent-knowledge-2023.
    """

    def __init__(
        self,
        n_restarts: int = 10,
        n_epochs: int = 1000,
        lr: float = 1e-3,
        weight_decay: float = 0.01,
        tol: float | None = None,
        random_state: int | None = None,
        normalization: str = "std",
    ):
        self.normalization = normalization
        self.n_restarts = n_restarts
        self.n_epochs = n_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.tol = tol
        self.random_state = random_state

    def _scale(self, X: np.ndarray) -> np.ndarray:
        """Per-dimension divisor: the standard deviation (a constant dimension is left at zero, not divided by zero),
        or 1 for mean-only normalisation."""
        if self.normalization == "mean":
            return np.ones(X.shape[1])
        return X.std(0) + np.finfo(np.float32).eps

    def _normalise(self, X, X_neg):
        return (
            (np.asarray(X, dtype=np.float64) - self.mean_pos_) / self.std_pos_,
            (np.asarray(X_neg, dtype=np.float64) - self.mean_neg_) / self.std_neg_,
        )

    def fit(self, X, y=None, X_neg=None):
        import torch

        if X_neg is None:
            raise ValueError("CCS needs contrast pairs: fit(X_pos, y=None, X_neg=X_neg)")
        if self.normalization not in ("std", "mean"):
            raise ValueError(f"normalization must be 'std' or 'mean', not {self.normalization!r}")
        X, X_neg = np.asarray(X, dtype=np.float64), np.asarray(X_neg, dtype=np.float64)
        if X.shape != X_neg.shape:
            raise ValueError(f"X and X_neg must be the two halves of the same pairs: shapes {X.shape}, {X_neg.shape}")
        self.mean_pos_, self.mean_neg_ = X.mean(0), X_neg.mean(0)
        self.std_pos_, self.std_neg_ = self._scale(X), self._scale(X_neg)
        self.classes_, self.n_features_in_ = np.array([0, 1]), X.shape[1]
        pos, neg = (torch.from_numpy(a.astype(np.float32)) for a in self._normalise(X, X_neg))
        d = X.shape[1]
        generator = torch.Generator().manual_seed(self.random_state or 0)
        bound = 1 / np.sqrt(d)  # nn.Linear's default: kaiming_uniform(a=sqrt(5)) gives U(-1/sqrt(d), 1/sqrt(d))
        init = (torch.rand(self.n_restarts, d + 1, generator=generator) * 2 - 1) * bound
        self.init_ = init.double().numpy()  # (restarts, d + 1): weights then bias, for checking against DLK
        with threadpool_limits(1), torch.inference_mode():
            theta, epoch, drift = self._train(torch, torch.cat([pos, neg]), init.clone())
            w, b = theta[:, :d], theta[:, d]
            final = self._loss(torch.sigmoid(pos @ w.T + b), torch.sigmoid(neg @ w.T + b))
        best = int(torch.argmin(final))
        self.restarts_ = theta.double().numpy()  # (restarts, d + 1): every restart's final weights then bias
        self.losses_ = final.double().numpy()
        self.loss_ = float(final[best])
        self.n_epochs_ = epoch
        self.drift_ = drift  # 1 - cos between each restart's direction and its own CHECK_EVERY epochs before (max)
        self.converged_ = drift < (self.tol or DEFAULT_DRIFT)
        self.weights_ = w[best].double().numpy()
        self.bias_ = float(b[best])
        # for single statements: the same direction in the raw activation space, over the pooled scale
        self.direction_ = self.weights_ / np.sqrt((self.std_pos_**2 + self.std_neg_**2) / 2)
        both = np.concatenate([X, X_neg])
        labels = None if y is None else np.concatenate([np.asarray(y), 1 - np.asarray(y)])
        self._orient(both, labels)
        self.sign_ = 1.0 if self.direction_ @ self.weights_ > 0 else -1.0
        return self

    def _train(self, torch, X, theta):
        """AdamW on every restart at once: theta (restarts, d + 1), weights then bias; X the two halves stacked.
        The loss's gradient is written out (the same as autograd's, to float32 rounding) and so is torch's AdamW
        update (torch.optim.AdamW's single-tensor step, op for op): 4x faster than autograd and the optimiser
        object on fits this small, where the fixed cost of each op outweighs the arithmetic.
        Returns (theta, the last epoch, the last drift)."""
        n, d = len(X) // 2, X.shape[1]
        m, v, grad = torch.zeros_like(theta), torch.zeros_like(theta), torch.empty_like(theta)
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        # Convergence is judged on the directions: on separable data the loss keeps falling as |w| grows, while
        # the direction, which is all a probe's AUROC depends on, settles.
        previous, drift, epoch = theta[:, :d].clone(), np.inf, 0
        for epoch in range(1, self.n_epochs + 1):
            p = torch.sigmoid(torch.addmm(theta[:, d], X, theta[:, :d].T))  # (2n, restarts): p(x+) then p(x-)
            p_pos, p_neg = p[:n], p[n:]
            low = torch.minimum(p_pos, p_neg)
            # d loss / d p, per half: consistency 2 (p+ + p- - 1) / n; confidence 2 min / n on the smaller half
            # (torch.minimum's gradient: all to the smaller, half each on a tie)
            both = 2 * (p_pos + p_neg - 1)
            share = (p_pos < p_neg).float() + 0.5 * (p_pos == p_neg).float()
            g = torch.cat([both + 2 * low * share, both + 2 * low * (1 - share)]) / n * p * (1 - p)
            grad[:, :d] = g.T @ X
            grad[:, d] = g.sum(0)
            # torch.optim.AdamW's step: decoupled weight decay, then Adam with bias correction
            theta.mul_(1 - self.lr * self.weight_decay)
            m.lerp_(grad, 1 - beta1)
            v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (v.sqrt() / np.sqrt(1 - beta2**epoch)).add_(eps)
            theta.addcdiv_(m, denom, value=-self.lr / (1 - beta1**epoch))
            if epoch % CHECK_EVERY == 0:
                current = theta[:, :d].clone()
                drift = float((1 - torch.nn.functional.cosine_similarity(current, previous, dim=1)).max())
                previous = current
                if self.tol is not None and drift < self.tol:
                    break
        return theta, epoch, drift

    @staticmethod
    def _loss(p_pos, p_neg):
        """Per restart: p_pos and p_neg are (pairs, restarts)."""
        import torch

        consistency = ((p_pos - (1 - p_neg)) ** 2).mean(0)
        confidence = (torch.minimum(p_pos, p_neg) ** 2).mean(0)
        return consistency + confidence

    def probabilities(self, X, X_neg, statistics: str = "own") -> tuple[np.ndarray, np.ndarray]:
        """p(x+) and p(x-) of the kept restart. statistics="own" normalises each half of the scored pairs by its
        own mean and standard deviation, as DLK's get_acc does with a test set; "train" uses the training halves'."""
        check_is_fitted(self, "weights_")
        if statistics == "own" and len(X) > 1:
            X, X_neg = np.asarray(X, dtype=np.float64), np.asarray(X_neg, dtype=np.float64)
            pos = (X - X.mean(0)) / self._scale(X)
            neg = (X_neg - X_neg.mean(0)) / self._scale(X_neg)
        elif statistics in ("own", "train"):  # one pair has no statistics of its own
            pos, neg = self._normalise(X, X_neg)
        else:
            raise ValueError(f"statistics must be 'own' or 'train', not {statistics!r}")
        sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
        return sig(pos @ self.weights_ + self.bias_), sig(neg @ self.weights_ + self.bias_)

    def pair_scores(self, X, X_neg, statistics: str = "own") -> np.ndarray:
        """DLK's pair credence that the X half is true: 0.5 * (p(x+) + 1 - p(x-)), oriented by the labels."""
        p_pos, p_neg = self.probabilities(X, X_neg, statistics)
        credence = 0.5 * (p_pos + 1 - p_neg)
        return credence if self.sign_ > 0 else 1 - credence
