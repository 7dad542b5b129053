"""How another workspace's sponsor names are hidden in an audit's signals (audit/audit/privacy.py):
matched as the disclosure grader matches them — any case, accents off, whole words, @ and #
forms — and nothing else touched: not the words they hide in, not ids."""

import uuid
from types import SimpleNamespace

from services.audit.audit.privacy import REDACTED, as_seen_by, hidden_from, scrub

X = REDACTED


def test_a_name_is_replaced_as_a_whole_word_in_any_case_and_form():
    assert scrub("during spring, Ring! #ring @RING", ("Ring",)) == f"during spring, {X}! {X} {X}"
    assert scrub("Acme Coffee, @acmecoffee, acme  coffee", ("Acme Coffee",)) == f"{X}, {X}, {X}"


def test_accents_do_not_let_a_name_through():
    assert scrub("names the sponsor '#Nestlé'", ("Nestle",)) == f"names the sponsor '{X}'"
    assert scrub("a Nestle bar", ("Nestlé",)) == f"a {X} bar"


def test_ids_and_the_words_a_name_hides_in_are_left_alone():
    post = str(uuid.UUID("aaaaaaaa-cafe-4aaa-8aaa-aaaaaaaaaaaa"))
    found = scrub({"post_id": post, "external_id": "cafe", "reason": "cafe and cafeteria", "sponsors": ["Cafe"]},
                  ("Cafe",))
    assert found == {"post_id": post, "external_id": "cafe", "reason": f"{X} and cafeteria", "sponsors": []}


def test_a_sponsor_with_no_words_hides_nothing_and_breaks_nothing():
    audit = SimpleNamespace(sponsors=["@", "#", "  "], requested_by=uuid.uuid4())
    assert hidden_from(audit, uuid.uuid4()) == ()
    assert as_seen_by(audit, uuid.uuid4()) is audit


def test_only_the_workspace_that_named_them_sees_them():
    owner = uuid.uuid4()
    audit = SimpleNamespace(sponsors=["Acme"], requested_by=owner, signals=[{"evidence": ["names Acme"]}])
    assert as_seen_by(audit, owner) is audit
    seen = as_seen_by(audit, uuid.uuid4())
    assert seen.sponsors == [] and seen.signals == [{"evidence": [f"names {X}"]}]
    assert as_seen_by(audit, None).sponsors == []
