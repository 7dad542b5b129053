"""Plain-text figures for `limelight audit train` and `limelight audit evaluate`."""

from collections.abc import Mapping
from typing import Any

from services.audit.engine.classifier.dataset import Dataset
from services.audit.engine.classifier.model import FollowerClassifier

# The metrics of training.METRICS, in order, with their printed names. This module stays free of
# scikit-learn so that importing it (from runtime/cli.py) costs nothing.
LABELS = {"precision": "precision", "recall": "recall", "f1": "F1", "mcc": "MCC", "roc_auc": "ROC AUC"}
METRICS = tuple(LABELS)


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def confusion(matrix: Any, indent: str = "    ") -> list[str]:
    (tn, fp), (fn, tp) = matrix
    return [
        f"{indent}{'':<12}{'predicted real':>16}{'predicted fake':>16}",
        f"{indent}{'real':<12}{tn:>16}{fp:>16}",
        f"{indent}{'fake':<12}{fn:>16}{tp:>16}",
    ]


def cross_validation(figures: Mapping[str, Any]) -> list[str]:
    folds, repeats = figures["folds"], figures["repeats"]
    lines = [f"Cross-validation ({folds}-fold x {repeats} repeats, stratified; the procedure refitted and its cut-off "
             f"chosen inside each training fold), mean ± sd over {folds * repeats} folds:"]
    for name in METRICS:
        lines.append(f"  {LABELS[name]:<10} {_number(figures[name]['mean'])} ± {_number(figures[name]['sd'])}")
    lines.append(f"  cut-off    {_number(figures['threshold']['mean'])} ± {_number(figures['threshold']['sd'])}")
    lines.append(f"  confusion matrix, summed over the {folds * repeats} test folds:")
    lines.extend(confusion(figures["confusion_matrix_summed"]))
    return lines


def holdout(figures: Mapping[str, Any]) -> list[str]:
    lines = [f"Hold-out (stratified {figures['test_size']:.0%}: fitted on {figures['train_rows']} rows, cut-off "
             f"{figures['threshold']:.2f} chosen on them, judged once on the other {figures['test_rows']}):"]
    lines.append("  " + "  ".join(f"{LABELS[name]} {_number(figures[name])}" for name in METRICS))
    lines.extend(confusion(figures["confusion_matrix"]))
    return lines


def scores(figures: Mapping[str, Any]) -> list[str]:
    lines = ["  " + "  ".join(f"{LABELS[name]} {_number(figures[name])}" for name in METRICS)]
    lines.extend(confusion(figures["confusion_matrix"]))
    return lines


def model_header(classifier: FollowerClassifier) -> list[str]:
    card, model = classifier.card, classifier.model
    return [
        f"Model {classifier.version} (trained {card.trained_at}, scikit-learn {card.sklearn_version}, seed {card.seed})",
        f"  training data: {card.training_data.get('file')}, {card.training_data.get('rows')} rows, "
        f"sha256 {card.training_data['sha256']}",
        f"  features: {', '.join(model.features)}; suspicious at probability >= {model.threshold:.2f}",
    ]


def data_header(data: Dataset) -> list[str]:
    lines = [f"Data {data.path}: {data.rows} rows"
             + (f", {int(data.labels.sum())} fake, {int(len(data.labels) - data.labels.sum())} real" if data.labels is not None else "")
             + f"; sha256 {data.fingerprint}"]
    if data.missing:
        lines.append(f"  unknown in every row: {', '.join(data.missing)}")
    if data.ignored:
        lines.append(f"  columns ignored: {', '.join(data.ignored)}")
    return lines
