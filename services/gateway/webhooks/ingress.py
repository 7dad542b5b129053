"""The public receivers: `POST /webhooks/shopify/{source_id}` and `POST /webhooks/generic/{source_id}`.

No API key: the signature proves the sender. The order of checks costs an attacker the most and
the gateway the least: the declared size (413) before anything, the source (404; from the
receivers' cache, `cache.py`), the body read with a cap (413), the signature (401), the headers
a signed delivery must carry (422), then the claim-and-publish (`delivery.Acceptor`, in batches;
503 when the broker is away). Limits per address and per source run before all of this
(`traffic/ratelimit.py`).
"""

import hashlib
import re
import uuid
from types import SimpleNamespace
from typing import Annotated

from fastapi import APIRouter, Header, Request
from sqlalchemy import exc as sa_exc
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.webhooks.cache import ReceivingSource, app_source_cache
from services.gateway.webhooks.delivery import DELIVERIES, Delivery, PayloadTooLarge, app_acceptor
from services.gateway.webhooks.schemas import DeliveryAccepted
from services.gateway.webhooks.signatures import BadSignature, check_generic_shape, check_shopify_shape, verify_generic, verify_shopify
from services.gateway.webhooks.vault import app_vault
from shared.contracts.partner_orders import generic_body_schema, generic_examples
from shared.db import utcnow
from shared.errors import Invalid, LimelightError, NotFound, error_response
from shared.identity import public
from shared.openapi import ErrorBody

router = APIRouter(prefix="/webhooks", tags=["partner webhooks"], dependencies=[public()])

# The topics Limelight uses; any other verified topic is answered 200 and dropped (see SHOPIFY_DOC).
SHOPIFY_TOPICS = frozenset(
    {
        "orders/create",
        "orders/paid",
        "orders/updated",
        "orders/cancelled",
        "orders/fulfilled",
        "orders/partially_fulfilled",
        "refunds/create",
        # Mandatory privacy topics of every Shopify app: published for the services to act on,
        # never logged with their payload.
        "customers/data_request",
        "customers/redact",
        "shop/redact",
    }
)
SHOPIFY_KEPT_HEADERS = (
    "x-shopify-topic",
    "x-shopify-shop-domain",
    "x-shopify-webhook-id",
    "x-shopify-triggered-at",
    "x-shopify-api-version",
    "x-shopify-event-id",
)
GENERIC_KEPT_HEADERS = ("limelight-event", "limelight-delivery-id")
DELIVERY_ID = re.compile(r"^[\x21-\x7e]{1,200}$")

RESPONSES: dict[int | str, dict] = {
    200: {"description": "Accepted (published), a duplicate of an accepted delivery, or an ignored topic."},
    401: {"model": ErrorBody, "description": "Missing, malformed, wrong or stale signature; nothing published."},
    404: {"model": ErrorBody, "description": "No such source, or it is disabled."},
    413: {"model": ErrorBody, "description": "The body is larger than GATEWAY_MAX_WEBHOOK_BODY_BYTES (1 MiB)."},
    422: {"model": ErrorBody, "description": "A signed delivery without a header it must carry, a body that is not UTF-8, or "
                                             "(generic) a body that is not a JSON object; nothing published."},
    503: {
        "model": ErrorBody,
        "description": "The event broker (or database) is unavailable; nothing was accepted. Retry after `Retry-After`.",
    },
}
RAW_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {}}, "*/*": {"schema": {}}}}}
# The generic route documents the format attribution reads (shared/contracts/partner_orders.py);
# the gateway forwards any signed JSON object as it came (`check_generic_shape`).
GENERIC_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": generic_body_schema(), "examples": generic_examples()},
    "*/*": {"schema": {}},
}}}

SHOPIFY_DOC = """Receives a Shopify webhook for a Shopify source. Point the app's webhook subscriptions at
this URL. No API key: Shopify's signature is checked instead.

- `X-Shopify-Hmac-Sha256` must be base64(HMAC-SHA256(the app's client secret, raw body)); during a
  rotation's grace period the previous secret is accepted too.
- `X-Shopify-Shop-Domain` must be the source's shop domain; `X-Shopify-Topic` and
  `X-Shopify-Webhook-Id` (the delivery id) are required; `X-Shopify-Triggered-At`,
  `X-Shopify-API-Version` and `X-Shopify-Event-Id` are kept with the event.
- Published topics: orders/create, orders/paid, orders/updated, orders/cancelled,
  orders/fulfilled, orders/partially_fulfilled, refunds/create and the privacy topics
  customers/data_request, customers/redact, shop/redact. Any other verified topic is answered 200 with `status: ignored` and not published: Shopify retries every non-2xx
  answer and ends by deleting the subscription, which a topic Limelight has no use for should not cause.
- The delivery is on `gateway.webhook.v1` (acks=all) before the 200. A webhook id already
  accepted for this source is answered 200 (`status: duplicate`) without publishing again, so
  Shopify's retries are harmless. 503 (with `Retry-After`) when the broker is unavailable:
  Shopify retries.
"""

GENERIC_DOC = """Receives a webhook from a generic partner (a platform without its own format).
No API key: the `Limelight-Signature` header is checked instead.

**Headers**

- `Limelight-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The
  secret is the whole string returned when the source was created or rotated (`whsec_…`), used as
  UTF-8 bytes. Several `v1=` may be sent (one per secret during a rotation); one must match. A `t`
  more than 300 seconds from the gateway's clock, either way, is refused (replay protection).
- `Limelight-Delivery-Id` (recommended): your unique id of this delivery, 1-200 visible ASCII
  characters; a delivery id already accepted is answered 200 without publishing again, so you may
  retry safely. Without it the id is `sha256:` + hex SHA-256 of `"<t>.<raw body>"`, which only
  deduplicates a retry that re-sends the same `t` and body.
- `Limelight-Event` (optional): your event name, e.g. `order.created`.

**Worked example** (reproduce it before wiring your code):

- secret: `whsec_docs_example_secret_do_not_use`
- t: `1700000000`
- body: `{"event":"order.created","order_id":"1001","total":"49.90","currency":"EUR"}`
- signed string: `1700000000.{"event":"order.created","order_id":"1001","total":"49.90","currency":"EUR"}`
- v1: `6b59684f2703649c999004e783268d3b7f11fc9d3709ab2b58c02444078a7fb4`
- header: `Limelight-Signature: t=1700000000,v1=6b59684f2703649c999004e783268d3b7f11fc9d3709ab2b58c02444078a7fb4`

With openssl: `printf '%s' "$t.$body" | openssl dgst -sha256 -hmac "$secret" -hex`.

**Answers**: 200 once the delivery is on `gateway.webhook.v1` (acks=all); 401 bad, missing or
stale signature (nothing published); 404 unknown or disabled source; 413 body over 1 MiB; 422 a
body that is not a JSON object in UTF-8 (nothing published); 503 with `Retry-After` when the broker
is unavailable: retry with backoff.
"""


def _settings(request: Request):
    return request.app.state.ctx.settings


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused (413) as soon as the stream crosses `limit` (a chunked body, or one
    whose Content-Length lied); `_check_declared_size` refuses a declared one before any read."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    return bytes(body)


def _check_declared_size(request: Request) -> None:
    declared = request.headers.get("content-length", "")
    limit = _settings(request).gateway_max_webhook_body_bytes
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")


async def _source(request: Request, source_id: str, kind: str) -> ReceivingSource:
    try:
        wanted = uuid.UUID(source_id)
    except ValueError:
        raise NotFound(f"no {kind} webhook source {source_id}") from None
    vault = await app_vault(request)
    source = await app_source_cache(request).get(request.app.state.reads, vault, wanted, kind)
    if source is None:
        raise NotFound(f"no {kind} webhook source {source_id}")
    return source


def _delivery_id(value: str | None, header: str) -> str:
    if value is None:
        raise Invalid(f"header.{header}", "required")
    if not DELIVERY_ID.match(value):
        raise Invalid(f"header.{header}", "must be 1-200 visible ASCII characters")
    return value


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("body", "must be UTF-8") from None


def _kept(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.headers[name] for name in names if name in request.headers}


# Where the receiver leaves its outcome for the webhook limits (traffic/ratelimit.py): only an
# accepted delivery spends its source's allowance, never a replayed duplicate or an ignored topic.
OUTCOME_STATE = "webhook_outcome"


def _answer(request: Request, result: DeliveryAccepted) -> JSONResponse:
    request.scope.setdefault("state", {})[OUTCOME_STATE] = result.status
    return JSONResponse(result.model_dump(mode="json"))


@router.post(
    "/shopify/{source_id}", response_model=DeliveryAccepted, responses=RESPONSES, openapi_extra=RAW_BODY,
    summary="Receive a Shopify webhook", description=SHOPIFY_DOC,
)
async def receive_shopify(
    request: Request,
    source_id: str,
    x_shopify_hmac_sha256: Annotated[str | None, Header(description="base64 HMAC-SHA256 of the raw body.")] = None,
    x_shopify_topic: Annotated[str | None, Header(description="e.g. orders/create")] = None,
    x_shopify_shop_domain: Annotated[str | None, Header(description="e.g. acme-store.myshopify.com")] = None,
    x_shopify_webhook_id: Annotated[str | None, Header(description="The delivery id.")] = None,
):
    _check_declared_size(request)
    source = await _source(request, source_id, "shopify")
    body = await _read_body(request, _settings(request).gateway_max_webhook_body_bytes)
    if (x_shopify_shop_domain or "").strip().lower() != source.shop_domain:
        raise BadSignature("X-Shopify-Shop-Domain is missing or is not this source's shop")
    verify_shopify(source.accepted_secrets(utcnow()), body, x_shopify_hmac_sha256)
    delivery_id = _delivery_id(x_shopify_webhook_id, "X-Shopify-Webhook-Id")
    if not x_shopify_topic:
        raise Invalid("header.X-Shopify-Topic", "required")
    if x_shopify_topic not in SHOPIFY_TOPICS:
        DELIVERIES.labels("shopify", "ignored").inc()
        return _answer(request, DeliveryAccepted(status="ignored", delivery_id=delivery_id, event_id=None))
    # Shopify signs the body only: the topic and the webhook id are unsigned headers. A body must
    # look like its topic's payload, and one body is published once per topic whatever id it
    # comes with, so a captured delivery cannot be replayed as a new one or as another topic.
    check_shopify_shape(x_shopify_topic, body)
    delivery = Delivery(
        source=source,
        delivery_id=delivery_id,
        fingerprint=f"shopify:{x_shopify_topic}:" + hashlib.sha256(body).hexdigest(),
        topic=x_shopify_topic,
        partner_id=source.shop_domain or "",
        body=_text(body),
        content_type=request.headers.get("content-type", ""),
        headers=_kept(request, SHOPIFY_KEPT_HEADERS),
    )
    return _answer(request, await app_acceptor(request).accept(delivery))


@router.post(
    "/generic/{source_id}", response_model=DeliveryAccepted, responses=RESPONSES, openapi_extra=GENERIC_BODY,
    summary="Receive a generic partner webhook", description=GENERIC_DOC,
)
async def receive_generic(
    request: Request,
    source_id: str,
    limelight_signature: Annotated[str | None, Header(description="t=<unix>,v1=<hex>[,v1=<hex>]")] = None,
    limelight_delivery_id: Annotated[str | None, Header(description="Your unique delivery id.")] = None,
    limelight_event: Annotated[str | None, Header(max_length=200, description="Your event name.")] = None,
):
    _check_declared_size(request)
    source = await _source(request, source_id, "generic")
    settings = _settings(request)
    body = await _read_body(request, settings.gateway_max_webhook_body_bytes)
    now = utcnow()
    timestamp = verify_generic(
        source.accepted_secrets(now),
        body,
        limelight_signature,
        now=now.timestamp(),
        tolerance=settings.gateway_webhook_signature_tolerance_seconds,
    )
    check_generic_shape(body)
    # What the signature covers: a captured delivery sent again under another (unsigned)
    # Limelight-Delivery-Id is still the same delivery.
    signed = "sha256:" + hashlib.sha256(f"{timestamp}.".encode() + body).hexdigest()
    if limelight_delivery_id is None:
        delivery_id = signed
    else:
        delivery_id = _delivery_id(limelight_delivery_id, "Limelight-Delivery-Id")
    delivery = Delivery(
        source=source,
        delivery_id=delivery_id,
        fingerprint=signed,
        topic=limelight_event,
        partner_id=source.name,
        body=_text(body),
        content_type=request.headers.get("content-type", ""),
        headers=_kept(request, GENERIC_KEPT_HEADERS) | {"limelight-timestamp": str(timestamp)},
    )
    return _answer(request, await app_acceptor(request).accept(delivery))


# -- the receivers' fast path ----------------------------------------------------------------------
_RECEIVER_PATH = re.compile(r"/webhooks/(shopify|generic)/([^/]+)")
# The metrics label of each receiver (its route's template, as FastAPI's routing sets it).
_RECEIVER_ROUTES = {kind: SimpleNamespace(path=f"/webhooks/{kind}/{{source_id}}") for kind in ("shopify", "generic")}
_EVENT_MAX_LENGTH = 200  # receive_generic's Limelight-Event limit


class WebhookReceiver:
    """`POST /webhooks/{shopify,generic}/<source>` answered from the edge by the very functions
    above, without FastAPI's route matching over the whole URL map, its dependency solving and
    its request and response wrappers: about half of the gateway's CPU per accepted delivery went
    there (a profile of bench/attribution_orders.py), as it did for the click redirect
    (`public.ClickRedirect`). Behind every other edge layer: the address and source limits, the
    body limit and the rest still run. A request FastAPI would answer otherwise (another method,
    a path with more segments, a Limelight-Event header over its limit, which FastAPI's own
    validation refuses) falls through to it unchanged."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] == "POST":
            match = _RECEIVER_PATH.fullmatch(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        kind, source_id = match.groups()
        request = Request(scope, receive)
        headers = request.headers
        if kind == "generic" and len(headers.get("limelight-event") or "") > _EVENT_MAX_LENGTH:
            await self.app(scope, receive, send)
            return
        scope["route"] = _RECEIVER_ROUTES[kind]
        try:
            if kind == "shopify":
                answer = await receive_shopify(
                    request, source_id, headers.get("x-shopify-hmac-sha256"), headers.get("x-shopify-topic"),
                    headers.get("x-shopify-shop-domain"), headers.get("x-shopify-webhook-id"))
            else:
                answer = await receive_generic(
                    request, source_id, headers.get("limelight-signature"), headers.get("limelight-delivery-id"),
                    headers.get("limelight-event"))
        except (LimelightError, sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:
            # Answered as the app's handlers would have (shared/errors.py); anything else goes up
            # as it did from the route: a body over the limit to `BodyLimit`, a bug to the 500 handler.
            answer = error_response(exc, scope["path"])
        await answer(scope, receive, send)
