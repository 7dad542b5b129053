"""The models by name and version, one order's credit under any of them, and a whole path set's
credit under several side by side.

- `shares(touches, model, params, placed_at=, fitted=)` — one order: each creator's exact share.
  The data-driven models (`markov`, `shapley`) need `fitted`, the result of `fit` over the
  tenant's paths: an order's share is then the tenant-level shares of **the creators on the
  order's path**, renormalised to sum to 1 (the common practice: a creator who did not touch
  the order gets nothing from it, and the others keep their relative weight).
- `fit(paths, model, params)` — a path set: every creator's share of all the credit (exact
  fractions summing to 1), the orders and the value it is credited with when each converting
  path is credited by the model (the comparison's figures, 40-digit decimals), and the model's
  own detail (removal effects, Shapley values with their errors).
- `compare(paths, models)` — `fit` for each model over the same paths.

Results carry the model's name, version and parameters, so a credited order can be explained
later by the model that credited it. A model's version changes whenever its arithmetic does;
an order credited under `markov-v1` stays explained as `markov-v1`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Context, Decimal
from fractions import Fraction
from typing import Any

from services.attribution.models import markov, rules, shapley
from services.attribution.models.errors import InsufficientData, InvalidParams, UnknownModel
from services.attribution.models.params import (
    MarkovParams, NoParams, Params, PositionBasedParams, ShapleyParams, TimeDecayParams, as_dict, parse,
)
from services.attribution.models.paths import Path, Touch

DEFAULT_MODEL = "last_touch"
_SUMS = Context(prec=40)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    version: str
    data_driven: bool
    params: type


MODELS: dict[str, ModelSpec] = {s.name: s for s in (
    ModelSpec("last_touch", "last_touch-v1", False, NoParams),
    ModelSpec("first_touch", "first_touch-v1", False, NoParams),
    ModelSpec("linear", "linear-v1", False, NoParams),
    ModelSpec("time_decay", "time_decay-v1", False, TimeDecayParams),
    ModelSpec("position_based", "position_based-v1", False, PositionBasedParams),
    ModelSpec("markov", "markov-v1", True, MarkovParams),
    ModelSpec("shapley", "shapley-v1", True, ShapleyParams),
)}
MODEL_NAMES: tuple[str, ...] = tuple(MODELS)


def spec(name: object) -> ModelSpec:
    """The model called `name`, or `UnknownModel` naming the valid ones."""
    found = MODELS.get(name) if isinstance(name, str) else None
    if found is None:
        raise UnknownModel(name, MODEL_NAMES)
    return found


def parse_models(text: str) -> list[str]:
    """A comma-separated list of model names (a query's `models=`), each checked, without repeats."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UnknownModel(text, MODEL_NAMES)
    return list(dict.fromkeys(spec(n).name for n in names))


def parameters(model: str, raw: Mapping[str, object] | Params | None = None) -> Params:
    """`raw` validated as `model`'s parameters (already parsed parameters are checked for their type)."""
    s = spec(model)
    if raw is not None and not isinstance(raw, Mapping):
        if not isinstance(raw, s.params):
            raise InvalidParams("params", f"{type(raw).__name__} are not the parameters of {model}")
        return raw
    return parse(model, s.params, raw)


@dataclass(frozen=True, slots=True)
class OrderShares:
    """One order's credit: each creator's exact share (sums to 1), and the model that gave it."""

    model: str
    version: str
    params: dict[str, Any]
    shares: dict[str, Fraction]


@dataclass(frozen=True, slots=True)
class ModelResult:
    """A model over a path set: what it gives each creator, and how it was computed."""

    model: str
    version: str
    params: dict[str, Any]
    paths: int
    converting_paths: int
    shares: dict[str, Fraction]  # each creator's share of all the credit; sums to 1
    orders: dict[str, Decimal]  # credited orders (fractions of orders); sum to converting_paths (to 1e-30)
    value_minor: dict[str, Decimal]  # credited value: Σ order share × its value_minor
    detail: dict[str, dict[str, Any]] = field(default_factory=dict)  # per creator: the model's own figures
    fitted: markov.MarkovFit | shapley.ShapleyFit | None = None


def restrict(tenant_shares: Mapping[str, Fraction], creators: Iterable[str]) -> dict[str, Fraction]:
    """The tenant-level shares of `creators` only, renormalised to sum to 1."""
    on_path = {c: tenant_shares.get(c, Fraction(0)) for c in dict.fromkeys(creators)}
    whole = sum(on_path.values(), Fraction(0))
    if not whole:
        raise InsufficientData("none of the order's creators (" + ", ".join(on_path) + ") has any credit in the "
                               "fitted paths: fit the model over paths that include this order")
    return {c: s / whole for c, s in on_path.items() if s}


def _order_shares(touches: Sequence[Touch], s: ModelSpec, params: Params, placed_at: datetime | None,
                  fitted: ModelResult | None) -> dict[str, Fraction]:
    if not touches:
        raise InsufficientData("the order has no qualifying touch: it is unattributed")
    if s.data_driven:
        if fitted is None or fitted.model != s.name:
            raise ValueError(f"{s.name} credits an order from a fit over the tenant's paths: pass fitted=fit(paths, {s.name!r}, ...)")
        return restrict(fitted.shares, (t.creator_id for t in touches))
    if s.name == "last_touch":
        return rules.last_touch(touches)
    if s.name == "first_touch":
        return rules.first_touch(touches)
    if s.name == "linear":
        return rules.linear(touches)
    if s.name == "time_decay":
        if placed_at is None:
            raise ValueError("time_decay needs the order's time (placed_at)")
        assert isinstance(params, TimeDecayParams)
        return rules.time_decay(touches, placed_at, params)
    assert isinstance(params, PositionBasedParams)
    return rules.position_based(touches, params)


def credit_order(touches: Sequence[Touch], model: str = DEFAULT_MODEL, params: Mapping[str, object] | Params | None = None,
                 *, placed_at: datetime | None = None, fitted: ModelResult | None = None) -> OrderShares:
    """One order's credit under `model`, with the model's name, version and parameters. A
    data-driven model takes its parameters from `fitted` unless they are given (and must match)."""
    s = spec(model)
    if s.data_driven and fitted is not None and fitted.model == s.name:
        p = parameters(model, fitted.params if params is None else params)
        if as_dict(p) != fitted.params:
            raise ValueError(f"the fit was computed with {fitted.params}, not {as_dict(p)}")
    else:
        p = parameters(model, params)
    return OrderShares(s.name, s.version, as_dict(p), _order_shares(touches, s, p, placed_at, fitted))


def shares(touches: Sequence[Touch], model: str = DEFAULT_MODEL, params: Mapping[str, object] | Params | None = None,
           *, placed_at: datetime | None = None, fitted: ModelResult | None = None) -> dict[str, Fraction]:
    """Each creator's exact share of one order's credit under `model`; they sum to exactly 1."""
    return credit_order(touches, model, params, placed_at=placed_at, fitted=fitted).shares


def _credited(paths: Sequence[Path], per_order) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Each creator's credited orders and value over the converting paths, as 40-digit decimals:
    summed as fractions, thousands of orders' distinct denominators would grow without bound."""
    orders: dict[str, Decimal] = defaultdict(Decimal)
    value: dict[str, Decimal] = defaultdict(Decimal)
    for p in paths:
        if p.converted:
            for c, share in per_order(p).items():
                d = _SUMS.divide(share.numerator, share.denominator)
                orders[c] = _SUMS.add(orders[c], d)
                value[c] = _SUMS.add(value[c], _SUMS.multiply(d, p.value_minor))
    return dict(orders), dict(value)


def fit(paths: Sequence[Path], model: str = DEFAULT_MODEL, params: Mapping[str, object] | Params | None = None) -> ModelResult:
    """`model` over a tenant's `paths` (converting and not): each creator's share, credited orders
    and value, and the model's detail. No path, or no converting path, is `InsufficientData`."""
    s = spec(model)
    p = parameters(model, params)
    if not paths:
        raise InsufficientData(f"no paths: {model} needs the tenant's paths (clicks and code uses, with or without an order)")
    converting = sum(1 for x in paths if x.converted)
    if not converting:
        raise InsufficientData(f"no converting path among {len(paths)} paths: there is no order to credit")
    detail: dict[str, dict[str, Any]] = {}
    fitted: markov.MarkovFit | shapley.ShapleyFit | None = None
    if s.data_driven:
        if isinstance(p, MarkovParams):
            fitted = markov.fit(paths, p.order)
            detail = {c: {"removal_effect": e} for c, e in fitted.removal_effects.items()}
        else:
            assert isinstance(p, ShapleyParams)
            fitted = shapley.fit(paths, p)
            detail = {c: {"shapley_value": v, "standard_error": fitted.standard_errors[c],
                          "interval_95": fitted.interval(c)} for c, v in fitted.values.items()}
        tenant = fitted.shares
        orders, value = _credited(paths, lambda x: restrict(tenant, x.creators))
    else:
        orders, value = _credited(paths, lambda x: _order_shares(x.touches, s, p, x.order_time, None))
        whole = sum((Fraction(o) for o in orders.values()), Fraction(0))
        tenant = {c: Fraction(o) / whole for c, o in orders.items() if o}
    return ModelResult(s.name, s.version, as_dict(p), len(paths), converting, dict(tenant), orders, value, detail, fitted)


def compare(paths: Sequence[Path], models: Sequence[str] | Mapping[str, Mapping[str, object] | None]) -> dict[str, ModelResult]:
    """Each model in `models` (names, or names → parameters) over the same `paths`."""
    chosen = models if isinstance(models, Mapping) else {m: None for m in models}
    return {spec(m).name: fit(paths, m, raw) for m, raw in chosen.items()}
