"""The seven brand-fit factors of one creator, each a score 0..1 with its explanation, and the
total. Pure functions over a candidate row and the evidence fetched for it, so the formulas are
in one place (docs/guide/discovery-brand-fit.md states the same ones).
"""

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from services.discovery.brandfit.schemas import Brief, Factor

# Each factor's share of the total. A factor the brief leaves out (no target audience, no budget)
# weighs 0 in that answer and the others are scaled up to add to 1.
WEIGHTS: dict[str, float] = {
    "audience_match": 0.25,
    "content_similarity": 0.25,
    "authenticity": 0.15,
    "engagement": 0.10,
    "price": 0.10,
    "brand_safety": 0.10,
    "competitors": 0.05,
}
# A brand-safety hit is a strong penalty: besides its factor scoring 0, the total is multiplied by this.
SAFETY_PENALTY = 0.5
# Each recent competitor sponsorship takes this off the competitors factor.
COMPETITOR_PENALTY = 0.5
COMPETITOR_WINDOW_DAYS = 90
NEUTRAL = 0.5

# The deliverable a price estimate is compared with, by platform, most usual first: the
# platform's main sponsored format. Otherwise the cheapest estimate on that platform.
MAIN_DELIVERABLES: dict[str, tuple[str, ...]] = {
    "instagram": ("post", "reel", "feed_post", "carousel"),
    "tiktok": ("video", "post"),
    "youtube": ("integration", "video", "dedicated_video"),
    "x": ("post", "tweet"),
    "twitch": ("stream", "sponsored_stream"),
    "facebook": ("post", "video"),
    "pinterest": ("pin", "idea_pin"),
    "snapchat": ("story", "snap"),
    "linkedin": ("post",),
}

AUDIENCE_DIMENSIONS = (
    # (brief field, row column, how the explanation names it)
    ("countries", "audience_countries", "your target countries"),
    ("ages", "audience_ages", "your target age bands"),
    ("genders", "audience_genders", "your target genders"),
    ("languages", "audience_languages", "your target languages"),
)


@dataclass
class Evidence:
    """What was found in a creator's posts: brand-safety matches and competitor sponsorships."""

    safety: list[tuple[str, str]] = field(default_factory=list)  # (term, where)
    sponsorships: list[tuple[str, str]] = field(default_factory=list)  # (competitor, post)


def _pct(share: float) -> str:
    return f"{round(share * 100)} %"


@dataclass(slots=True)
class Scored:
    """One factor of one candidate. A plain record, not the API's `Factor`: a few hundred
    candidates are scored and only the returned ones become response models (`as_factor`)."""

    factor: str
    score: float
    weight: float
    confidence: str
    explanation: str

    def as_factor(self) -> Factor:
        return Factor(
            factor=self.factor, score=self.score, weight=self.weight, confidence=self.confidence,
            explanation=self.explanation,
        )


def _factor(name: str, score: float, weights: dict[str, float], explanation: str, *, known: bool = True) -> Scored:
    return Scored(
        factor=name,
        score=round(min(1.0, max(0.0, score)), 4),
        weight=round(weights[name], 4),
        confidence="high" if known else "low",
        explanation=explanation,
    )


def weights_for(brief: Brief) -> dict[str, float]:
    active = dict(WEIGHTS)
    if not (brief.audience and brief.audience.named()):
        active["audience_match"] = 0.0
    if brief.budget is None:
        active["price"] = 0.0
    total = sum(active.values())
    return {name: weight / total for name, weight in active.items()}


def audience_match(brief: Brief, row, weights: dict[str, float]) -> Scored:
    target = brief.audience
    if not (target and target.named()):
        return _factor("audience_match", NEUTRAL, weights, "The brief names no target audience; not counted.")
    scores, parts = [], []
    for name, column, label in AUDIENCE_DIMENSIONS:
        wanted = getattr(target, name)
        if not wanted:
            continue
        shares = getattr(row, column)
        if not shares:
            scores.append(None)
            parts.append(f"no estimate of the audience's {name} (neutral)")
            continue
        inside = sorted(((k, float(shares.get(k) or 0.0)) for k in wanted), key=lambda kv: -kv[1])
        share = min(1.0, sum(v for _, v in inside))
        scores.append(share)
        detail = ", ".join(f"{k} {_pct(v)}" for k, v in inside if v > 0) or "none"
        parts.append(f"{_pct(share)} of the audience is in {label} ({detail})")
    known = [s for s in scores if s is not None]
    score = sum(s if s is not None else NEUTRAL for s in scores) / len(scores)
    sentence = "; ".join(parts)
    return _factor("audience_match", score, weights, sentence[0].upper() + sentence[1:] + ".", known=bool(known))


def content_similarity(similarity: float | None, weights: dict[str, float]) -> Scored:
    if similarity is None or math.isnan(similarity):
        return _factor(
            "content_similarity", NEUTRAL, weights,
            "This creator's content is not embedded yet: neutral score, low confidence.", known=False,
        )
    score = max(0.0, similarity)
    return _factor(
        "content_similarity", score, weights,
        f"Bio and recent captions are {round(score * 100)} % similar to the brief "
        f"(cosine similarity {similarity:.2f} of the content embeddings).",
    )


def authenticity(row, weights: dict[str, float]) -> Scored:
    if row.audit_score is None:
        return _factor(
            "authenticity", NEUTRAL, weights,
            "Not audited yet: neutral score, low confidence. Audit the creator to know.", known=False,
        )
    grade = f", grade {row.audit_grade}" if row.audit_grade else ""
    return _factor("authenticity", row.audit_score / 100, weights, f"Authenticity audit score {row.audit_score:.0f}/100{grade}.")


def engagement(row, median: float | None, weights: dict[str, float]) -> Scored:
    """ER against the median ER of the creator's platform and tier: ratio r scores r / (1 + r),
    so the median scores 0.5, twice the median 0.67, half of it 0.33."""
    peers = f"{row.tier} {row.platform} creators"
    if row.engagement_rate is None:
        return _factor("engagement", NEUTRAL, weights, "No engagement rate measured: neutral score, low confidence.", known=False)
    if not median:
        return _factor(
            "engagement", NEUTRAL, weights,
            f"Engagement rate {row.engagement_rate * 100:.2f} %; no peer median for {peers} yet: neutral, low confidence.",
            known=False,
        )
    ratio = row.engagement_rate / median
    return _factor(
        "engagement", ratio / (1 + ratio), weights,
        f"Engagement rate {row.engagement_rate * 100:.2f} % is {ratio:.1f}× the median of {peers} "
        f"({median * 100:.2f} %).",
    )


def _estimate(row, platforms: list[str]) -> dict | None:
    """The price estimate of the main deliverable on the creator's primary platform (or the
    brief's platforms), else the cheapest there."""
    wanted = [row.platform] + [p for p in platforms if p != row.platform]
    estimates = [e for e in (row.price_estimates or []) if isinstance(e, dict)]
    for platform in wanted:
        on = [e for e in estimates if e.get("platform") == platform and _amount(e) is not None]
        if not on:
            continue
        for deliverable in MAIN_DELIVERABLES.get(platform, ()):
            for estimate in on:
                if estimate.get("deliverable") == deliverable:
                    return estimate
        return min(on, key=_amount)
    return None


def _amount(estimate: dict) -> Decimal | None:
    try:
        amount = Decimal(str(estimate.get("amount")))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def price(brief: Brief, row, weights: dict[str, float]) -> Scored:
    """Within budget scores 1; above, it falls linearly to 0 at twice the budget."""
    budget = brief.budget
    if budget is None:
        return _factor("price", NEUTRAL, weights, "The brief sets no budget; not counted.")
    estimate = _estimate(row, [p.value for p in brief.platforms])
    if estimate is None:
        return _factor("price", NEUTRAL, weights, "No price estimate for this creator: neutral score, low confidence.", known=False)
    amount, currency = _amount(estimate), estimate.get("currency")
    what = f"{estimate.get('deliverable', 'deliverable')} on {estimate.get('platform')}"
    if currency != budget.currency:
        return _factor(
            "price", NEUTRAL, weights,
            f"Estimated {amount} {currency} for a {what}, but the budget is in {budget.currency} and no exchange "
            "rate is applied: neutral score, low confidence.",
            known=False,
        )
    ratio = amount / budget.amount
    if ratio <= 1:
        return _factor(
            "price", 1.0, weights,
            f"Estimated {amount} {currency} for a {what}: within your budget of {budget.amount} {currency} "
            f"({round(ratio * 100)} % of it).",
        )
    score = max(Decimal(0), 2 - ratio)
    return _factor(
        "price", float(score), weights,
        f"Estimated {amount} {currency} for a {what}: {round((ratio - 1) * 100)} % over your budget of "
        f"{budget.amount} {currency}.",
    )


def exclusion_patterns(brief: Brief) -> list[tuple[str, re.Pattern]]:
    terms = brief.exclusions.keywords if brief.exclusions else []
    return [(term, re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)) for term in terms]


def brand_safety(brief: Brief, evidence: Evidence, weights: dict[str, float]) -> Scored:
    if not (brief.exclusions and brief.exclusions.keywords):
        return _factor("brand_safety", 1.0, weights, "The brief lists no excluded keywords; nothing to check.")
    if not evidence.safety:
        return _factor("brand_safety", 1.0, weights, "None of your excluded keywords appear in the bio or recent captions.")
    found = "; ".join(f'"{term}" in {where}' for term, where in evidence.safety[:5])
    return _factor(
        "brand_safety", 0.0, weights,
        f"Excluded keywords found: {found}. Strong penalty: the total score is halved.",
    )


def competitors(brief: Brief, evidence: Evidence, weights: dict[str, float]) -> Scored:
    if not brief.competitors:
        return _factor("competitors", 1.0, weights, "The brief names no competitors; nothing to check.")
    if not evidence.sponsorships:
        return _factor(
            "competitors", 1.0, weights,
            f"No sponsored post mentioning a competitor in the last {COMPETITOR_WINDOW_DAYS} days.",
        )
    n = len(evidence.sponsorships)
    found = "; ".join(f"@{handle} in {post}" for handle, post in evidence.sponsorships[:5])
    return _factor(
        "competitors", 1 - COMPETITOR_PENALTY * n, weights,
        f"{n} sponsored post{'s' if n > 1 else ''} for a competitor in the last {COMPETITOR_WINDOW_DAYS} days: {found}.",
    )


def total(factors: list[Scored], evidence: Evidence) -> float:
    score = sum(f.score * f.weight for f in factors)
    if evidence.safety:
        score *= SAFETY_PENALTY
    return round(100 * score, 2)


def post_label(post_id: str, url: str | None, posted_at: datetime) -> str:
    where = url or f"post {post_id}"
    return f"the post of {posted_at.date().isoformat()} ({where})"
