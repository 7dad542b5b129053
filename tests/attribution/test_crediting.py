"""Crediting an order: which touch wins under each policy, and every candidate's reason in words."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.attribution.crediting.credit import Credit, Policy, Touch, credit

PLACED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def code(creator: str, label: str, position: int = 0, **kw) -> Touch:
    return Touch("code", creator, creator, "c1", PLACED, label, position=position, **kw)


def click(creator: str, days: float, label: str = "lnk", **kw) -> Touch:
    return Touch("click", creator, creator, "c1", PLACED - timedelta(days=days), label, **kw)


def test_a_code_beats_a_link_by_default_and_the_explanation_says_so():
    result = credit(PLACED, [click("@leo", 3), code("@maya", "MAYA15")])
    assert result.winner.creator == "@maya"
    assert result.explanation == ("credited to @maya: code MAYA15 used at checkout; a click on link lnk 3 days earlier "
                                  "by @leo was not credited because codes take precedence.")


def test_links_can_take_precedence_and_recency_lets_the_model_decide():
    touches = [click("@leo", 3), code("@maya", "MAYA15")]
    assert credit(PLACED, touches, Policy(precedence="link")).winner.creator == "@leo"
    assert credit(PLACED, touches, Policy(precedence="recency")).winner.creator == "@maya"  # the code is at checkout
    assert credit(PLACED, touches, Policy(precedence="recency", model="first_touch")).winner.creator == "@leo"


def test_last_and_first_touch_among_clicks():
    touches = [click("@ann", 10, "a"), click("@bob", 2, "b"), click("@cy", 5, "c")]
    assert credit(PLACED, touches).winner.creator == "@bob"
    assert credit(PLACED, touches, Policy(model="first_touch")).winner.creator == "@ann"
    why = {v.touch.creator: v.why for v in credit(PLACED, touches).verdicts}
    assert why["@ann"] == "a click on link a 10 days earlier by @ann was not credited: @bob's click was later (last touch)"


def test_touches_that_do_not_qualify_say_why_and_an_order_can_be_unattributed():
    touches = [
        click("@old", 31),  # outside the default 30-day window
        click("@bot", 1, flagged="a link-preview fetcher (Slackbot)"),
        code("@gone", "GONE10", dead="revoked on 2026-11-02"),
        Touch("click", "@late", "@late", "c1", PLACED + timedelta(hours=1), "l"),
        click("@short", 8, window_days=7),
    ]
    result = credit(PLACED, touches)
    assert result.winner is None and not result.attributed
    text = result.explanation
    assert text.startswith("unattributed: no touch qualified; ")
    assert "outside the link's 30-day window" in text and "a link-preview fetcher (Slackbot) is never credited" in text
    assert "it was not live: revoked on 2026-11-02" in text and "it came after the order" in text
    assert "outside the link's 7-day window" in text
    assert Credit(None).explanation.startswith("unattributed: the order carried no affiliate code")


def test_a_tie_goes_to_the_first_code_typed():
    result = credit(PLACED, [code("@a", "AAA", position=0), code("@b", "BBB", position=1)])
    assert result.winner.creator == "@a"


touch_strategy = st.builds(
    Touch, kind=st.sampled_from(["code", "click"]), creator_id=st.sampled_from(["a", "b", "c"]),
    creator=st.sampled_from(["@a", "@b", "@c"]), campaign_id=st.just("c1"),
    at=st.integers(-40 * 24, 2).map(lambda h: PLACED + timedelta(hours=h)), label=st.sampled_from(["X", "Y"]),
    window_days=st.sampled_from([7, 30]), flagged=st.sampled_from([None, None, "a bot"]),
    dead=st.sampled_from([None, None, "expired"]), position=st.integers(0, 3))


@settings(max_examples=300, deadline=None)
@given(st.lists(touch_strategy, max_size=6), st.sampled_from(["code", "link", "recency"]),
       st.sampled_from(["last_touch", "first_touch"]))
def test_exactly_one_verdict_per_touch_and_at_most_one_credited(touches, precedence, model):
    result = credit(PLACED, touches, Policy(precedence=precedence, model=model))
    assert len(result.verdicts) == len(touches)
    credited = [v for v in result.verdicts if v.credited]
    assert len(credited) == (1 if result.winner else 0)
    if result.winner:
        w = result.winner
        assert not w.flagged and not w.dead and w.at <= PLACED
        assert w.kind == "code" or PLACED - w.at <= timedelta(days=w.window_days)
    # The same touches in the same order always give the same answer.
    assert credit(PLACED, touches, Policy(precedence=precedence, model=model)) == result
