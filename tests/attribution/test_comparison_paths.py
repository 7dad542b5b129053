"""Building a campaign's customer paths from its rows (services/attribution/comparison/paths.py),
pure: which clicks and codes make each order's path, which clicks make the non-converting paths,
and the money each converting path carries. The rows are what the repository's statements return."""

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from services.attribution.comparison.paths import build
from services.attribution.comparison.service import cut, cut_back

T0 = datetime(2026, 10, 1, tzinfo=UTC)
START, END = T0, T0 + timedelta(days=30)
A, B, C = (str(uuid.UUID(int=i)) for i in (1, 2, 3))


def click(creator: str, at: datetime, visitor: str | None, *, flagged=False, window_days=30, revoked_at=None):
    return SimpleNamespace(id=uuid.uuid4(), visitor_hash=visitor, creator_id=uuid.UUID(creator), clicked_at=at,
                           flagged=flagged, window_days=window_days, revoked_at=revoked_at)


def order(at: datetime, *, clicks=(), codes=(), currency="USD", basis=10_000):
    return SimpleNamespace(id=uuid.uuid4(), placed_at=at, currency=currency, basis_minor=basis, codes=list(codes),
                           click_ids=[str(c.id) for c in clicks])


def code(text: str, creator: str, **dates):
    return SimpleNamespace(code=text, creator_id=uuid.UUID(creator), revoked_at=dates.get("revoked_at"),
                           expires_at=dates.get("expires_at"))


def creators(path) -> list[tuple[str, str]]:
    return [(t.creator_id, t.kind) for t in path.touches]


def test_an_orders_path_is_its_touches_and_the_same_visitors_earlier_clicks():
    a = click(A, T0 + timedelta(hours=1), "v1")
    b = click(B, T0 + timedelta(hours=2), "v1")
    other = click(C, T0 + timedelta(hours=1), "v2")  # another visitor: not on v1's path
    o = order(T0 + timedelta(hours=3), clicks=[b], codes=["maya10"])
    found = build([o], [SimpleNamespace(id=o.id, currency="USD", commission=950)], [a, b, other],
                  [code("MAYA10", C)], START, END)
    [conversion] = found.conversions["USD"]
    assert creators(conversion.path) == [(A, "click"), (B, "click"), (C, "code")]
    assert (conversion.revenue_minor, conversion.commission_minor, conversion.path.value_minor) == (10_000, 950, 10_000)
    assert [creators(p) for p in found.non_converting] == [[(C, "click")]]


def test_flagged_late_revoked_and_out_of_window_clicks_are_never_on_a_path():
    placed = T0 + timedelta(days=10)
    carried = click(B, placed - timedelta(hours=1), "v1")
    flagged = click(A, placed - timedelta(hours=2), "v1", flagged=True)
    old = click(A, placed - timedelta(days=8), "v1", window_days=7)
    revoked = click(C, placed - timedelta(hours=3), "v1", revoked_at=placed - timedelta(days=1))
    after = click(C, placed + timedelta(hours=1), "v1")
    o = order(placed, clicks=[carried, flagged])
    found = build([o], [], [old, revoked, flagged, carried, after], [], START, END)
    assert creators(found.conversions["USD"][0].path) == [(B, "click")]
    # What no order took up, in the period and qualifying: v1's old click and the one after the order.
    assert [creators(p) for p in found.non_converting] == [[(A, "click"), (C, "click")]]


def test_a_click_before_the_period_counts_for_an_order_in_its_window_but_alone_is_no_path():
    before = click(A, START - timedelta(days=3), "v1")
    lone = click(B, START - timedelta(days=2), "v2")
    o = order(START + timedelta(days=1), clicks=[before])
    found = build([o], [], [before, lone], [], START, END)
    assert creators(found.conversions["USD"][0].path) == [(A, "click")]
    assert found.non_converting == []


def test_a_visitors_click_goes_to_the_first_order_it_reaches():
    first = click(A, T0 + timedelta(hours=1), "v1")
    second = click(B, T0 + timedelta(hours=5), "v1")
    o1 = order(T0 + timedelta(hours=2), clicks=[first])
    o2 = order(T0 + timedelta(hours=6), clicks=[second])
    found = build([o1, o2], [], [first, second], [], START, END)
    assert [creators(c.path) for c in found.conversions["USD"]] == [[(A, "click")], [(B, "click")]]
    assert found.non_converting == []


def test_a_code_only_order_is_a_path_of_its_own_and_dead_or_foreign_codes_do_not_count():
    placed = T0 + timedelta(days=2)
    codes = [code("LIVE", A), code("GONE", B, revoked_at=placed - timedelta(days=1)),
             code("OLD", C, expires_at=placed - timedelta(hours=1))]
    live = order(placed, codes=["live"])
    dead = order(placed, codes=["GONE", "OLD", "SOMEONE-ELSES"], currency="EUR")
    found = build([live, dead], [], [], codes, START, END)
    assert creators(found.conversions["USD"][0].path) == [(A, "code")]
    assert "EUR" not in found.conversions and found.orders_without_touch == {"EUR": 1}


def test_each_currency_has_its_own_orders_and_shares_the_non_converting_paths():
    usd, eur = order(T0 + timedelta(days=1), codes=["X"]), order(T0 + timedelta(days=1), codes=["X"], currency="EUR")
    lone = click(B, T0, None)
    also = click(B, T0, None)  # no visitor hash: each click its own path
    found = build([usd, eur], [], [lone, also], [code("X", A)], START, END)
    assert sorted(found.conversions) == ["EUR", "USD"]
    assert len(found.paths("USD")) == len(found.paths("EUR")) == 3
    assert sum(1 for p in found.paths("USD") if p.converted) == 1


def test_past_the_cap_the_period_ends_at_the_first_row_left_out():
    rows = [SimpleNamespace(placed_at=T0 + timedelta(hours=h)) for h in (1, 2, 3, 3, 4)]
    assert cut(rows, 5, "placed_at", END, "orders") == (rows, END, None)
    kept, end, note = cut(rows, 3, "placed_at", END, "orders")
    # The fourth order is at 3 h, like the third: both are left out, so the period is whole.
    assert kept == rows[:2] and end == T0 + timedelta(hours=3)
    assert note.startswith("more than 3 orders: the period ends at the first one left out (2026-10-01T03:00:00+00:00)")


def test_clicks_before_the_period_past_their_cap_shorten_the_reach_not_the_period():
    # Newest first, as CLICKS_BEFORE reads them: 5 clicks in the hours before START.
    rows = [SimpleNamespace(clicked_at=START - timedelta(hours=h)) for h in (1, 2, 3, 3, 4)]
    assert cut_back(rows, 5, "clicked_at") == (rows, None)
    kept, note = cut_back(rows, 3, "clicked_at")
    # The fourth is at −3 h, like the third: both are left out, so no instant is half counted.
    assert kept == rows[:2]
    assert note == ("more than 3 clicks in the attribution windows before the period: paths reach back to "
                    f"{(START - timedelta(hours=3)).isoformat()} only (clicks at or before it are left out)")
