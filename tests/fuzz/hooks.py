"""Schemathesis hooks for the API fuzz run (loaded through SCHEMATHESIS_HOOKS). Each works
around something no schema can say; docs/decisions/0009 lists them."""

import uuid

import pydantic
import schemathesis
from schemathesis.core.parameters import ParameterLocation

from services.discovery.brandfit.schemas import BrandFitRequest, BriefCreate, BriefUpdate
from shared.validation import FieldError


@schemathesis.hook
def filter_case(context, case) -> bool:
    """Drop a case meant to be valid whose path id is a null captured from an earlier response.

    The fuzzer reuses ids seen in responses, null ones too (`audit.audit_id` of a creator never
    audited), and sends a null path id as the text "null" while calling the case valid.
    """
    if _dates_out_of_order(case) or _brief_breaks_a_rule_between_fields(case):
        return False
    if case.meta is None or case.meta.is_negative_at(ParameterLocation.PATH):
        return True
    drawn = {d.parameter_name for d in case.meta.pool_draws if d.location == ParameterLocation.PATH.value}
    return not any(case.path_parameters.get(name) in (None, "null") for name in drawn)


def _dates_out_of_order(case) -> bool:
    """A case meant to be valid whose body ends before it starts (a campaign's `ends_on` before its
    `starts_on`): each date is valid alone, and JSON Schema cannot relate two fields, so the API's
    422 naming `body.ends_on` is right and the case was not valid after all."""
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.BODY):
        return False
    body = case.body if isinstance(case.body, dict) else {}
    starts, ends = body.get("starts_on"), body.get("ends_on")
    return isinstance(starts, str) and isinstance(ends, str) and ends < starts


def _brief_breaks_a_rule_between_fields(case) -> bool:
    """A case meant to be valid whose brand-fit brief breaks a rule relating two fields
    (`followers_min` above `followers_max`, in the brief or its search `filters`; a revenue
    threshold without its currency...): each field is valid alone and JSON Schema cannot relate
    them, so the API's 422 naming the field is right and the case was not valid after all. Only
    the model validators' FieldErrors count: any other refusal still fails the run."""
    model = _BRIEF_MODELS.get((case.method.upper(), case.operation.path))
    if model is None or not isinstance(case.body, dict):
        return False
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.BODY):
        return False
    try:
        model.model_validate(case.body)
    except pydantic.ValidationError as exc:
        return any(isinstance((e.get("ctx") or {}).get("error"), FieldError) for e in exc.errors())
    return False


_BRIEF_MODELS = {
    ("POST", "/v1/discovery/brand-fit"): BrandFitRequest,
    ("POST", "/v1/discovery/briefs"): BriefCreate,
    ("PATCH", "/v1/discovery/briefs/{brief_id}"): BriefUpdate,
}


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    """Drop a generated pagination cursor from a case meant to be valid.

    A cursor is an opaque token only the API mints, so a generated one is always refused with a
    422 naming `query.cursor`. A case whose query is deliberately invalid keeps it: a malformed
    cursor must still be refused.
    """
    if case.query and "cursor" in case.query and not (case.meta and case.meta.is_negative_at(ParameterLocation.QUERY)):
        del case.query["cursor"]
    _fresh_idempotency_key(case)


def _fresh_idempotency_key(case) -> None:
    """Give a case meant to be valid a key of its own.

    An `Idempotency-Key` promises one intended operation per key; the fuzzer draws keys from a
    small space and reuses them with other bodies, which the API rightly refuses with a 422
    (draft-ietf-httpapi-idempotency-key-header, "Error Scenarios"). A malformed key is kept.
    """
    headers = case.headers or {}
    if "Idempotency-Key" in headers and not (case.meta and case.meta.is_negative_at(ParameterLocation.HEADER)):
        headers["Idempotency-Key"] = str(uuid.uuid4())
