"""A Gaussian naive Bayes classifier in pure Python (standard library only).

The class lives in this module, not in train.py, so that the pickle names it as
`model.GaussianNB`: whatever unpickles model.pkl (dsbuild's predict server, or
`pickle.load` in your own code) finds it by importing `model` from /workspace.
"""

import math


class GaussianNB:
    """Naive Bayes with one normal distribution per class and feature.

    The interface follows scikit-learn's: fit(X, y), predict(X), predict_proba(X),
    where X is a list of rows (lists of numbers) and y a list of labels.
    """

    def __init__(self, var_smoothing=1e-9):
        self.var_smoothing = var_smoothing
        self.classes = []
        self.feature_names = []
        self.log_priors = []
        self.means = []
        self.variances = []

    def fit(self, X, y, feature_names=None):
        if not X or len(X) != len(y):
            raise ValueError("fit needs as many labels as rows, and at least one row")
        n_features = len(X[0])
        self.classes = sorted(set(y))
        self.feature_names = list(feature_names or [f"x{i}" for i in range(n_features)])
        # Like scikit-learn: a small fraction of the largest feature variance keeps every
        # variance above zero.
        largest = max(_variance([row[j] for row in X]) for j in range(n_features))
        epsilon = self.var_smoothing * largest
        self.log_priors, self.means, self.variances = [], [], []
        for c in self.classes:
            rows = [row for row, label in zip(X, y) if label == c]
            self.log_priors.append(math.log(len(rows) / len(X)))
            columns = list(zip(*rows))
            self.means.append([sum(col) / len(col) for col in columns])
            self.variances.append([_variance(col) + epsilon for col in columns])
        return self

    def _log_likelihoods(self, row):
        if len(row) != len(self.feature_names):
            raise ValueError(f"expected {len(self.feature_names)} features "
                             f"({', '.join(self.feature_names)}), got {len(row)}")
        scores = []
        for log_prior, means, variances in zip(self.log_priors, self.means, self.variances):
            s = log_prior
            for x, m, v in zip(row, means, variances):
                s -= 0.5 * (math.log(2 * math.pi * v) + (x - m) ** 2 / v)
            scores.append(s)
        return scores

    def predict_proba(self, X):
        out = []
        for row in _rows(X):
            scores = self._log_likelihoods(row)
            top = max(scores)
            exps = [math.exp(s - top) for s in scores]
            total = sum(exps)
            out.append([e / total for e in exps])
        return out

    def predict(self, X):
        out = []
        for row in _rows(X):
            scores = self._log_likelihoods(row)
            out.append(self.classes[scores.index(max(scores))])
        return out


def _variance(values):
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


def _rows(X):
    """Checks that X is a list of rows of numbers and returns it as floats."""
    if not isinstance(X, (list, tuple)):
        raise ValueError("expected a list of rows, each a list of numbers")
    rows = []
    for i, row in enumerate(X):
        if not isinstance(row, (list, tuple)) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in row):
            raise ValueError(f"row {i} is not a list of numbers")
        rows.append([float(v) for v in row])
    return rows
