"""The generic partner format: one JSON object per webhook, `type` order, refund or cancellation.
docs/guide/attribution-orders.md documents it with an example of each; the gateway has verified
its `Limelight-Signature` before it reaches attribution.

    {"type": "order", "order_id": "A-1001", "placed_at": "2026-11-20T10:00:00Z", "currency": "EUR",
     "customer": "any stable customer identifier (hashed on arrival)", "codes": ["MAYA15"],
     "click_id": "the ll_click value the landing URL carried", "landing_url": "https://...",
     "prices_include_tax": false, "shipping_address": {"country_code": "DE", "province_code": "BY"},
     "line_items": [{"id": "1", "product_id": "p-1", "variant_id": "v-1", "sku": "TEE-M",
                     "collections": ["summer"], "quantity": 2, "unit_price": "25.00",
                     "discount": "5.00", "tax": "9.00"}],
     "totals": {"subtotal": "45.00", "discount": "5.00", "tax": "9.00", "shipping": "4.90",
                "total": "58.90"}}
    {"type": "refund", "refund_id": "R-1", "order_id": "A-1001", "created_at": "...",
     "currency": "EUR", "line_items": [{"id": "1", "quantity": 1, "amount": "20.00", "tax": "4.00"}],
     "shipping": "4.90", "adjustment": "0.00", "note": "damaged"}
    {"type": "cancellation", "order_id": "A-1001", "cancelled_at": "...", "reason": "customer"}

Amounts are decimal strings (or JSON numbers) in major units, read exactly; more decimals than
the currency has is an error, never a rounding. Keys the format does not know are ignored, so
partners may send more. Of `shipping_address` only `country_code` (ISO 3166-1 alpha-2) and
`province_code` (`BY` or `DE-BY`) are read; a street or a name sent in it is never kept.
"""

from __future__ import annotations

from services.attribution.orders import reading as r
from services.attribution.orders.model import Cancellation, CustomerKey, LineItem, Order, Parsed, PayloadError, Refund, RefundLine

TYPES = ("order", "refund", "cancellation")


def parse(body: str, customer_key: CustomerKey) -> Parsed:
    data = r.load(body)
    kind = data.get("type")
    if kind == "order":
        return parse_order(data, customer_key)
    if kind == "refund":
        return Parsed(parse_refund(data))
    if kind == "cancellation":
        return Parsed(Cancellation(
            source="generic",
            order_id=r.ident(r.need(data, "order_id", ""), "order_id"),
            cancelled_at=r.timestamp(r.need(data, "cancelled_at", ""), "cancelled_at"),
            reason=r.text(data.get("reason"), "reason", 255),
        ))
    raise PayloadError("type", f"must be one of {', '.join(TYPES)}")


def parse_order(data: dict, customer_key: CustomerKey) -> Parsed:
    code = r.currency(r.need(data, "currency", ""), "currency")
    includes_tax = data.get("prices_include_tax") is True
    notes: list[str] = []
    lines = []
    for i, item in enumerate(r.objects(r.need(data, "line_items", ""), "line_items")):
        path = f"line_items[{i}]."
        collections = item.get("collections") or []
        if not isinstance(collections, list) or not all(isinstance(c, str) for c in collections):
            raise PayloadError(f"{path}collections", "not a list of strings")
        lines.append(LineItem(
            line_id=r.ident(r.need(item, "id", path), f"{path}id"),
            quantity=r.quantity(r.need(item, "quantity", path), f"{path}quantity"),
            unit_price_minor=r.amount(r.need(item, "unit_price", path), code, f"{path}unit_price"),
            discount_minor=r.optional_amount(item.get("discount"), code, f"{path}discount") or 0,
            tax_minor=r.optional_amount(item.get("tax"), code, f"{path}tax") or 0,
            price_includes_tax=includes_tax,
            product_id=r.optional_ident(item.get("product_id"), f"{path}product_id"),
            variant_id=r.optional_ident(item.get("variant_id"), f"{path}variant_id"),
            sku=next(iter(r.keys([r.string(item.get("sku"), f"{path}sku")], f"{path}sku", notes)), None),
            title=r.text(item.get("title"), f"{path}title", 255),
            collections=r.keys(collections[:100], f"{path}collections", notes),
        ))
    totals = data.get("totals") or {}
    if not isinstance(totals, dict):
        raise PayloadError("totals", "not an object")
    customer = data.get("customer")
    if customer is not None and (not isinstance(customer, str) or not customer.strip()):
        raise PayloadError("customer", "not a non-empty string")
    codes = data.get("codes") or []
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise PayloadError("codes", "not a list of strings")
    sent_landing = r.string(data.get("landing_url"), "landing_url")  # click ids read from it as sent
    landing = r.text(sent_landing, "landing_url")
    click = r.string(data.get("click_id"), "click_id")
    country, region, place_notes = r.shipping_place(data.get("shipping_address"), "shipping_address")
    return Parsed(Order(
        source="generic",
        order_id=r.ident(r.need(data, "order_id", ""), "order_id"),
        placed_at=r.timestamp(r.need(data, "placed_at", ""), "placed_at"),
        currency=code,
        lines=tuple(lines),
        subtotal_minor=r.optional_amount(totals.get("subtotal"), code, "totals.subtotal"),
        discounts_minor=r.optional_amount(totals.get("discount"), code, "totals.discount"),
        tax_minor=r.optional_amount(totals.get("tax"), code, "totals.tax"),
        shipping_minor=r.optional_amount(totals.get("shipping"), code, "totals.shipping"),
        total_minor=r.optional_amount(totals.get("total"), code, "totals.total"),
        taxes_included=includes_tax,
        customer_key=customer_key(f"partner-customer:{customer.strip()}") if customer else None,
        codes=r.keys([c.strip() for c in codes], "codes", notes),
        click_ids=r.keys([click.strip() if click else None, *r.click_ids_in_url(sent_landing)], "click ids", notes),
        landing_site=landing,
        referring_site=r.text(data.get("referring_url"), "referring_url"),
        financial_status=r.text(data.get("status"), "status", 64),
        test=data.get("test") is True,
        shipping_country=country,
        shipping_region=region,
    ), tuple(place_notes + notes))


def parse_refund(data: dict) -> Refund:
    code = r.currency(r.need(data, "currency", ""), "currency")
    lines = []
    for i, item in enumerate(r.objects(data.get("line_items"), "line_items")):
        path = f"line_items[{i}]."
        lines.append(RefundLine(
            line_id=r.ident(r.need(item, "id", path), f"{path}id"),
            quantity=r.quantity(r.need(item, "quantity", path), f"{path}quantity"),
            subtotal_minor=r.optional_amount(item.get("amount"), code, f"{path}amount") or 0,
            tax_minor=r.optional_amount(item.get("tax"), code, f"{path}tax") or 0,
        ))
    return Refund(
        source="generic",
        order_id=r.ident(r.need(data, "order_id", ""), "order_id"),
        refund_id=r.refund_ident(r.need(data, "refund_id", ""), "refund_id"),
        created_at=r.timestamp(r.need(data, "created_at", ""), "created_at"),
        currency=code,
        lines=tuple(lines),
        shipping_minor=r.optional_amount(data.get("shipping"), code, "shipping") or 0,
        adjustment_minor=r.optional_amount(data.get("adjustment"), code, "adjustment", signed=True) or 0,
        note=r.text(data.get("note"), "note", 500),
    )
