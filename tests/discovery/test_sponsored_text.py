"""Whether a post counts as sponsored in the index: the paid-partnership label, or a disclosure
tag that no negation right before it takes back (as the audit's disclosure scan reads labels)."""

from services.discovery.creator.text import hashtags, is_sponsored


def test_a_disclosure_tag_right_after_a_negation_does_not_make_a_post_sponsored():
    def judged(caption: str, paid: bool = False) -> bool:
        return is_sponsored(paid, hashtags(caption), caption)

    assert judged("New shoes #ad") and judged("#Werbung für @brand")
    assert not judged("Not #ad, I just love @brand") and not judged("kein #Werbung, selbst gekauft")
    assert not judged("this is no-#ad") and not judged("NOT #AD")
    # one plain disclosure is enough, whatever else the caption says
    assert judged("not #ad... ok it is #ad") and judged("not #ad #sponsored")
    assert judged("not #ad", paid=True)
    # a tag the client sent without a caption that holds it still counts as sent
    assert is_sponsored(False, ["ad"], "Shoes") and is_sponsored(False, ["ad"], None)
    assert not is_sponsored(False, ["ad"], "not #ad")

