"""The follower classifier as the engine uses it, and its model file.

The model is a logistic regression on standardised features (ADR 0026), so the whole fitted
state is a handful of numbers: training medians (for unknown values), means, scales,
coefficients, intercept and the probability cut-off. The file is JSON, not a pickle: loading
it runs no code (a model file may come from anyone who ran `limelight audit train`), it reads
the same under any scikit-learn release, and a reviewer can diff two models. Prediction is a
NumPy dot product, which is what makes 200,000 followers a second easy (bench/audit_classifier.py).
"""

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from services.audit.engine.classifier.features import FEATURES, features_from_profiles
from services.audit.engine.types import (
    INFLUENCER_FOLLOWERS,
    MASS_FOLLOWING,
    AudienceType,
    FollowerProfile,
)

FORMAT = "limelight.follower-classifier"
FORMAT_VERSION = 1
# The model family: the feature definitions of features.py and the logistic form below. A change
# to either is a new model version, and files of the old one are refused rather than misread.
MODEL_VERSION = "followers-v1"
SUPPORTED_FORMAT_VERSIONS = frozenset({FORMAT_VERSION})
SUPPORTED_MODEL_VERSIONS = frozenset({MODEL_VERSION})
SHIPPED = Path(__file__).with_name("followers-v1.json")

_AUDIENCE = np.array(["mass_follower", "influencer", "suspicious", "real"], dtype=object)


class ModelFileError(ValueError):
    """The model file cannot be read (not JSON, not a follower model, a field missing)."""


class UnknownModelVersion(ModelFileError):
    """The file is a follower model of a format or model version this code does not know."""


@dataclass(frozen=True)
class LinearModel:
    """A fitted logistic regression over `features` (a subset of FEATURES, in that order)."""

    features: tuple[str, ...]
    medians: tuple[float, ...]  # replaces an unknown (NaN) value, per feature
    means: tuple[float, ...]
    scales: tuple[float, ...]
    coefficients: tuple[float, ...]  # on the standardised features
    intercept: float
    threshold: float  # suspicious when the probability is at least this

    def probability(self, matrix: np.ndarray) -> np.ndarray:
        """P(fake) for each row of a FEATURES matrix."""
        columns = [FEATURES.index(name) for name in self.features]
        x = matrix[:, columns]
        x = np.where(np.isnan(x), np.asarray(self.medians), x)
        # Folding the standardisation into the weights: one matrix-vector product per batch.
        weights = np.asarray(self.coefficients) / np.asarray(self.scales)
        bias = self.intercept - float(np.dot(weights, np.asarray(self.means)))
        z = x @ weights + bias
        return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class ModelCard:
    """What a model file says about itself besides the fitted numbers."""

    model_version: str
    metrics: Mapping[str, Any]
    training_data: Mapping[str, Any]  # sha256, rows, fakes, file name
    sklearn_version: str
    seed: int
    trained_at: str
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)


class FollowerClassifier:
    """Audience type of each follower: mass follower, influencer, suspicious (the model), real.

    Implements engine.types.FollowerModel. The precedence is HypeAuditor's (../REFERENCE.md,
    "Audience types"): following more than 1,500 accounts makes a mass follower whatever else
    is true; else more than 5,000 followers makes an influencer; else the model decides. A count
    that is unknown cannot trigger its rule, so such a follower falls through to the model.
    """

    def __init__(self, model: LinearModel, card: ModelCard) -> None:
        self.model = model
        self.card = card
        # The family and the exact training data, so an audit names the model it used.
        self.version = f"{card.model_version}+{card.training_data['sha256'][:12]}"

    @property
    def threshold(self) -> float:
        return self.model.threshold

    def probability_of_matrix(self, matrix: np.ndarray) -> np.ndarray:
        return self.model.probability(matrix)

    def suspicious_probability(self, followers: Sequence[FollowerProfile]) -> np.ndarray:
        """The model's probability that each follower is fake, 0-1 (before the precedence rules)."""
        return self.model.probability(features_from_profiles(followers))

    def audience_types(self, followers: Sequence[FollowerProfile]) -> list[AudienceType]:
        """Each follower's audience type, in AUDIENCE_TYPES' order of precedence."""
        matrix = features_from_profiles(followers)
        suspicious = self.model.probability(matrix) >= self.model.threshold
        return audience_types_of(suspicious, [f.following_count for f in followers], [f.follower_count for f in followers])

    def to_json(self) -> dict[str, Any]:
        m, c = self.model, self.card
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "model_version": c.model_version,
            "kind": "logistic_regression",
            "features": list(m.features),
            "medians": list(m.medians),
            "means": list(m.means),
            "scales": list(m.scales),
            "coefficients": list(m.coefficients),
            "intercept": m.intercept,
            "threshold": m.threshold,
            "hyperparameters": dict(c.hyperparameters),
            "seed": c.seed,
            "sklearn_version": c.sklearn_version,
            "training_data": dict(c.training_data),
            "trained_at": c.trained_at,
            "metrics": dict(c.metrics),
        }


def audience_types_of(
    suspicious: np.ndarray, following: Sequence[int | None], followers: Sequence[int | None]
) -> list[AudienceType]:
    """Apply the precedence to counts and the model's verdicts (vectorised); None never triggers a rule."""
    # float64, not int64: a count past 2**63 (bad data) must compare, not overflow.
    follows = np.array([-1.0 if v is None else float(v) for v in following], dtype=np.float64)
    followed = np.array([-1.0 if v is None else float(v) for v in followers], dtype=np.float64)
    choice = np.select(
        [follows > MASS_FOLLOWING, followed > INFLUENCER_FOLLOWERS, suspicious],
        [0, 1, 2],
        default=3,
    )
    return _AUDIENCE[choice].tolist()


def save_model(classifier: FollowerClassifier, path: str | Path) -> None:
    """Write the model file: sorted keys and a newline, so the same model is the same bytes."""
    Path(path).write_text(json.dumps(classifier.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _floats(document: Mapping[str, Any], key: str, length: int) -> tuple[float, ...]:
    values = document[key]
    if not isinstance(values, list) or len(values) != length or not all(
        isinstance(v, (int, float)) and math.isfinite(v) for v in values
    ):
        raise ModelFileError(f"model field {key!r} must be {length} finite numbers")
    return tuple(float(v) for v in values)


def from_json(document: Any, source: str = "model") -> FollowerClassifier:
    """A classifier from a parsed model file; UnknownModelVersion for a version this code does not know."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{source} is not a follower model file (expected format {FORMAT!r})")
    format_version, model_version = document.get("format_version"), document.get("model_version")
    if format_version not in SUPPORTED_FORMAT_VERSIONS or model_version not in SUPPORTED_MODEL_VERSIONS:
        raise UnknownModelVersion(
            f"{source} is format version {format_version!r}, model version {model_version!r}; this code reads "
            f"format versions {sorted(SUPPORTED_FORMAT_VERSIONS)} and model versions {sorted(SUPPORTED_MODEL_VERSIONS)}"
        )
    try:
        features = tuple(document["features"])
        unknown = [name for name in features if name not in FEATURES]
        if unknown or not features:
            raise ModelFileError(f"{source} uses features this code does not compute: {unknown}")
        n = len(features)
        model = LinearModel(
            features=features,
            medians=_floats(document, "medians", n),
            means=_floats(document, "means", n),
            scales=_floats(document, "scales", n),
            coefficients=_floats(document, "coefficients", n),
            intercept=float(document["intercept"]),
            threshold=float(document["threshold"]),
        )
        if not math.isfinite(model.intercept) or not 0.0 < model.threshold < 1.0:
            raise ModelFileError(f"{source}: the intercept must be finite and the threshold between 0 and 1")
        card = ModelCard(
            model_version=model_version,
            metrics=document["metrics"],
            training_data=document["training_data"],
            sklearn_version=str(document["sklearn_version"]),
            seed=int(document["seed"]),
            trained_at=str(document["trained_at"]),
            hyperparameters=document.get("hyperparameters", {}),
        )
        if not isinstance(card.training_data, dict) or not isinstance(card.training_data.get("sha256"), str):
            raise ModelFileError(f"{source}: training_data.sha256 is missing")
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{source} lacks or garbles field {exc}") from None
    if any(s <= 0 for s in model.scales):
        raise ModelFileError(f"{source}: every scale must be positive")
    return FollowerClassifier(model, card)


def load_model(path: str | Path) -> FollowerClassifier:
    """Read a model file written by `save_model` (`limelight audit train`)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} is not a JSON model file: {exc}") from None
    return from_json(document, str(path))


@cache
def default_model() -> FollowerClassifier:
    """The shipped model (followers-v1.json beside this file), read once per process."""
    return load_model(SHIPPED)
