"""Shopify's mandatory privacy webhooks, as data-subject requests (ADR 0054).

Every Shopify app must honour three topics, which the gateway verifies and publishes on
`gateway.webhook.v1` like the order topics (services/gateway/webhooks/ingress.py):
- `customers/redact`: erase a customer of the store (its `customer.email` / `customer.id`, and
  the orders in `orders_to_redact`);
- `shop/redact`: erase every customer of the store (sent 48 hours after the app is uninstalled);
- `customers/data_request`: export what is held about a customer (`orders_requested`).
Each becomes a `PrivacyRequested` acted on by privacy/service.py, whose request id is derived
from the source and the delivery id, so a redelivery finds its receipt and does nothing again.
"""

from __future__ import annotations

import json
import uuid

from services.attribution.orders.model import PayloadError
from services.attribution.orders.reading import UNSTORABLE
from shared.contracts.gateway import WebhookReceived
from shared.contracts.privacy import PrivacyRequested, PrivacySubject

TOPICS = frozenset({"customers/redact", "shop/redact", "customers/data_request"})
NAMESPACE = uuid.UUID("6c0f5bb5-5f2a-4f4e-9a7e-2b0d6a1c9e41")


def _storable(order_id: str) -> bool:
    return 0 < len(order_id) <= 255 and not UNSTORABLE.search(order_id)


def request_id(delivery: WebhookReceived) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{delivery.source_id}:{delivery.delivery_id}")


def request_of(delivery: WebhookReceived) -> PrivacyRequested:
    try:
        data = json.loads(delivery.body)
    except ValueError:
        raise PayloadError("body", "not JSON") from None
    if not isinstance(data, dict):
        raise PayloadError("body", "not a JSON object")
    if delivery.source_id is None:
        raise PayloadError("source_id", "a privacy webhook must name its store's source")
    if delivery.topic == "shop/redact":
        subject = PrivacySubject(type="customer", source="shopify", source_id=delivery.source_id, whole_source=True)
        kind = "erasure"
    else:
        customer = data.get("customer")
        if not isinstance(customer, dict):
            raise PayloadError("customer", "missing or not an object")
        email = customer.get("email")
        ident = customer.get("id")
        listed = data.get("orders_to_redact" if delivery.topic == "customers/redact" else "orders_requested") or []
        if not isinstance(listed, list) or not all(isinstance(o, int | str) and not isinstance(o, bool) for o in listed):
            raise PayloadError("orders_to_redact" if delivery.topic == "customers/redact" else "orders_requested",
                               "must be a list of order ids")
        if not (isinstance(email, str) and email.strip()) and ident is None and not listed:
            raise PayloadError("customer", "names no e-mail, customer id or order")
        subject = PrivacySubject(
            type="customer", email=email.strip() if isinstance(email, str) and email.strip() else None,
            customer_id=str(ident) if ident is not None and not isinstance(ident, bool) else None,
            source="shopify", source_id=delivery.source_id,
            # An id no order could be stored under (orders/reading.py `ident`) has nothing to erase
            # or export; the others are acted on.
            order_ids=[str(o).strip() for o in listed if _storable(str(o).strip())])
        kind = "erasure" if delivery.topic == "customers/redact" else "export"
    return PrivacyRequested(request_id=request_id(delivery), kind=kind, subject=subject,
                            requested_at=delivery.received_at, origin="shopify")
