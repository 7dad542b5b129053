"""Shopify's order webhooks (REST payloads, `X-Shopify-Topic`) into orders/model.py.

Topics read: `orders/create`, `orders/updated`, `orders/paid`, `orders/cancelled`,
`orders/fulfilled`, `orders/partially_fulfilled` (each carries the whole order: its state now,
`cancelled_at` and the `refunds` so far) and `refunds/create` (one refund). Other topics are not
orders: `parse` returns None for them and the consumer records them as ignored.

Amounts are read in the shop's currency (`currency`; the `*_set.shop_money` amount when the
payload has one, else the plain string), exactly, in minor units. A line's discount is the sum
of its `discount_allocations` (line-level discounts and its share of order-level ones; the
deprecated `total_discount` when there are none), its tax the sum of its `tax_lines`. Totals are
kept as sent; where they disagree with the lines, a note says so (Shopify's own examples do not
always add up: REFERENCE.md) and the commission basis is computed from the lines.

The customer is keyed by e-mail when the order has one (the same person across stores and
partners), else by Shopify's customer id; only the keyed hash is kept. Of the shipping address
only `country_code` and `province_code` are read (reading.shipping_place).
"""

from __future__ import annotations

from services.attribution.orders import reading as r
from services.attribution.orders.model import CustomerKey, LineItem, Order, Parsed, PayloadError, Refund, RefundLine
from shared.money import format_amount

ORDER_TOPICS = frozenset({
    "orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled", "orders/partially_fulfilled",
})
REFUND_TOPICS = frozenset({"refunds/create"})


def parse(topic: str | None, body: str, customer_key: CustomerKey) -> Parsed | None:
    """The message of a Shopify webhook, or None for a topic that is not about orders."""
    if topic in ORDER_TOPICS:
        return parse_order(r.load(body), customer_key)
    if topic in REFUND_TOPICS:
        data = r.load(body)
        refund = parse_refund(data, None, "")
        return Parsed(refund)
    return None


def _money(obj: dict, key: str, code: str, path: str, signed: bool = False) -> int | None:
    """`key`'s amount in shop money: `{key}_set.shop_money.amount` if present, else `key`."""
    money_set = obj.get(f"{key}_set")
    if isinstance(money_set, dict) and isinstance(money_set.get("shop_money"), dict):
        shop = money_set["shop_money"]
        if shop.get("amount") is not None:
            if shop.get("currency_code") not in (None, code):
                raise PayloadError(f"{path}{key}_set.shop_money.currency_code", f"{shop.get('currency_code')!r} is not the order's {code}")
            return r.amount(shop["amount"], code, f"{path}{key}_set.shop_money.amount", signed)
    return r.optional_amount(obj.get(key), code, f"{path}{key}", signed)


def _sum(items: list[dict], key: str, code: str, path: str) -> int:
    return sum(_money(item, key, code, f"{path}[{i}].") or 0 for i, item in enumerate(items))


def parse_order(data: dict, customer_key: CustomerKey) -> Parsed:
    code = r.currency(r.need(data, "currency", ""), "currency")
    order_id = r.ident(r.need(data, "id", ""), "id")
    taxes_included = data.get("taxes_included") is True
    notes: list[str] = []
    lines = []
    for i, item in enumerate(r.objects(data.get("line_items"), "line_items")):
        path = f"line_items[{i}]."
        allocations = r.objects(item.get("discount_allocations"), f"{path}discount_allocations")
        discount = (_sum(allocations, "amount", code, f"{path}discount_allocations") if allocations
                    else _money(item, "total_discount", code, path) or 0)
        lines.append(LineItem(
            line_id=r.ident(r.need(item, "id", path), f"{path}id"),
            quantity=r.quantity(r.need(item, "quantity", path), f"{path}quantity"),
            unit_price_minor=_required_money(item, "price", code, path),
            discount_minor=discount,
            tax_minor=_sum(r.objects(item.get("tax_lines"), f"{path}tax_lines"), "price", code, f"{path}tax_lines"),
            price_includes_tax=taxes_included,
            product_id=r.optional_ident(item.get("product_id"), f"{path}product_id"),
            variant_id=r.optional_ident(item.get("variant_id"), f"{path}variant_id"),
            sku=next(iter(r.keys([r.string(item.get("sku"), f"{path}sku")], f"{path}sku", notes)), None),
            title=r.text(item.get("title"), f"{path}title", 255),
            gift_card=item.get("gift_card") is True,
        ))
    shipping = _money(data, "total_shipping_price", code, "")
    if shipping is None and data.get("shipping_lines") is not None:
        shipping = _sum(r.objects(data.get("shipping_lines"), "shipping_lines"), "price", code, "shipping_lines")
    customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
    email = data.get("email") or data.get("contact_email") or customer.get("email")
    identifier = (f"email:{email}" if isinstance(email, str) and "@" in email
                  else f"shopify-customer:{r.ident(customer['id'], 'customer.id')}" if customer.get("id") is not None else None)
    attributes = r.objects(data.get("note_attributes"), "note_attributes")
    sent_landing = r.string(data.get("landing_site"), "landing_site")  # click ids read from it as sent
    landing = r.text(sent_landing, "landing_site")
    country, region, place_notes = r.shipping_place(data.get("shipping_address"), "shipping_address")
    order = Order(
        source="shopify",
        order_id=order_id,
        placed_at=r.timestamp(data.get("created_at") or data.get("processed_at"), "created_at"),
        currency=code,
        lines=tuple(lines),
        subtotal_minor=_money(data, "subtotal_price", code, ""),
        discounts_minor=_money(data, "total_discounts", code, ""),
        tax_minor=_money(data, "total_tax", code, ""),
        shipping_minor=shipping,
        total_minor=_money(data, "total_price", code, ""),
        taxes_included=taxes_included,
        customer_key=customer_key(identifier) if identifier else None,
        codes=r.keys([r.string(c.get("code"), f"discount_codes[{i}].code")
                      for i, c in enumerate(r.objects(data.get("discount_codes"), "discount_codes"))],
                     "discount_codes", notes),
        click_ids=r.keys([*r.click_ids_in_url(sent_landing), *r.click_ids_in_attributes(attributes)], "click ids", notes),
        landing_site=landing,
        referring_site=r.text(data.get("referring_site"), "referring_site"),
        financial_status=r.text(data.get("financial_status"), "financial_status", 64),
        cancelled_at=r.optional_timestamp(data.get("cancelled_at"), "cancelled_at"),
        updated_at=r.optional_timestamp(data.get("updated_at"), "updated_at"),
        test=data.get("test") is True,
        shipping_country=country,
        shipping_region=region,
        refunds=tuple(parse_refund(refund, code, f"refunds[{i}].", order_id)
                      for i, refund in enumerate(r.objects(data.get("refunds"), "refunds"))),
    )
    return Parsed(order, tuple(_disagreements(order) + place_notes + notes))


def _required_money(obj: dict, key: str, code: str, path: str) -> int:
    value = _money(obj, key, code, path)
    if value is None:
        raise PayloadError(f"{path}{key}", "missing")
    return value


# Where a refund states an amount in shop money: (list, the amount's key in each item).
_REFUND_AMOUNTS = (("refund_line_items", "subtotal"), ("order_adjustments", "amount"), ("refund_shipping_lines", "subtotal_amount"))


def _refund_currency(data: dict, order_currency: str | None, path: str) -> str | None:
    """The refund's currency: the shop money's, as its line items, adjustments or shipping lines
    state it; else the order's, when the refund comes inside its order; else its transactions'.
    Transactions are last: on an order paid in another currency than the shop's (Shopify Markets),
    they are in the customer's currency, while every amount read here is shop money."""
    for collection, key in _REFUND_AMOUNTS:
        for i, item in enumerate(r.objects(data.get(collection), f"{path}{collection}")):
            money_set = item.get(f"{key}_set")
            shop = money_set.get("shop_money") if isinstance(money_set, dict) else None
            if isinstance(shop, dict) and shop.get("currency_code"):
                return r.currency(shop["currency_code"], f"{path}{collection}[{i}].{key}_set.shop_money.currency_code")
    if order_currency is not None:
        return order_currency
    for i, transaction in enumerate(r.objects(data.get("transactions"), f"{path}transactions")):
        if transaction.get("currency"):
            return r.currency(transaction["currency"], f"{path}transactions[{i}].currency")
    return None


def parse_refund(data: dict, order_currency: str | None, path: str, order_id: str | None = None) -> Refund:
    """One refund: of `refunds/create`, or one of an order's `refunds` (`path` its place)."""
    code = _refund_currency(data, order_currency, path)
    if code is None:
        raise PayloadError(f"{path}transactions", "no currency in the refund (no transaction or line subtotal says it)")
    if order_currency is not None and code != order_currency:
        raise PayloadError(f"{path}transactions", f"the refund is in {code}, the order in {order_currency}")
    lines = []
    for i, item in enumerate(r.objects(data.get("refund_line_items"), f"{path}refund_line_items")):
        at = f"{path}refund_line_items[{i}]."
        line_id = item.get("line_item_id") if item.get("line_item_id") is not None else (item.get("line_item") or {}).get("id")
        lines.append(RefundLine(
            line_id=r.ident(line_id, f"{at}line_item_id"),
            quantity=r.quantity(r.need(item, "quantity", at), f"{at}quantity"),
            subtotal_minor=_money(item, "subtotal", code, at) or 0,
            tax_minor=_money(item, "total_tax", code, at) or 0,
        ))
    shipping = 0
    for i, line in enumerate(r.objects(data.get("refund_shipping_lines"), f"{path}refund_shipping_lines")):
        shipping += _money(line, "subtotal_amount", code, f"{path}refund_shipping_lines[{i}].") or 0
    adjustment = 0
    for i, adj in enumerate(r.objects(data.get("order_adjustments"), f"{path}order_adjustments")):
        value = _money(adj, "amount", code, f"{path}order_adjustments[{i}].", signed=True) or 0
        # Adjustments are negative when money goes back to the customer.
        if adj.get("kind") == "shipping_refund":
            shipping += -value
        else:
            adjustment += -value
    return Refund(
        source="shopify",
        order_id=r.ident(order_id if order_id is not None else r.need(data, "order_id", path), f"{path}order_id"),
        refund_id=r.refund_ident(r.need(data, "id", path), f"{path}id"),
        created_at=r.timestamp(data.get("created_at") or data.get("processed_at"), f"{path}created_at"),
        currency=code,
        lines=tuple(lines),
        shipping_minor=shipping,
        adjustment_minor=adjustment,
        note=r.text(data.get("note"), f"{path}note", 500),
    )


def _disagreements(order: Order) -> list[str]:
    """Where the order's own totals do not add up with its lines: noted, kept as sent."""
    notes: list[str] = []
    code = order.currency

    def f(minor: int) -> str:
        return f"{format_amount(minor, code)} {code}"

    lines_net = sum(line.gross_minor - line.discount_minor for line in order.lines)
    line_discounts = sum(line.discount_minor for line in order.lines)
    if order.subtotal_minor is not None and order.subtotal_minor != lines_net:
        notes.append(f"subtotal_price {f(order.subtotal_minor)} is not the line items less their discounts ({f(lines_net)}); kept as sent")
    if order.discounts_minor is not None and order.discounts_minor != line_discounts:
        notes.append(f"total_discounts {f(order.discounts_minor)} is not the sum of the lines' discount allocations "
                     f"({f(line_discounts)}); kept as sent")
    if None not in (order.total_minor, order.subtotal_minor, order.shipping_minor, order.tax_minor):
        expected = order.subtotal_minor + order.shipping_minor + (0 if order.taxes_included else order.tax_minor)  # type: ignore[operator]
        if expected != order.total_minor:
            notes.append(f"total_price {f(order.total_minor)} is not subtotal + shipping"  # type: ignore[arg-type]
                         f"{'' if order.taxes_included else ' + tax'} ({f(expected)}); kept as sent")
    return notes
