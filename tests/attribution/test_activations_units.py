"""The activations' pure parts: the CSV reader (line numbers, per-row reasons, the header), the
deliverables count (due order, never counted twice, overdue), and the media metrics (EMV from a
rate card, CPM/CPE/cost per view, a reason instead of a figure without a denominator or across
currencies)."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.attribution.activations import csvfile, deliverables
from services.attribution.media import metrics
from services.attribution.ratecards import service as ratecards
from services.attribution.ratecards.schemas import RateCardCreate, RateCardRef, rates_of
from shared.contracts.types import Platform
from shared.errors import Invalid

CREATOR = "0b5e3d4c-2f6a-4e8b-9c1d-7a2b3c4d5e6f"
HEADER = "creator_id,platform,format,url,posted_at,observed_at,impressions,likes"
REF = RateCardRef(id="t", version=3, currency="EUR", source="test")


def test_csv_rows_are_read_and_a_bad_row_names_its_line_and_column():
    text = "\n".join([
        HEADER,
        f"{CREATOR},instagram,reel,https://instagram.example/p/1,2027-03-01T10:00:00Z,2027-03-02T10:00:00Z,1000,50",
        f"{CREATOR},instagram,video,https://instagram.example/p/2,2027-03-01T10:00:00Z,,,",
        f"{CREATOR},tiktok,video,https://tiktok.example/v/3,2027-03-01T10:00:00Z,2027-03-02T10:00:00Z,-5,1",
        f"{CREATOR},tiktok,video,ftp://tiktok.example/v/4,2027-03-01T10:00:00Z,,,",
        f"{CREATOR},tiktok,video,https://tiktok.example/v/5,2027-03-01T10:00:00Z,,,",
        "",
    ]).encode()
    rows, errors = csvfile.parse(text)
    assert [r.line for r in rows] == [2, 6]
    assert rows[0].snapshot.impressions == 1000 and rows[0].snapshot.likes == 50 and rows[0].snapshot.views is None
    assert rows[1].snapshot is None
    assert [(e.line, e.field) for e in errors] == [(3, "format"), (4, "impressions"), (5, "url")]
    assert "instagram has no video" in errors[0].reason


def test_figures_without_an_observed_at_are_refused():
    _, errors = csvfile.parse(f"{HEADER}\n{CREATOR},tiktok,video,https://t.example/1,2027-03-01T10:00:00Z,,5,\n".encode())
    assert [(e.line, e.field) for e in errors] == [(2, "observed_at")]


@pytest.mark.parametrize(("header", "reason"), [
    ("creator_id,platform,format,url", "missing column 'posted_at'"),
    ("creator_id,platform,format,url,posted_at,clicks", "unknown column 'clicks'"),
    ("", "missing column"),
])
def test_a_wrong_header_reads_no_row_and_says_why_at_line_1(header, reason):
    rows, [error] = csvfile.parse(f"{header}\n{CREATOR},tiktok,video,https://t.example/1,2027-03-01T10:00:00Z\n".encode())
    assert rows == [] and (error.line, error.field) == (1, "header") and reason in error.reason


def test_a_file_that_is_not_utf8_reads_no_row_and_names_the_line_of_the_bad_byte():
    rows, [error] = csvfile.parse(f"{HEADER}\n".encode() + b"\xff\xfe,x\n")
    assert rows == [] and error.line == 2 and "not UTF-8" in error.reason


def test_an_empty_body_is_refused_naming_it():
    with pytest.raises(Invalid) as raised:
        csvfile.parse(b"")
    assert raised.value.detail[0]["field"] == "body"


def test_deliverables_fill_in_due_order_and_count_each_post_once():
    deliverables_ = [
        {"platform": "instagram", "format": "reel", "count": 2, "due_on": "2027-03-20"},
        {"platform": "instagram", "format": "reel", "count": 1, "due_on": "2027-03-10"},
        {"platform": "tiktok", "format": "video", "count": 1, "due_on": "2027-03-05"},
    ]
    posts = [("instagram", "reel"), ("instagram", "reel"), ("instagram", "story")]
    counted = deliverables.count(uuid.uuid4(), deliverables_, posts, today=date(2027, 3, 15))
    assert [(d.due_on.isoformat(), d.delivered, d.overdue) for d in counted.deliverables] == [
        ("2027-03-05", 0, True), ("2027-03-10", 1, False), ("2027-03-20", 1, False)]
    assert (counted.required, counted.delivered, counted.overdue, counted.unmatched_activations) == (4, 2, 1, 1)


@given(st.lists(st.sampled_from([("instagram", "reel"), ("tiktok", "video")]), max_size=20),
       st.lists(st.tuples(st.sampled_from([("instagram", "reel"), ("tiktok", "video")]), st.integers(1, 5)), max_size=5))
def test_delivered_plus_unmatched_is_every_post(posts, wanted):
    items = [{"platform": p, "format": f, "count": n, "due_on": "2027-03-01"} for (p, f), n in wanted]
    counted = deliverables.count(uuid.uuid4(), items, posts, today=date(2027, 1, 1))
    assert counted.delivered + counted.unmatched_activations == len(posts)
    assert all(d.delivered <= d.count for d in counted.deliverables)


def test_emv_is_each_figure_times_its_rate_rounded_per_activation():
    rates = {"instagram": {"impression": Decimal("0.6"), "like": Decimal("8")}}
    post = metrics.Post("instagram", {"impressions": 1001, "likes": 3, "comments": 2, "views": None})
    # 1001 x 0.6 + 3 x 8 = 624.6 -> 625; comments reported but unpriced.
    assert metrics.emv_of(post, rates) == (625, ["instagram.comment"])
    assert metrics.emv_of(metrics.Post("instagram", None), rates) == (0, [])
    total = metrics.emv([post, post], rates, REF)
    assert (total.amount, total.currency, total.rate_card.version) == (1250, "EUR", 3)


def test_ratios_divide_the_cost_and_say_why_when_they_cannot():
    cost = metrics.money(150_000, "EUR")
    assert metrics.per(cost, 120_000, "impressions", 1000).value == "1250.00"
    assert metrics.per(cost, 7, "engagements").value == "21428.57"
    nothing = metrics.per(cost, 0, "views")
    assert nothing.value is None and "no views" in nothing.reason
    unsplit = metrics.per(metrics.null("not split"), 10, "views")
    assert unsplit.value is None and unsplit.reason == "not split"


def test_emv_to_cost_is_null_across_currencies():
    usd = metrics.Emv(amount=500, currency="USD", rate_card=REF.model_copy(update={"currency": "USD"}), unpriced=[])
    ratio = metrics.emv_to_cost(usd, metrics.money(1000, "EUR"))
    assert ratio.value is None and "different currencies" in ratio.reason
    eur = metrics.Emv(amount=500, currency="EUR", rate_card=REF, unpriced=[])
    assert metrics.emv_to_cost(eur, metrics.money(1000, "EUR")).value == "0.5000"
    assert metrics.emv_to_cost(eur, metrics.money(0, "EUR")).reason == "the cost is 0"


def test_figures_count_missing_figures_instead_of_zeros():
    posts = [metrics.Post("x", {"impressions": 10, "views": None, "likes": 1, "shares": 2}),
             metrics.Post("x", {"impressions": None, "views": 5}), metrics.Post("x", None)]
    found = metrics.figures(posts)
    assert (found.activations, found.with_snapshot, found.impressions, found.views, found.engagements) == (3, 2, 10, 5, 3)
    assert found.missing == {"impressions": 1, "views": 1, "engagements": 1}


def test_the_built_in_rate_card_prices_every_platform_and_states_its_source():
    card = ratecards.default()
    assert card.builtin and card.currency == "USD" and "assumptions" in card.source
    assert any("contested" in line for line in card.assumptions)
    assert set(rates_of(card)) == {p.value for p in Platform}


@pytest.mark.parametrize("rate", ["-1", "abc", "0.1234567", 5, "NaN"])
def test_a_rate_card_refuses_rates_that_are_not_decimal_text_in_range(rate):
    with pytest.raises(ValueError):
        RateCardCreate.model_validate({"currency": "EUR", "source": "s", "rates": {"instagram": {"like": rate}}})


@pytest.mark.parametrize("figure", ["²", "1" * 5000, "١٢"])
def test_a_figure_that_is_not_plain_digits_names_its_column(figure):
    rows, errors = csvfile.parse(
        f"{HEADER}\n{CREATOR},tiktok,video,https://t.example/1,2027-03-01T10:00:00Z,2027-03-02T10:00:00Z,{figure},\n".encode())
    assert rows == [] and [(e.line, e.field) for e in errors] == [(2, "impressions")]
