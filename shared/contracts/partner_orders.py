"""The generic partner format: the JSON bodies a partner without a format of its own posts to
`/webhooks/generic/{source_id}` (signed with `Limelight-Signature`), which reach attribution as
the `body` of `gateway.webhook.v1`. One object per delivery, `type` order, refund or
cancellation. These models document the format in the OpenAPI and AsyncAPI documents;
attribution reads it with services/attribution/orders/generic.py, and a test keeps the two
agreeing on every example below.

Amounts are decimal strings in major units ("25.00" EUR, "12000" JPY), never with more decimal
places than the currency has; keys the format does not name are ignored.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# A decimal string in the currency's major units; SIGNED may be negative.
AMOUNT = r"^[0-9]{1,15}(\.[0-9]{1,4})?$"
SIGNED = r"^-?[0-9]{1,15}(\.[0-9]{1,4})?$"


class GenericLineItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(description="The line's id, unique in the order; refunds name it.")
    quantity: int = Field(ge=0, le=1_000_000)
    unit_price: str = Field(pattern=AMOUNT, description="Price of one unit, before discounts.")
    discount: str | None = Field(default=None, pattern=AMOUNT,
                                 description="Everything the order's discounts took off this line.")
    tax: str | None = Field(default=None, pattern=AMOUNT, description="Tax on this line.")
    product_id: str | None = None
    variant_id: str | None = None
    sku: str | None = None
    title: str | None = None
    collections: list[str] = Field(default_factory=list, description="Collections or categories, for product-level rates.")


class GenericTotals(BaseModel):
    """The order's totals as you computed them: kept as sent; the commission basis is computed from the lines."""

    model_config = ConfigDict(extra="allow")

    subtotal: str | None = None
    discount: str | None = None
    tax: str | None = None
    shipping: str | None = None
    total: str | None = None


class GenericShippingAddress(BaseModel):
    """Where the order ships. Only these two codes are read; anything else sent in it (a street,
    a name) is ignored and never stored."""

    model_config = ConfigDict(extra="allow")

    country_code: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2: `DE`.")
    province_code: str | None = Field(default=None, pattern=r"^([A-Za-z]{2}-)?[A-Za-z0-9]{1,3}$",
                                      description="ISO 3166-2 subdivision, bare (`BY`) or whole (`DE-BY`).")


class GenericOrder(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "order", "order_id": "A-1001", "placed_at": "2026-11-20T10:00:00Z", "currency": "EUR",
        "customer": "cust-42", "codes": ["MAYA15"], "click_id": "c_7QpXk2mZr9",
        "landing_url": "https://shop.example/?utm_source=instagram&ll_click=c_7QpXk2mZr9", "prices_include_tax": False,
        "line_items": [{"id": "1", "product_id": "p-1", "variant_id": "v-1", "sku": "TEE-M", "collections": ["summer"],
                        "quantity": 2, "unit_price": "25.00", "discount": "5.00", "tax": "9.00"}],
        "totals": {"subtotal": "45.00", "discount": "5.00", "tax": "9.00", "shipping": "4.90", "total": "58.90"},
        "shipping_address": {"country_code": "DE", "province_code": "BY"},
    }]})

    type: Literal["order"]
    order_id: str = Field(description="Your order id: sending the same id again updates that order.")
    placed_at: str = Field(description="ISO 8601 time with its offset, from 2000 to a week ahead of attribution's clock.")
    currency: str = Field(description="ISO 4217 code.")
    line_items: list[GenericLineItem]
    customer: str | None = Field(default=None, description="Any stable id of the customer (an e-mail works): "
                                 "kept only as a keyed hash, for first versus repeat purchases.")
    codes: list[str] = Field(default_factory=list, description="Affiliate or discount codes used at checkout.")
    click_id: str | None = Field(default=None, description="The `ll_click` value the tracked link added to the landing URL.")
    landing_url: str | None = Field(default=None, description="The landing URL; an `ll_click` in it counts too.")
    referring_url: str | None = None
    prices_include_tax: bool = Field(default=False, description="Whether unit prices already contain the line's tax.")
    totals: GenericTotals | None = None
    status: str | None = Field(default=None, description="Your payment status, kept for display.")
    test: bool = Field(default=False, description="A test order.")
    shipping_address: GenericShippingAddress | None = Field(
        default=None, description="Where it ships, for holdout tests by region: country and province codes only.")


class GenericRefundLine(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(description="The refunded line's `id` in the order.")
    quantity: int = Field(ge=0, le=1_000_000, description="Units returned.")
    amount: str | None = Field(default=None, pattern=AMOUNT, description="Money returned for them, before tax.")
    tax: str | None = Field(default=None, pattern=AMOUNT)


class GenericRefund(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "refund", "refund_id": "R-1", "order_id": "A-1001", "created_at": "2026-11-21T10:00:00Z",
        "currency": "EUR", "line_items": [{"id": "1", "quantity": 1, "amount": "20.00", "tax": "4.00"}],
        "shipping": "4.90", "note": "damaged",
    }]})

    type: Literal["refund"]
    refund_id: str = Field(description="Your refund id, unique per order: the same id for the same order again changes nothing.")
    order_id: str
    created_at: str = Field(description="ISO 8601 time with its offset, from 2000 to a week ahead of attribution's clock.")
    currency: str = Field(description="ISO 4217 code, the order's.")
    line_items: list[GenericRefundLine] = Field(default_factory=list)
    shipping: str | None = Field(default=None, pattern=AMOUNT, description="Shipping refunded.")
    adjustment: str | None = Field(default=None, pattern=SIGNED,
                                   description="Money returned that no line or shipping explains (goodwill).")
    note: str | None = None


class GenericCancellation(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "cancellation", "order_id": "A-1001", "cancelled_at": "2026-11-22T00:00:00Z", "reason": "customer",
    }]})

    type: Literal["cancellation"]
    order_id: str
    cancelled_at: str = Field(description="ISO 8601 time with its offset, from 2000 to a week ahead of attribution's clock.")
    reason: str | None = None


GENERIC_MESSAGES = (GenericOrder, GenericRefund, GenericCancellation)


def _inline(node, defs: dict):
    """`node` with every `#/$defs/...` reference replaced by its definition (for a document
    that has nowhere to put `$defs`: an OpenAPI request body of one route)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


def generic_body_schema() -> dict:
    """The JSON Schema of a generic delivery's body: one of the three messages, self-contained."""
    schemas = []
    for model in GENERIC_MESSAGES:
        schema = model.model_json_schema()
        schemas.append(_inline(schema, schema.get("$defs", {})))
    return {"oneOf": schemas}


def generic_examples() -> dict:
    """OpenAPI `examples` of the generic body: one per message type."""
    return {model.model_fields["type"].annotation.__args__[0]: {"value": model.model_config["json_schema_extra"]["examples"][0]}
            for model in GENERIC_MESSAGES}
