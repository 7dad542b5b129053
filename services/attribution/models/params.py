"""Each model's parameters: validated once, recorded with every result so it can be re-explained.

`parse(model, raw)` takes what a campaign setting or a query carries (a mapping of names to
numbers or strings) and returns the model's frozen parameters, its defaults filled in. An
unknown name, a value of the wrong type or out of range is an `InvalidParams` naming the field.
Fractions of credit are read exactly ("0.4", 0.4 as written, "2/5"), never as binary floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from services.attribution.models.errors import InvalidParams

# Exact Shapley enumerates 2^N coalitions; 2^20 is about a million, a few hundred milliseconds.
SHAPLEY_EXACT_LIMIT = 20
MARKOV_MAX_ORDER = 4


@dataclass(frozen=True, slots=True)
class NoParams:
    pass


@dataclass(frozen=True, slots=True)
class TimeDecayParams:
    half_life_days: Decimal = Decimal(7)


@dataclass(frozen=True, slots=True)
class PositionBasedParams:
    first: Fraction = Fraction(2, 5)
    last: Fraction = Fraction(2, 5)

    @property
    def middle(self) -> Fraction:
        return 1 - self.first - self.last


@dataclass(frozen=True, slots=True)
class MarkovParams:
    order: int = 1


@dataclass(frozen=True, slots=True)
class ShapleyParams:
    value: str = "conversions"  # what a coalition is worth: its conversions, or their value
    exact_max: int = 15  # exact up to this many creators, sampled beyond
    samples: int = 2000  # permutations when sampled
    seed: int = 0


Params = NoParams | TimeDecayParams | PositionBasedParams | MarkovParams | ShapleyParams


def as_dict(params: Params) -> dict[str, Any]:
    """JSON-ready: fractions as "2/5", decimals as strings, so a recorded result reads back exactly."""
    out: dict[str, Any] = {}
    for key, value in asdict(params).items():
        out[key] = str(value) if isinstance(value, (Fraction, Decimal)) else value
    return out


def _fraction(field: str, value: object) -> Fraction:
    if isinstance(value, bool):
        raise InvalidParams(field, "a fraction between 0 and 1, not a boolean")
    try:
        if isinstance(value, float):
            # 0.4 as the user wrote it, not the binary float nearest to it.
            result = Fraction(Decimal(repr(value)))
        elif isinstance(value, (int, Fraction, Decimal)):
            result = Fraction(value)
        elif isinstance(value, str):
            result = Fraction(value.strip())
        else:
            raise TypeError
    except (ValueError, TypeError, ZeroDivisionError, InvalidOperation):
        raise InvalidParams(field, f"a fraction between 0 and 1 (0.4, \"2/5\"), not {value!r}") from None
    if not 0 <= result <= 1:
        raise InvalidParams(field, f"a fraction between 0 and 1, not {value!r}")
    return result


def _decimal(field: str, value: object) -> Decimal:
    if isinstance(value, bool):
        raise InvalidParams(field, "a positive number of days, not a boolean")
    try:
        result = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidParams(field, f"a positive number of days, not {value!r}") from None
    if not result.is_finite() or result <= 0 or result > 3650:
        raise InvalidParams(field, f"a positive number of days up to 3650, not {value!r}")
    return result


def _int(field: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise InvalidParams(field, f"an integer from {low} to {high}, not a boolean")
    # ASCII digits only: str.isdigit() also says yes to "²", which int() then refuses.
    if isinstance(value, str) and value.strip().lstrip("-").isascii() and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not low <= value <= high:
        raise InvalidParams(field, f"an integer from {low} to {high}, not {value!r}")
    return value


def parse(model: str, kind: type, raw: Mapping[str, object] | None) -> Params:
    """`raw` validated as the parameters of `model` (whose parameter class is `kind`)."""
    raw = dict(raw or {})
    known = {f.name for f in fields(kind)}
    for name in raw:
        if name not in known:
            valid = ", ".join(sorted(known)) if known else "none"
            raise InvalidParams(f"params.{name}", f"not a parameter of {model} (its parameters: {valid})")
    if kind is TimeDecayParams:
        return TimeDecayParams(**{k: _decimal(f"params.{k}", v) for k, v in raw.items()})
    if kind is PositionBasedParams:
        p = PositionBasedParams(**{k: _fraction(f"params.{k}", v) for k, v in raw.items()})
        if p.first + p.last > 1:
            raise InvalidParams("params.first", f"first ({p.first}) and last ({p.last}) shares add up to more than 1")
        return p
    if kind is MarkovParams:
        return MarkovParams(**{k: _int(f"params.{k}", v, 1, MARKOV_MAX_ORDER) for k, v in raw.items()})
    if kind is ShapleyParams:
        out: dict[str, Any] = {}
        for k, v in raw.items():
            if k == "value":
                if v not in ("conversions", "value"):
                    raise InvalidParams("params.value", f"conversions or value, not {v!r}")
                out[k] = v
            elif k == "exact_max":
                out[k] = _int("params.exact_max", v, 1, SHAPLEY_EXACT_LIMIT)
            elif k == "samples":
                out[k] = _int("params.samples", v, 100, 1_000_000)
            else:
                out[k] = _int("params.seed", v, 0, 2**63 - 1)
        return ShapleyParams(**out)
    return kind()
