"""Each jurisdiction's disclosure rules on crafted captions (pure: no platform is started)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.audit.engine.disclosure.grade import Grader, PostText, UnknownJurisdiction
from services.audit.engine.disclosure.rulebook import default_rulebook

RULEBOOK = default_rulebook()
ALL = ("US", "UK", "DE", "FR", "ES")
FILLER = "Spent the morning walking the old town and trying every bakery on the way, " * 3


def grade(caption: str, *, jurisdictions=ALL, sponsors=(), paid=False, platform="instagram", **extra):
    grader = Grader(RULEBOOK, jurisdictions, sponsors)
    return grader.grade(PostText(caption=caption, paid_partnership=paid, platform=platform, **extra))


def verdicts(caption: str, **kwargs) -> dict[str, tuple[str, str, str]]:
    """{jurisdiction: (verdict, rule_id, reason)}."""
    assessment = grade(caption, **kwargs)
    assert assessment.sponsored, assessment
    return {v.jurisdiction: (v.verdict, v.rule_id, v.reason) for v in assessment.verdicts}


# --- which posts are sponsored (and only those are graded) --------------------------------------

def test_a_post_nothing_marks_as_sponsored_is_not_graded():
    assessment = grade("Sunset over the harbour #adventure #travel @friend")
    assert (assessment.sponsored, assessment.basis, assessment.verdicts, assessment.worst) == (False, (), (), None)


def test_ad_inside_other_words_and_negated_labels_do_not_make_a_post_sponsored():
    assert not grade("Bad weather, adding layers #adventure #adidasoriginals").sponsored
    assert not grade("This is not sponsored, I just love these boots @bootco").sponsored
    assert not grade("Keine Werbung, nur Liebe für Kaffee").sponsored


@pytest.mark.parametrize("caption", ["not #ad, I just love @acme - use code ANNA20",
                                     "no #ad here, use code ANNA20 for @acme", "kein #werbung, Code ANNA20 bei @acme"])
def test_a_negated_hashtag_label_does_not_disclose(caption):
    """As a negated word label ("not sponsored"): a sponsored post saying "not #ad" is undisclosed
    (an outside probe found it passed in the US, the UK and Germany)."""
    found = verdicts(caption, paid=True)
    assert all(verdict != "pass" for verdict, _, _ in found.values()), found


def test_a_full_width_label_reads_as_the_label_it_shows():
    """"#ａｄ" (full-width letters, found by an outside probe) is read as #ad, as a reader reads it."""
    plain, wide = verdicts("#ad Loving @acme - code ANNA20", paid=True), verdicts("#ａｄ Loving @acme - code ANNA20", paid=True)
    # the same verdict and rule everywhere; the explanation quotes the label as written
    assert {j: v[:2] for j, v in wide.items()} == {j: v[:2] for j, v in plain.items()}
    assert wide["US"][0] == "pass" and "'#ａｄ'" in wide["US"][2]


def test_thanks_to_a_brand_alone_is_not_evidence_of_sponsorship():
    assert not grade("thanks @mum for the birthday cake").sponsored


@pytest.mark.parametrize(("post", "basis"), [
    (dict(caption="Morning run", paid=True), "the platform's paid-partnership label"),
    (dict(caption="Morning run", sponsored=True), "marked sponsored by the data source"),
    (dict(caption="Morning run with @acmeshoes", sponsors=("Acme Shoes",)), "names the sponsor '@acmeshoes'"),
    (dict(caption="Morning run #AcmeShoes", sponsors=("@acmeshoes",)), "names the sponsor '#AcmeShoes'"),
    (dict(caption="Morning run in my CAFÉ NOIR hoodie", sponsors=("Café Noir",)), "names the sponsor 'CAFÉ NOIR'"),
    (dict(caption="Morning run, use code RUN15 at checkout"), "the discount code 'RUN15' (character 23)"),
    (dict(caption="My shoes: https://amzn.to/3xYz"), "the affiliate link 'https://amzn.to/3xYz'"),
    (dict(caption="Shoes from @acmeshoes, link in bio"), "a link together with @acmeshoes"),
    (dict(caption="So happy with my #gifted trainers"), "gifted wording '#gifted'"),
    (dict(caption="Loving these trainers #spon"), "the wording '#spon'"),
])
def test_what_makes_a_post_sponsored(post, basis):
    post = dict(post)
    assessment = grade(post.pop("caption"), sponsors=post.pop("sponsors", ()), paid=post.pop("paid", False), **post)
    assert assessment.sponsored and assessment.basis[0] == basis
    assert [v.jurisdiction for v in assessment.verdicts] == list(ALL)


def test_a_lower_case_word_after_code_is_not_a_discount_code():
    assert not grade("the code is easy to learn, promise").sponsored
    assert grade("promo code summer for my readers").basis[0] == "the discount code 'summer' (character 12)"


# --- United States (FTC) ------------------------------------------------------------------------

@pytest.mark.parametrize("caption", ["#ad New trainers from @acme", "Ad: new trainers from @acme",
                                     "#Sponsored new trainers from @acme", "ADVERTISEMENT | new trainers @acme"])
def test_us_accepts_clear_labels_up_front(caption):
    verdict, rule, reason = verdicts(caption)["US"]
    assert (verdict, rule) == ("pass", "us.accepted-label")
    assert "character 1" in reason and "125 characters on Instagram" in reason


@pytest.mark.parametrize("label", ["#sp", "#spon", "#collab", "#partner"])
def test_us_refuses_ambiguous_hashtags(label):
    verdict, rule, reason = verdicts(f"New trainers from @acme {label}")["US"]
    assert (verdict, rule) == ("fail", "us.insufficient-label")
    assert reason.startswith(f"'{label}' (character 25)")


def test_us_thanks_to_the_brand_alone_fails_when_the_post_is_paid():
    verdict, rule, _ = verdicts("thanks @acme for these!", paid=True)["US"]
    assert (verdict, rule) == ("fail", "us.thanks-only")


def test_us_ad_in_the_middle_of_a_sentence_is_no_label():
    verdict, rule, reason = verdicts("I saw the ad and bought them, use code ANNA20")["US"]
    assert (verdict, rule) == ("fail", "us.affiliate-undisclosed")
    assert "'ANNA20' (character 40)" in reason


def test_us_a_label_after_the_fold_fails_with_its_position():
    caption = FILLER + "#ad"
    verdict, rule, reason = verdicts(caption)["US"]
    assert (verdict, rule) == ("fail", "us.after-fold")
    assert f"character {len(FILLER) + 1}" in reason and "125-character fold on Instagram" in reason


def test_the_fold_is_the_platforms():
    caption = "x" * 104 + " #ad and more words"  # the label ends at character 108
    assert verdicts(caption, platform="instagram")["US"][0] == "pass"
    assert verdicts(caption, platform="tiktok")["US"][:2] == ("fail", "us.after-fold")


def test_us_a_label_buried_in_trailing_hashtags_fails_with_the_count_before_it():
    tags = " ".join(f"#tag{i}" for i in range(14))
    verdict, rule, reason = verdicts(f"New trainers @acme {tags} #ad")["US"]
    assert (verdict, rule) == ("fail", "us.buried-in-hashtags")
    assert "after 14 other hashtags in a group of 15 at the end of the caption" in reason


def test_a_label_leading_a_short_trailing_group_passes():
    assert verdicts("New trainers @acme #ad #run #shoes")["US"][0] == "pass"


def test_a_well_placed_label_wins_over_a_buried_repeat():
    tags = " ".join(f"#tag{i}" for i in range(6))
    assert verdicts(f"#ad New trainers @acme {tags} #ad")["US"][:2] == ("pass", "us.accepted-label")


def test_us_the_paid_partnership_label_alone_needs_review():
    verdict, rule, reason = verdicts("Morning run in the new kit", paid=True)["US"]
    assert (verdict, rule) == ("needs_review", "us.platform-label-only")
    assert "paid-partnership label" in reason


def test_us_the_paid_partnership_label_with_a_caption_label_passes():
    assert verdicts("#ad Morning run in the new kit", paid=True)["US"][0] == "pass"


def test_us_affiliate_code_without_disclosure_fails():
    verdict, rule, reason = verdicts("Love this serum! Use code GLOW20 for 20% off")["US"]
    assert (verdict, rule) == ("fail", "us.affiliate-undisclosed")
    assert reason.startswith("The discount code 'GLOW20' (character 27) with no disclosure")


def test_us_affiliate_link_with_a_label_passes():
    assert verdicts("#ad my serum https://amzn.to/3xYz")["US"][0] == "pass"


def test_us_gifted_wording_needs_review_but_uk_fails_it():
    result = verdicts("PR package from @glossier, thank you! #gifted")
    assert result["US"][:2] == ("needs_review", "us.gifted-wording")
    assert result["UK"][:2] == ("fail", "uk.gifted")
    assert "gifted products count as payment" in result["UK"][2]


def test_no_label_at_all_fails_naming_the_evidence():
    verdict, rule, reason = verdicts("Morning coffee at Acme", sponsors=("Acme",))["US"]
    assert (verdict, rule) == ("fail", "us.missing")
    assert reason == "Sponsored (names the sponsor 'Acme') but no disclosure in the caption."


# --- United Kingdom (ASA/CAP, CMA) --------------------------------------------------------------

@pytest.mark.parametrize("caption", ["#ad trainers @acme", "Ad: trainers @acme", "Advert - trainers @acme",
                                     "Advertisement feature: trainers @acme", "#Advertising trainers @acme"])
def test_uk_accepted_labels(caption):
    assert verdicts(caption)["UK"][:2] == ("pass", "uk.accepted-label")


@pytest.mark.parametrize("caption", ["#sponsored trainers @acme", "In partnership with @acme: trainers",
                                     "Brand ambassador for @acme", "#collab trainers @acme",
                                     "Sponsored by @acme"])
def test_uk_refuses_sponsored_partnership_collab_and_ambassador(caption):
    assert verdicts(caption)["UK"][:2] == ("fail", "uk.insufficient-label")


def test_us_accepts_sponsored_where_uk_does_not():
    result = verdicts("#sponsored trainers @acme")
    assert result["US"][0] == "pass" and result["UK"][0] == "fail"


@pytest.mark.parametrize("label", ["#aff", "#affiliate", "affiliate link"])
def test_uk_affiliate_content_is_always_an_ad_and_affiliate_is_no_label(label):
    verdict, rule, reason = verdicts(f"My favourite mascara {label} https://shop.example/x")["UK"]
    assert (verdict, rule) == ("fail", "uk.affiliate-label")
    assert "affiliate content is always an ad" in reason


def test_uk_a_brand_tag_and_thanks_alone_fail_on_a_paid_post():
    assert verdicts("thanks to @acme for the trip", paid=True)["UK"][:2] == ("fail", "uk.weak-wording")


def test_uk_label_only_needs_review():
    assert verdicts("Trip to the lakes", paid=True)["UK"][:2] == ("needs_review", "uk.platform-label-only")


def test_uk_ad_buried_after_hashtags_fails():
    tags = " ".join(f"#t{i}" for i in range(5))
    verdict, rule, reason = verdicts(f"Trip to the lakes @acme {tags} #ad")["UK"]
    assert (verdict, rule) == ("fail", "uk.buried-in-hashtags") and "after 5 other hashtags" in reason


# --- Germany, France, Spain ---------------------------------------------------------------------

@pytest.mark.parametrize("caption", ["#werbung Neue Schuhe von @acme", "Werbung: neue Schuhe von @acme",
                                     "ANZEIGE | neue Schuhe von @acme", "#Anzeige neue Schuhe @acme"])
def test_de_labels_in_any_case(caption):
    assert verdicts(caption)["DE"][:2] == ("pass", "de.accepted-label")


def test_de_word_boundaries_werbungskosten_is_no_label():
    verdict, rule, _ = verdicts("Werbungskosten absetzen mit @acme, code STEUER10")["DE"]
    assert (verdict, rule) == ("fail", "de.affiliate-undisclosed")


def test_de_english_ad_needs_review_fr_fails_it_es_needs_review():
    result = verdicts("#ad nouvelles chaussures @acme")
    assert result["DE"][:2] == ("needs_review", "de.english-label")
    assert result["FR"][:2] == ("fail", "fr.other-label")
    assert result["ES"][:2] == ("needs_review", "es.other-label")


@pytest.mark.parametrize("caption", ["PUBLICITÉ — mes nouvelles chaussures @acme", "Publicité : chaussures @acme",
                                     "publicite chaussures @acme", "#publicité chaussures @acme",
                                     "Collaboration commerciale avec @acme", "COLLABORATION COMMERCIALE @acme"])
def test_fr_labels_with_or_without_accents_in_any_case(caption):
    assert verdicts(caption)["FR"][:2] == ("pass", "fr.accepted-label")


def test_fr_partenariat_is_not_one_of_the_two_mentions():
    verdict, rule, reason = verdicts("En partenariat avec @acme, mes chaussures")["FR"]
    assert (verdict, rule) == ("fail", "fr.other-label") and "« Publicité »" in reason


@pytest.mark.parametrize("caption", ["#publi zapatillas nuevas @acme", "PUBLICIDAD: zapatillas @acme",
                                     "Publicidad | zapatillas @acme", "#Publicidad zapatillas @acme"])
def test_es_labels(caption):
    assert verdicts(caption)["ES"][:2] == ("pass", "es.accepted-label")


def test_es_en_colaboracion_with_or_without_accent_needs_review():
    for caption in ("En colaboración con @acme", "en colaboracion con @acme"):
        assert verdicts(caption, paid=True)["ES"][:2] == ("needs_review", "es.other-label")


def test_a_label_of_one_country_is_no_label_in_another():
    result = verdicts("Werbung: neue Schuhe von @acme")
    assert result["DE"][0] == "pass"
    assert result["US"][:2] == ("fail", "us.missing") and result["FR"][:2] == ("fail", "fr.missing")


# --- the verdict carries its rule and source ----------------------------------------------------

def test_each_verdict_cites_its_rule_source_section_and_version():
    assessment = grade("New trainers @acme #spon", jurisdictions=("US",))
    (verdict,) = assessment.verdicts
    rule = next(r for r in RULEBOOK.sets["US"].rules if r.id == verdict.rule_id)
    assert verdict.source == f"{rule.source.title} ({rule.source.publisher}, {rule.source.year}), {rule.section}"
    assert verdict.source_url == rule.source.url and verdict.version == RULEBOOK.sets["US"].version


def test_the_post_verdict_is_its_worst():
    assessment = grade("#ad trainers @acme", jurisdictions=("US", "DE", "FR"))
    assert [v.verdict for v in assessment.verdicts] == ["pass", "needs_review", "fail"]
    assert assessment.worst == "fail"


def test_an_unknown_jurisdiction_is_refused_by_name():
    with pytest.raises(UnknownJurisdiction, match="'XX'"):
        Grader(RULEBOOK, ("US", "XX"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("adAD#@ sponrcWEbungé:%0123456789.-/\nxyz")), max_size=300),
       st.booleans())
def test_any_caption_is_graded_without_error_and_positions_lie_in_the_caption(caption, paid):
    assessment = grade(caption, paid=paid)
    assert assessment.sponsored == bool(assessment.verdicts)
    for verdict in assessment.verdicts:
        assert verdict.verdict in ("pass", "fail", "needs_review") and verdict.reason
    scan = Grader(RULEBOOK, ALL).scanner.scan(caption)
    for occurrence in scan.occurrences:
        assert 0 <= occurrence.start < occurrence.end <= len(caption)
        assert caption[occurrence.start:occurrence.end] == occurrence.label
