"""Training and honest evaluation of the follower model (ADR 0026).

One *procedure* is fitted and judged everywhere: median imputation, standardisation, an
L2-regularised logistic regression with balanced class weights, and a probability cut-off
chosen on out-of-fold predictions of the training rows only (an inner stratified k-fold), never
on the rows it is then judged on. The procedure is judged two ways, both stratified and seeded:
repeated k-fold cross-validation (mean ± sd of each metric over every outer fold) and one
hold-out. The shipped model is the procedure fitted on every row; its figures are those
estimates, not a score on rows it saw.
"""

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sklearn
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from services.audit.engine.classifier.dataset import DataError, Dataset
from services.audit.engine.classifier.features import FEATURES
from services.audit.engine.classifier.model import MODEL_VERSION, FollowerClassifier, LinearModel, ModelCard

# Features the procedure may use, chosen before looking at any result: scale-free (ratios,
# shares, markers) so that they mean the same for a follower of a small or a large creator. The
# follower count itself and the username length are left out on purpose (ADR 0026). A candidate
# is used when at least MIN_KNOWN of the training rows know it; the bundled SRF data knows six.
CANDIDATES: tuple[str, ...] = (
    "log_following_per_follower",
    "log_media_per_follower",
    "no_media",
    "no_profile_pic",
    "is_private",
    "username_digit_share",
    "username_entropy",
    "empty_biography",
    "empty_full_name",
    "has_external_url",
)
MIN_KNOWN = 0.5
# Strong L2 regularisation: with few features it costs nothing measurable in cross-validation
# and keeps the weights from chasing this one data set (ADR 0026 has the comparison).
C = 0.1
INNER_FOLDS = 5
METRICS = ("precision", "recall", "f1", "mcc", "roc_auc")
THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.01), 2)


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    mcc: float
    roc_auc: float  # NaN when the rows hold one class only
    confusion: tuple[tuple[int, int], tuple[int, int]]  # [[TN, FP], [FN, TP]], rows: truth 0 / 1
    threshold: float

    def as_dict(self) -> dict[str, Any]:
        return {
            **{name: _round(getattr(self, name)) for name in METRICS},
            "confusion_matrix": [list(row) for row in self.confusion],
            "threshold": self.threshold,
        }


def _round(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 4)


def used_features(features: np.ndarray) -> tuple[str, ...]:
    known = ~np.isnan(features)
    return tuple(name for name in CANDIDATES if known[:, FEATURES.index(name)].mean() >= MIN_KNOWN)


def _pipeline(seed: int) -> Pipeline:
    return Pipeline([
        ("impute", SimpleImputer(strategy="median")),
        ("scale", StandardScaler()),
        ("model", LogisticRegression(C=C, class_weight="balanced", max_iter=1000, random_state=seed)),
    ])


def choose_threshold(probability: np.ndarray, labels: np.ndarray) -> float:
    """The cut-off of largest F1 on the given rows (ties: the lowest cut-off)."""
    flagged = probability[None, :] >= THRESHOLDS[:, None]
    fake = labels.astype(bool)
    true_positive = (flagged & fake).sum(axis=1)
    # F1 = 2TP / (2TP + FP + FN) = 2TP / (flagged + fakes); 0 when nothing is flagged or fake.
    denominator = flagged.sum(axis=1) + fake.sum()
    scores = np.divide(2 * true_positive, denominator, out=np.zeros(len(THRESHOLDS)), where=denominator > 0)
    return float(THRESHOLDS[int(np.argmax(scores))])


def fit(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], seed: int) -> LinearModel:
    """The procedure on these rows: pipeline on all of them, cut-off from their out-of-fold predictions."""
    out_of_fold = np.empty(len(y))
    for train, test in StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=seed).split(x, y):
        out_of_fold[test] = _pipeline(seed).fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    pipe = _pipeline(seed).fit(x, y)
    impute, scale, model = pipe.named_steps["impute"], pipe.named_steps["scale"], pipe.named_steps["model"]
    return LinearModel(
        features=names,
        medians=tuple(float(v) for v in impute.statistics_),
        means=tuple(float(v) for v in scale.mean_),
        scales=tuple(float(v) for v in scale.scale_),
        coefficients=tuple(float(v) for v in model.coef_[0]),
        intercept=float(model.intercept_[0]),
        threshold=choose_threshold(out_of_fold, y),
    )


def _columns(features: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    return features[:, [FEATURES.index(n) for n in names]]


def score(probability: np.ndarray, labels: np.ndarray, threshold: float) -> Scores:
    predicted = (probability >= threshold).astype(np.int64)
    both = len(np.unique(labels)) == 2
    matrix = confusion_matrix(labels, predicted, labels=[0, 1])
    return Scores(
        precision=float(precision_score(labels, predicted, zero_division=0.0)),
        recall=float(recall_score(labels, predicted, zero_division=0.0)),
        f1=float(f1_score(labels, predicted, zero_division=0.0)),
        mcc=float(matthews_corrcoef(labels, predicted)),
        roc_auc=float(roc_auc_score(labels, probability)) if both else math.nan,
        confusion=((int(matrix[0, 0]), int(matrix[0, 1])), (int(matrix[1, 0]), int(matrix[1, 1]))),
        threshold=threshold,
    )


def _check_classes(labels: np.ndarray, folds: int) -> None:
    fakes, reals = int(labels.sum()), int(len(labels) - labels.sum())
    # The outer split takes one fold away, and the inner split must still have `INNER_FOLDS` of each class.
    needed = max(folds, INNER_FOLDS) * 2
    if min(fakes, reals) < needed:
        raise DataError(f"column 'label': {fakes} fake and {reals} real rows; training and cross-validation "
                        f"need at least {needed} of each")


def cross_validate(data: Dataset, names: tuple[str, ...], seed: int, folds: int = 5, repeats: int = 10) -> dict[str, Any]:
    """Mean and sd of each metric over repeated stratified k-fold, the procedure refitted per fold."""
    x, y = _columns(data.features, names), data.labels
    per_fold: list[Scores] = []
    for train, test in RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed).split(x, y):
        model = fit(x[train], y[train], names, seed)
        probability = model.probability(data.features[test])
        per_fold.append(score(probability, y[test], model.threshold))
    summary: dict[str, Any] = {"folds": folds, "repeats": repeats}
    for name in METRICS:
        values = [getattr(s, name) for s in per_fold if not math.isnan(getattr(s, name))]
        summary[name] = {"mean": _round(statistics.fmean(values)), "sd": _round(statistics.stdev(values))}
    summary["threshold"] = {
        "mean": _round(statistics.fmean(s.threshold for s in per_fold)),
        "sd": _round(statistics.stdev(s.threshold for s in per_fold)),
    }
    total = np.sum([np.array(s.confusion) for s in per_fold], axis=0)
    summary["confusion_matrix_summed"] = total.tolist()
    return summary


def holdout(data: Dataset, names: tuple[str, ...], seed: int, test_size: float = 0.25) -> dict[str, Any]:
    """The procedure fitted on a stratified share of the rows and judged once on the rest."""
    x, y = _columns(data.features, names), data.labels
    rows = np.arange(len(y))
    train, test = train_test_split(rows, test_size=test_size, stratify=y, random_state=seed)
    model = fit(x[train], y[train], names, seed)
    result = score(model.probability(data.features[test]), y[test], model.threshold).as_dict()
    return {"test_size": test_size, "train_rows": len(train), "test_rows": len(test), **result}


def train(data: Dataset, seed: int = 0, folds: int = 5, repeats: int = 10, now: datetime | None = None) -> FollowerClassifier:
    """Fit the shipped procedure on every row and carry its cross-validated and hold-out figures."""
    if data.labels is None:
        raise DataError("column 'label' is missing")
    _check_classes(data.labels, folds)
    names = used_features(data.features)
    if not names:
        raise DataError(f"no usable feature: each of {list(CANDIDATES)} is unknown in more than half the rows")
    metrics = {
        "cross_validation": cross_validate(data, names, seed, folds, repeats),
        "holdout": holdout(data, names, seed),
    }
    model = fit(_columns(data.features, names), data.labels, names, seed)
    card = ModelCard(
        model_version=MODEL_VERSION,
        metrics=metrics,
        training_data={
            "sha256": data.fingerprint,
            "file": data.path.rsplit("/", 1)[-1],
            "rows": data.rows,
            "fakes": int(data.labels.sum()),
            "unknown_columns": list(data.missing),
        },
        sklearn_version=sklearn.__version__,
        seed=seed,
        trained_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        hyperparameters={"C": C, "penalty": "l2", "class_weight": "balanced", "inner_folds": INNER_FOLDS,
                         "threshold_rule": "max F1 on inner out-of-fold predictions", "min_known": MIN_KNOWN},
    )
    return FollowerClassifier(model, card)


def evaluate(classifier: FollowerClassifier, data: Dataset) -> Scores:
    """The given model on these rows at its own cut-off (no refitting)."""
    if data.labels is None:
        raise DataError("column 'label' is missing: evaluation needs 1 (fake) or 0 (real) for every row")
    return score(classifier.probability_of_matrix(data.features), data.labels, classifier.threshold)


def procedure_figures(data: Dataset, seed: int, folds: int, repeats: int) -> Mapping[str, Any]:
    """Cross-validation and hold-out of the training procedure on this data (its candidate features, where known)."""
    _check_classes(data.labels, folds)
    names = used_features(data.features)
    if not names:
        raise DataError(f"no usable feature: each of {list(CANDIDATES)} is unknown in more than half the rows")
    return {"features": names, "cross_validation": cross_validate(data, names, seed, folds, repeats),
            "holdout": holdout(data, names, seed)}
