"""The rule files as loaded (a broken file is named with its field) and the audit's disclosure
signal (pure: no platform is started)."""

import dataclasses
import shutil
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.audit.engine.audit import compute
from services.audit.engine.disclosure.rulebook import RULES_DIR, RuleFileError, default_rulebook, load_rulebook
from services.audit.engine.scoring import WEIGHTS
from services.audit.engine.signals.disclosure import disclosure_signal, jurisdictions_for
from services.audit.engine.types import Post, Profile
from tests.audit.follower_double import RulesFollowerModel
from tests.audit.signal_inputs import clean_inputs

RULEBOOK = default_rulebook()
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
DETAIL_KEYS = {"jurisdictions", "rule_versions", "sponsored_posts", "passed", "failed", "needs_review",
               "compliance_rate", "posts"}
ROW_KEYS = {"post_id", "external_id", "posted_at", "jurisdiction", "verdict", "reason", "rule_id", "source",
            "caption_excerpt"}


# --- rule files ----------------------------------------------------------------------------------

def test_the_shipped_rule_sets_load_with_their_versions_and_sources():
    assert set(RULEBOOK.sets) == {"US", "UK", "DE", "FR", "ES"}
    assert RULEBOOK.versions["US"] == "us-ftc-2026-11" and RULEBOOK.versions["UK"] == "uk-asa-2026-11"
    for rule_set in RULEBOOK.sets.values():
        assert rule_set.sources and all(s.url.startswith("https://") for s in rule_set.sources)
        for rule in rule_set.rules:
            assert rule.source in rule_set.sources and rule.section and rule.reason
    assert RULEBOOK.for_country("gb") == "UK" and RULEBOOK.for_country("DE") == "DE"
    assert RULEBOOK.for_country("JP") is None
    assert RULEBOOK.common.fold("instagram") == 125 and RULEBOOK.common.fold("unknown") == 125


def _broken(tmp_path, file: str, old: str, new: str):
    directory = tmp_path / "rules"
    shutil.copytree(RULES_DIR, directory)
    path = directory / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return directory


@pytest.mark.parametrize(("file", "old", "new", "field", "reason"), [
    ("us-ftc.yaml", "verdict: pass", "verdict: ok", "rules[0].verdict", "must be one of pass, fail, needs_review"),
    ("uk-asa.yaml", "source: influencers-guide", "source: nowhere", "rules[0].source", "names no source"),
    ("de.yaml", "check: after_fold", "check: somewhere", "rules[2].check", "must be one of"),
    ("fr.yaml", "year: 2023", "year: soon", "sources[0].year", "must be a whole number"),
    ("es.yaml", "{label} at character {position}", "{label} at {place}", "rules[0].reason", "unknown placeholder"),
    ("us-ftc.yaml", "jurisdiction: US", "jurisdiction: us", "jurisdiction", "upper-case code"),
    ("us-ftc.yaml", "countries: [US]", "countries: [DE]", "countries", "DE is already covered by de.yaml"),
    ("common.yaml", "default_fold: 125", "default_fold: -1", "default_fold", "whole number from 1"),
    ("us-ftc.yaml", "    min_before: 2\n", "    min_before: 2\n    colour: red\n", "rules[1].colour", "not a rule field"),
])
def test_a_broken_rule_file_is_refused_naming_the_file_and_field(tmp_path, file, old, new, field, reason):
    with pytest.raises(RuleFileError) as caught:
        load_rulebook(_broken(tmp_path, file, old, new))
    assert (caught.value.file, caught.value.field) == (file, field)
    assert reason in caught.value.reason and str(caught.value).startswith(f"{file}: {field}: ")


def test_a_rule_file_that_is_not_yaml_is_refused_by_name(tmp_path):
    directory = _broken(tmp_path, "de.yaml", "rules:", "rules: [")
    with pytest.raises(RuleFileError, match=r"^de\.yaml: \(file\): is not valid YAML"):
        load_rulebook(directory)


def test_a_changed_rule_file_changes_the_verdict(tmp_path):
    # What a compliance person does: move '#sponsored' from accepted to not enough for the US.
    directory = _broken(tmp_path, "us-ftc.yaml", '"#sponsored", ', "")
    path = directory / "us-ftc.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('["#sp", "#spon"', '["#sp", "#sponsored", "#spon"'),
                    encoding="utf-8")
    changed = load_rulebook(directory)
    post = Post(post_id=uuid.uuid4(), posted_at=T0, type="photo", caption="#sponsored trainers @acme")
    before = disclosure_signal(profile(), [post], jurisdictions=["US"], rulebook=RULEBOOK)
    after = disclosure_signal(profile(), [post], jurisdictions=["US"], rulebook=changed)
    assert before.details["posts"][0]["rule_id"] == "us.accepted-label"
    assert after.details["posts"][0]["rule_id"] == "us.insufficient-label"


# --- the signal ----------------------------------------------------------------------------------

def profile(country: str | None = None) -> Profile:
    return Profile(creator_id=uuid.uuid4(), platform="instagram", handle="me", followers=10_000, country=country)


def post(i: int, caption: str, *, paid: bool = False) -> Post:
    return Post(post_id=uuid.UUID(int=i + 1), posted_at=T0 - timedelta(days=i), type="photo", caption=caption,
                paid_partnership=paid, external_id=f"p{i}")


def test_no_sponsored_post_is_insufficient_data_not_a_perfect_score():
    signal = disclosure_signal(profile(), [post(0, "sunset"), post(1, "breakfast #food")])
    assert (signal.status, signal.score, signal.missing) == ("insufficient_data", None, ("sponsored posts",))
    assert DETAIL_KEYS <= set(signal.details) and signal.details["sponsored_posts"] == 0
    assert signal.details["compliance_rate"] is None and signal.details["posts"] == []
    assert "none of the 2 posts read is sponsored" in signal.evidence[0]


def test_the_rate_is_the_share_of_sponsored_posts_passing_everywhere_review_counted_as_not_passed():
    posts = [
        post(0, "#ad new trainers @acme"),  # passes US and UK
        post(1, "Morning run", paid=True),  # label only: needs review
        post(2, "new trainers @acme #spon"),  # fails
        post(3, "#sponsored new trainers @acme"),  # passes US, fails UK
        post(4, "sunset"),  # not sponsored: not graded
    ]
    signal = disclosure_signal(profile(), posts)
    d = signal.details
    assert (d["sponsored_posts"], d["passed"], d["failed"], d["needs_review"]) == (4, 1, 2, 1)
    assert d["compliance_rate"] == 0.25 and signal.score == 25.0
    assert d["jurisdictions"] == ["US", "UK"] and d["rule_versions"] == {"US": "us-ftc-2026-11", "UK": "uk-asa-2026-11"}
    assert len(d["posts"]) == 8 and all(set(row) >= ROW_KEYS for row in d["posts"])
    assert "p4" not in {row["external_id"] for row in d["posts"]}
    assert d["by_jurisdiction"]["US"] == {"passed": 2, "failed": 1, "needs_review": 1, "compliance_rate": 0.5}
    assert signal.flags == ("disclosure_failures", "disclosure_needs_review")
    assert signal.evidence[0].startswith("1 of 4 sponsored posts (25.0 %) are disclosed well enough")
    assert "if all 1 pass on review the rate is 50.0 %" in signal.evidence[1]
    # The worst offences name the post, the jurisdiction, the reason, the rule and its source.
    assert signal.evidence[2].startswith("Post p2 of 2026-10-30, US: '#spon' (character 20) is not a clear disclosure")
    assert "(rule us.insufficient-label; Disclosures 101 for Social Media Influencers" in signal.evidence[2]


def test_the_creators_country_adds_its_rule_set_and_a_request_replaces_the_default():
    assert jurisdictions_for(RULEBOOK, "DE", None) == ("US", "UK", "DE")
    assert jurisdictions_for(RULEBOOK, "GB", None) == ("US", "UK")
    assert jurisdictions_for(RULEBOOK, None, None) == ("US", "UK")
    assert jurisdictions_for(RULEBOOK, "DE", ["FR", "FR", "ES"]) == ("FR", "ES")
    signal = disclosure_signal(profile("DE"), [post(0, "Werbung: neue Schuhe @acme")])
    assert [row["jurisdiction"] for row in signal.details["posts"]] == ["US", "UK", "DE"]
    assert [row["verdict"] for row in signal.details["posts"]] == ["fail", "fail", "pass"]


def test_named_sponsors_make_their_posts_sponsored():
    posts = [post(0, "coffee with @acmecoffee"), post(1, "coffee at home")]
    assert disclosure_signal(profile(), posts).status == "insufficient_data"
    signal = disclosure_signal(profile(), posts, sponsors=["Acme Coffee"])
    assert signal.details["sponsored_posts"] == 1 and signal.details["failed"] == 1


def test_disclosure_is_shown_but_does_not_move_the_authenticity_total():
    model = RulesFollowerModel()
    clean = clean_inputs()
    undisclosed = dataclasses.replace(clean, posts=tuple(
        dataclasses.replace(p, caption="new trainers from @acme, use code SAVE20") for p in clean.posts))
    before, after = compute(clean, model), compute(undisclosed, model)
    disclosure = next(s for s in after.signals if s.name == "disclosure")
    assert disclosure.status == "judged" and disclosure.score == 0.0 and disclosure.weight == WEIGHTS["disclosure"] == 0
    assert "disclosure_failures" in after.flags
    assert (after.score, after.grade, after.confidence) == (before.score, before.grade, before.confidence)
    assert after.versions["disclosure.US"] == "us-ftc-2026-11"


def test_jurisdictions_whose_rule_file_was_removed_are_left_out_and_said():
    posts = [post(0, "#ad trainers @acme")]
    signal = disclosure_signal(profile(), posts, jurisdictions=["US", "IT"])
    assert signal.details["jurisdictions"] == ["US"] and signal.status == "judged"
    assert signal.evidence[-1] == "No rule set any more for IT: not graded there."
    nothing = disclosure_signal(profile(), posts, jurisdictions=["IT"])
    assert (nothing.status, nothing.missing) == ("insufficient_data", ("rule sets",))
