"""Deliverables against activations, pure: each activation of a creator counts against the
earliest-due deliverable of its platform and format that is not full yet, so two "2 reels" lines
due on different days fill in due order and a post never counts twice."""

from collections import Counter
from datetime import date

from services.attribution.activations.schemas import DeliverableCount, EnrolmentDeliverables


def count(creator_id, deliverables: list[dict], activations: list[tuple[str, str]], today: date) -> EnrolmentDeliverables:
    """`deliverables` as an enrolment stores them; `activations` the creator's (platform, format)s."""
    available = Counter(activations)
    lines = []
    for item in sorted(deliverables, key=lambda d: (d["due_on"], d["platform"], d["format"])):
        key = (item["platform"], item["format"])
        delivered = min(item["count"], available[key])
        available[key] -= delivered
        due_on = date.fromisoformat(item["due_on"])
        lines.append(DeliverableCount(platform=item["platform"], format=item["format"], count=item["count"], due_on=due_on,
                                      delivered=delivered, overdue=due_on < today and delivered < item["count"]))
    return EnrolmentDeliverables(
        creator_id=creator_id, deliverables=lines, required=sum(d.count for d in lines),
        delivered=sum(d.delivered for d in lines), overdue=sum(d.overdue for d in lines),
        unmatched_activations=sum(available.values()),
    )
