"""Schemathesis hooks for the API fuzz run (loaded through SCHEMATHESIS_HOOKS). Each works
around something no schema can say; docs/decisions/0009 lists them."""

import importlib
import json
import uuid

import schemathesis
from pydantic import ValidationError
from schemathesis.core.parameters import ParameterLocation

from shared.validation import FieldError


@schemathesis.hook
def filter_case(context, case) -> bool:
    """Drop a case meant to be valid whose path id is a null captured from an earlier response.

    The fuzzer reuses ids seen in responses, null ones too (`audit.audit_id` of a creator never
    audited), and sends a null path id as the text "null" while calling the case valid.
    """
    if (
        _dates_out_of_order(case)
        or _creator_write_inconsistent(case)
        or _bulk_body_cannot_be_negative(case)
        or _breaks_a_cross_field_rule(case)
        or _states_a_rule_currency(case)
        or _needs_stored_data(case)
    ):
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


_NDJSON_ROUTES = ("/v1/discovery/creators/bulk", "/v1/audit/followers/bulk", "/v1/audit/comments/bulk")
# Text bodies read line by line like them (a bad file is a 200 listing its bad lines).
_TEXT_FILE_ROUTES = (*_NDJSON_ROUTES, "/v1/attribution/campaigns/{campaign_id}/activation-imports")


def _states_a_rule_currency(case) -> bool:
    """A commission rule meant to be valid that states a `currency`: it must be the campaign's
    (ADR 0034), which only the stored campaign knows, so the API's 422 naming `body.currency` for
    another is right and the fuzzer cannot tell the two apart."""
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.BODY):
        return False
    return (case.method.upper() == "POST" and case.operation.path.endswith("/rules")
            and isinstance(case.body, dict) and case.body.get("currency") is not None)


def _needs_stored_data(case) -> bool:
    """A case meant to be valid whose validity depends on what is stored, which the fuzzer cannot
    know: a report asked in one `currency` needs the tenant's FX rates for every amount (422
    naming `query.currency` otherwise); a campaign's `attribution_params` must be those of its
    model, which a PATCH without `attribution_model` takes from the stored campaign (422 naming
    `body.attribution_params.<name>` otherwise)."""
    path, method = case.operation.path, case.method.upper()
    if path.endswith("/report/lines") and not (case.meta and case.meta.is_negative_at(ParameterLocation.QUERY)):
        return isinstance(case.query, dict) and case.query.get("currency") is not None
    if path.startswith("/v1/attribution/campaigns") and method in ("POST", "PATCH") and isinstance(case.body, dict):
        if case.meta is not None and case.meta.is_negative_at(ParameterLocation.BODY):
            return False
        return bool(case.body.get("attribution_params"))
    return False


def _bulk_body_cannot_be_negative(case) -> bool:
    """Drop a "wrong type" body for an NDJSON bulk route or the activations' CSV import: its schema
    is a string, and whatever the fuzzer draws is sent as text, i.e. a string again. The API
    answers it like any file, with a 200 listing each bad line, which is right."""
    return case.path in _TEXT_FILE_ROUTES and bool(
        case.meta is not None and case.meta.is_negative_at(ParameterLocation.BODY)
    )


def _creator_write_inconsistent(case) -> bool:
    """A creator write meant to be valid that breaks a rule across its fields (an account given
    twice, both the one-account shorthand and `accounts`, a post naming an account the body does
    not have, an audience distribution summing past 1) or dates an observation in the future:
    JSON Schema cannot say either, and the API's 422 names the field, so the case was not valid
    after all."""
    from services.discovery.creator.fields import FUTURE
    from services.discovery.creator.schemas import CreatorCreate, CreatorUpdate
    from shared.validation import FieldError

    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.BODY):
        return False
    if not case.path.startswith("/v1/discovery/creators") or case.method not in ("POST", "PATCH"):
        return False
    if not isinstance(case.body, dict):
        return False
    model = CreatorUpdate if case.method == "PATCH" else CreatorCreate
    try:
        write = model.model_validate(case.body)
    except ValidationError as exc:
        # A cross-field rule, or an observation dated in the future (a date-time is all a schema says).
        return any(
            isinstance((e.get("ctx") or {}).get("error"), FieldError) or e["msg"].endswith(FUTURE)
            for e in exc.errors()
        )
    if case.method == "PATCH":
        named = {(a.platform, a.handle) for a in write.accounts or []}
        items = [*write.posts, *write.follower_points]
        return any(i.handle is not None and (i.platform, i.handle) not in named for i in items)
    return False


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value) -> bytes:
    """The bulk ingest body: a generated string as it is, anything else as one JSON line."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode() + b"\n"


# Operations whose input model has rules across fields (a model validator raising
# shared.validation.FieldError): a minimum above its maximum, a tier outside the follower range,
# audience thresholds over 100 %, `revenue_min` without its currency, neither `brand` nor
# `hashtag`... Each field is valid alone and JSON Schema cannot relate them.
_CROSS_FIELD_MODELS = {
    ("POST", "/v1/discovery/search"): ("body", "services.discovery.search.schemas:SearchRequest"),
    ("GET", "/v1/discovery/creators"): ("query", "services.discovery.search.schemas:CreatorListQuery"),
    ("GET", "/v1/discovery/mentions"): ("query", "services.discovery.search.schemas:MentionsQuery"),
    ("GET", "/v1/discovery/creators/{creator_id}/lookalikes"): (
        "query",
        "services.discovery.embedding.schemas:LookalikeQuery",
    ),
    ("POST", "/v1/discovery/brand-fit"): ("body", "services.discovery.brandfit.schemas:BrandFitRequest"),
    ("POST", "/v1/discovery/briefs"): ("body", "services.discovery.brandfit.schemas:BriefCreate"),
    ("PATCH", "/v1/discovery/briefs/{brief_id}"): ("body", "services.discovery.brandfit.schemas:BriefUpdate"),
    # A deal's amounts against its type, a deliverable's format against its platform, ad rights
    # ending before they start.
    ("POST", "/v1/attribution/campaigns/{campaign_id}/creators"): (
        "body",
        "services.attribution.enrolment.schemas:EnrolmentCreate",
    ),
    ("PATCH", "/v1/attribution/campaigns/{campaign_id}/creators/{creator_id}"): (
        "body",
        "services.attribution.enrolment.schemas:EnrolmentUpdate",
    ),
    # A commission rule's tiers in increasing order, a base percent under tiers, a rate per product once.
    ("POST", "/v1/attribution/campaigns/{campaign_id}/rules"): ("body", "services.attribution.rules.schemas:RuleCreate"),
    ("POST", "/v1/attribution/campaigns/{campaign_id}/creators/{creator_id}/rules"): (
        "body",
        "services.attribution.rules.schemas:RuleCreate",
    ),
    # A code chosen or generated (not both), a pattern's placeholders against its values; a link's
    # destination (no private address, no credentials...: rules beyond a JSON Schema pattern).
    ("POST", "/v1/attribution/codes"): ("body", "services.attribution.codes.schemas:CodeCreate"),
    ("POST", "/v1/attribution/links"): ("body", "services.attribution.links.schemas:LinkCreate"),
    # A holdout test's groups apart, its periods in order, its codes of the unit's shape.
    ("POST", "/v1/attribution/holdout-tests"): ("body", "services.attribution.incrementality.schemas:HoldoutTestCreate"),
    # An activation's format against its platform.
    ("POST", "/v1/attribution/campaigns/{campaign_id}/activations"): (
        "body",
        "services.attribution.activations.schemas:ActivationCreate",
    ),
    # A creator's customer key: exactly one of `email` or `customer_id`.
    ("POST", "/v1/attribution/creators/{creator_id}/customer-keys"): (
        "body",
        "services.attribution.fraud.schemas:CustomerKeyCreate",
    ),
    # A privacy request's subject: a creator by id alone, a customer by at least one identifier.
    ("POST", "/v1/privacy/requests"): ("body", "services.gateway.privacy.schemas:PrivacyRequestCreate"),
    # A report's period: `to` after `from` (and each one a time that exists in UTC).
    ("GET", "/v1/attribution/campaigns/{campaign_id}/report"): ("query", "services.attribution.reports.endpoints:ReportQuery"),
    ("GET", "/v1/attribution/creators/{creator_id}/report"): ("query", "services.attribution.reports.endpoints:ReportQuery"),
    ("GET", "/v1/attribution/campaigns/{campaign_id}/report/lines"): ("query", "services.attribution.reports.endpoints:LinesQuery"),
    # Exchange rates: two currencies, each day and pair once, a rate above zero.
    ("POST", "/v1/attribution/fx-rates"): ("body", "services.attribution.fx.schemas:FxRatesIn"),
    # An audience holdout's share between 0.01 and 0.5, its dates in order, each link once.
    ("POST", "/v1/attribution/audience-holdouts"): ("body", "services.attribution.incrementality.schemas:AudienceHoldoutCreate"),
    # The model comparison: position_based's first and last shares together at most 1.
    ("GET", "/v1/attribution/campaigns/{campaign_id}/attribution"): (
        "query", "services.attribution.comparison.schemas:ComparisonQuery"),
}


def _breaks_a_cross_field_rule(case) -> bool:
    """A case meant to be valid that the operation's own model refuses for a rule across fields:
    the API's 422 naming that field is right and the case was not valid after all."""
    found = _CROSS_FIELD_MODELS.get((case.method.upper(), case.operation.path))
    if found is None:
        return False
    location, dotted = found
    if case.meta is not None and case.meta.is_negative_at(
        ParameterLocation.BODY if location == "body" else ParameterLocation.QUERY
    ):
        return False
    module, name = dotted.split(":")
    model = getattr(importlib.import_module(module), name)
    data = case.body if location == "body" else case.query
    if not isinstance(data, dict):
        return False
    if location == "query":  # a list parameter given once arrives as one string
        fields = model.model_fields
        data = {k: [v] if k in fields and "list" in str(fields[k].annotation) and not isinstance(v, list) else v
                for k, v in data.items()}
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return any(isinstance((e.get("ctx") or {}).get("error"), FieldError) for e in exc.errors())
    return False


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    """Drop a generated pagination cursor from a case meant to be valid.

    A cursor is an opaque token only the API mints, so a generated one is always refused with a
    422 naming `query.cursor`. A case whose query is deliberately invalid keeps it: a malformed
    cursor must still be refused.
    """
    if case.query and "cursor" in case.query and not (case.meta and case.meta.is_negative_at(ParameterLocation.QUERY)):
        del case.query["cursor"]
    # The same in a body (POST /v1/discovery/search pages with a cursor in its body).
    if isinstance(case.body, dict) and "cursor" in case.body and not (
        case.meta and case.meta.is_negative_at(ParameterLocation.BODY)
    ):
        del case.body["cursor"]
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
