"""Orders, refunds and their signature as Shopify sends them in its webhooks (orders/create,
orders/updated, orders/cancelled, refunds/create): pure, used by the orders step and the
reliability suite's traffic."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from runtime.seed.model import Order


def _money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def shopify_order(order: Order, currency: str, placed: datetime, click_id: str | None, code: str | None,
                  *, updated: datetime | None = None, cancelled: datetime | None = None) -> dict:
    """An order as Shopify's orders/create (and orders/updated, orders/cancelled) sends it."""
    line_total = order.unit_price * order.quantity
    discount = order.unit_discount * order.quantity
    shipping = 490
    body = {
        "id": order.number, "admin_graphql_api_id": f"gid://shopify/Order/{order.number}", "name": f"#{order.number % 100000}",
        "created_at": placed.isoformat(timespec="milliseconds"), "updated_at": (updated or placed).isoformat(timespec="milliseconds"),
        "currency": currency, "presentment_currency": currency, "email": order.email, "taxes_included": False,
        "financial_status": "paid", "test": False,
        "discount_codes": [{"code": code, "amount": _money(discount), "type": "percentage"}] if code else [],
        "landing_site": f"/products/featured?ll_click={click_id}" if click_id else "/",
        "referring_site": "https://www.instagram.com/" if click_id else "",
        "line_items": [{
            "id": order.number * 10 + 1, "product_id": 700 + order.unit_price // 100, "variant_id": 900 + order.unit_price // 100,
            "sku": f"SKU-{order.unit_price // 100}", "title": "Featured product", "quantity": order.quantity,
            "price": _money(order.unit_price), "discount_allocations": [{"amount": _money(discount)}] if discount else [],
            "tax_lines": [],
        }],
        "subtotal_price": _money(line_total - discount), "total_discounts": _money(discount), "total_tax": "0.00",
        "total_shipping_price_set": {"shop_money": {"amount": _money(shipping), "currency_code": currency}},
        "total_price": _money(line_total - discount + shipping),
        "shipping_address": {"country_code": order.country},
        "cancelled_at": cancelled.isoformat(timespec="seconds") if cancelled else None,
    }
    return body


def shopify_refund(order: Order, currency: str, at: datetime) -> dict:
    amount = order.refunded_units * (order.unit_price - order.unit_discount)
    return {"id": order.number * 10 + 7, "order_id": order.number, "created_at": at.isoformat(timespec="seconds"),
            "processed_at": at.isoformat(timespec="seconds"), "note": "returned", "restock": True,
            "refund_line_items": [{"id": order.number * 10 + 8, "line_item_id": order.number * 10 + 1,
                                   "quantity": order.refunded_units, "restock_type": "return",
                                   "subtotal": _money(amount), "total_tax": "0.00"}],
            "order_adjustments": [],
            "transactions": [{"kind": "refund", "status": "success", "amount": _money(amount), "currency": currency}]}


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
