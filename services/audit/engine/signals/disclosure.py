"""Disclosure compliance: are the creator's sponsored posts labelled as ads, per jurisdiction?

Each post the audit read is graded by engine.disclosure (docs/guide/audit-disclosure.md): posts
that are not sponsored are not graded; a sponsored post gets pass / fail / needs_review in each
jurisdiction, and its own verdict is its worst one. The score is the compliance rate: the share
of sponsored posts that pass everywhere, x 100. A post needing review counts as not passed (the
rate is what is known to comply, a lower bound); the evidence gives the rate if every one of them
passed on review. No sponsored post: insufficient data, not a perfect score.

The signal's weight in the total is 0 (scoring.WEIGHTS, ADR 0040): it is shown beside the
authenticity score, with its own flags, and does not move it.
"""

from collections.abc import Sequence

from services.audit.engine.disclosure.grade import Grader, PostText
from services.audit.engine.disclosure.rulebook import Rulebook, default_rulebook
from services.audit.engine.scoring import WEIGHTS
from services.audit.engine.signals.common import count, day, insufficient, pct, share_confidence
from services.audit.engine.types import Post, Profile, Signal

NAME = "disclosure"
# Graded for every creator unless the request names its own list: the two regimes most brands
# answer to, plus the creator's own country's set when there is one.
DEFAULT_JURISDICTIONS = ("US", "UK")
EXCERPT_CHARS = 160
WORST_SHOWN = 3


def jurisdictions_for(rulebook: Rulebook, country: str | None, requested: Sequence[str] | None) -> tuple[str, ...]:
    """The jurisdictions an audit grades: those requested, else US, UK and the creator's country's."""
    if requested:
        return tuple(dict.fromkeys(requested))
    own = rulebook.for_country(country)
    return tuple(dict.fromkeys([*(j for j in DEFAULT_JURISDICTIONS if j in rulebook.sets), *([own] if own else [])]))


def _excerpt(caption: str | None) -> str:
    text = " ".join((caption or "").split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def disclosure_signal(
    profile: Profile,
    posts: Sequence[Post],
    *,
    jurisdictions: Sequence[str] | None = None,
    sponsors: Sequence[str] = (),
    rulebook: Rulebook | None = None,
) -> Signal:
    rulebook = rulebook or default_rulebook()
    wanted = jurisdictions_for(rulebook, profile.country, jurisdictions)
    # A jurisdiction stored with an audit whose rule file has since been removed is left out
    # and said, rather than failing the whole audit.
    codes = tuple(c for c in wanted if c in rulebook.sets)
    dropped = tuple(c for c in wanted if c not in rulebook.sets)
    if not codes:
        return insufficient(NAME, WEIGHTS[NAME], ("rule sets",), (
            f"Insufficient data: no rule set any more for {', '.join(dropped)}, so nothing was graded.",
        ), jurisdictions=[], rule_versions={}, sponsored_posts=0, passed=0, failed=0, needs_review=0,
            compliance_rate=None, posts=[])
    grader = Grader(rulebook, codes, sponsors)
    rows: list[dict] = []
    tally = {"pass": 0, "fail": 0, "needs_review": 0}
    by_jurisdiction = {c: {"passed": 0, "failed": 0, "needs_review": 0} for c in codes}
    worst: list[tuple[Post, dict]] = []
    for post in sorted(posts, key=lambda p: (p.posted_at, str(p.post_id)), reverse=True):
        assessment = grader.grade(PostText(
            caption=post.caption, hashtags=post.hashtags, mentions=post.mentions,
            paid_partnership=post.paid_partnership, platform=profile.platform, sponsored=post.sponsored,
        ))
        if not assessment.sponsored:
            continue
        tally[assessment.worst] += 1
        for verdict in assessment.verdicts:
            row = {
                "post_id": str(post.post_id), "external_id": post.external_id,
                "posted_at": post.posted_at.isoformat(), "jurisdiction": verdict.jurisdiction,
                "verdict": verdict.verdict, "reason": verdict.reason, "rule_id": verdict.rule_id,
                "source": verdict.source, "source_url": verdict.source_url, "basis": assessment.basis[0],
                "caption_excerpt": _excerpt(post.caption),
            }
            rows.append(row)
            key = {"pass": "passed", "fail": "failed", "needs_review": "needs_review"}[verdict.verdict]
            by_jurisdiction[verdict.jurisdiction][key] += 1
            if verdict.verdict == "fail" and not any(p.post_id == post.post_id for p, _ in worst):
                worst.append((post, row))
    sponsored = sum(tally.values())
    for figures in by_jurisdiction.values():
        graded = figures["passed"] + figures["failed"] + figures["needs_review"]
        figures["compliance_rate"] = round(figures["passed"] / graded, 4) if graded else None
    rate = tally["pass"] / sponsored if sponsored else None
    details = {
        "jurisdictions": list(codes),
        "rule_versions": {c: rulebook.sets[c].version for c in codes},
        "common_version": rulebook.common.version,
        "sponsors": list(sponsors),
        "sponsored_posts": sponsored,
        "passed": tally["pass"],
        "failed": tally["fail"],
        "needs_review": tally["needs_review"],
        "compliance_rate": None if rate is None else round(rate, 4),
        "by_jurisdiction": by_jurisdiction,
        "posts": rows,
    }
    weight = WEIGHTS[NAME]
    dropped_note = (f"No rule set any more for {', '.join(dropped)}: not graded there.",) if dropped else ()
    if not sponsored:
        return insufficient(NAME, weight, ("sponsored posts",), (
            f"Insufficient data: none of the {count(len(posts))} posts read is sponsored (no paid-partnership "
            f"label, sponsor, ad wording, gift, discount code or affiliate link), so there is no disclosure to grade.",
            *dropped_note,
        ), **details)
    evidence = [
        f"{count(tally['pass'])} of {count(sponsored)} sponsored posts ({pct(rate)}) are disclosed well enough in "
        f"every jurisdiction graded ({', '.join(codes)}); {count(tally['fail'])} fail and "
        f"{count(tally['needs_review'])} need review.",
    ]
    if tally["needs_review"]:
        evidence.append(
            f"Posts needing review count as not passed; if all {count(tally['needs_review'])} pass on review the "
            f"rate is {pct((tally['pass'] + tally['needs_review']) / sponsored)}."
        )
    for post, row in worst[:WORST_SHOWN]:
        name = post.external_id or str(post.post_id)
        evidence.append(
            f"Post {name} of {day(post.posted_at)}, {row['jurisdiction']}: {row['reason']} "
            f"(rule {row['rule_id']}; {row['source']})."
        )
    evidence.extend(dropped_note)
    flags = []
    if tally["fail"]:
        flags.append("disclosure_failures")
    if tally["needs_review"]:
        flags.append("disclosure_needs_review")
    return Signal(
        name=NAME, status="judged", score=round(100.0 * rate, 1), weight=weight,
        confidence=round(share_confidence(sponsored), 3), evidence=tuple(evidence), flags=tuple(flags),
        details=details,
    )
