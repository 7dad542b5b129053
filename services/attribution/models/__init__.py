"""Attribution models: pure, versioned code that says how much of an order each creator earned.

No I/O and no database: crediting calls `shares` / `credit_order` per order, the comparison
calls `fit` / `compare` over a tenant's paths; splitting a commission by the shares is
`split_minor`. Guide: docs/guide/attribution-models.md; why: docs/decisions/0044-attribution-models.md.
"""

from services.attribution.models.errors import InsufficientData, InvalidParams, ModelError, UnknownModel
from services.attribution.models.markov import MarkovFit
from services.attribution.models.params import (
    MarkovParams, as_dict, NoParams, PositionBasedParams, ShapleyParams, TimeDecayParams,
)
from services.attribution.models.paths import Path, Touch
from services.attribution.models.registry import (
    DEFAULT_MODEL, MODEL_NAMES, MODELS, ModelResult, ModelSpec, OrderShares, compare, credit_order, fit, parameters,
    parse_models, restrict, shares, spec,
)
from services.attribution.models.shapley import ShapleyFit
from services.attribution.models.split import split_minor

__all__ = [
    "DEFAULT_MODEL", "MODELS", "MODEL_NAMES", "InsufficientData", "InvalidParams", "MarkovFit", "MarkovParams",
    "ModelError", "ModelResult", "ModelSpec", "NoParams", "OrderShares", "Path", "PositionBasedParams",
    "ShapleyFit", "ShapleyParams", "TimeDecayParams", "Touch", "UnknownModel", "as_dict", "compare", "credit_order", "fit",
    "parameters", "parse_models", "restrict", "shares", "spec", "split_minor",
]
