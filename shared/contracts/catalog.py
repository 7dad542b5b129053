"""The event catalog: every topic, its contract, its consumers and how it is created.

`limelight up` creates these topics (and one dead-letter topic per consumer), the contract
snapshot test reads them, and the AsyncAPI document is generated from them.
"""

from dataclasses import dataclass, field

from pydantic import BaseModel

from shared.contracts import attribution, audit, discovery, gateway, privacy

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    producer: str
    aggregate: str
    description: str
    events: dict[str, type[BaseModel]]
    consumers: tuple[str, ...] = ()
    partitions: int = 6
    retention_ms: int = 7 * DAY_MS
    config: dict[str, str] = field(default_factory=dict)

    def dead_letter_topics(self) -> list[str]:
        return [dlq_topic(self.name, consumer) for consumer in self.consumers]


def dlq_topic(topic: str, consumer: str) -> str:
    return f"{topic}.dlq.{consumer}"


# Partition counts leave headroom for consumer replicas (docs/architecture.md, "Scaling out").
CATALOG: tuple[Topic, ...] = (
    Topic(
        name="gateway.webhook.v1",
        producer="gateway",
        aggregate="webhook delivery",
        description="Partner webhooks whose signature and freshness the gateway verified, body untouched.",
        events={"WebhookReceived": gateway.WebhookReceived},
        consumers=("attribution",),
        partitions=6,
        retention_ms=14 * DAY_MS,
    ),
    Topic(
        name="gateway.privacy.v1",
        producer="gateway",
        aggregate="privacy request",
        description=(
            "Data-subject requests (export or erasure of one customer's or creator's data), acted on by every "
            "service that holds personal data, each keeping a receipt (docs/decisions/0054)."
        ),
        events={"PrivacyRequested": privacy.PrivacyRequested},
        consumers=("discovery", "audit", "attribution"),
        partitions=3,
        # It carries the subject's identifiers: kept long enough for a service down a few hours
        # to catch up, and no longer.
        retention_ms=1 * DAY_MS,
    ),
    Topic(
        name="discovery.creator.v2",
        producer="discovery",
        aggregate="creator",
        description=(
            "Creators added to or changed in the discovery index, with the posts, follower counts and audience "
            "the audit service judges them by; audit_needed asks for an authenticity audit."
        ),
        events={
            "CreatorCreated": discovery.CreatorPayload,
            "CreatorChanged": discovery.CreatorPayload,
            "PostsObserved": discovery.PostsObserved,
            "FollowerCountsObserved": discovery.FollowerCountsObserved,
            "AudienceEstimated": discovery.AudienceEstimated,
        },
        consumers=("audit",),
    ),
    Topic(
        name="audit.audit.v1",
        producer="audit",
        aggregate="creator",
        description="Lifecycle of authenticity audits: scheduled, completed (with score and flags) or failed.",
        events={
            "AuditScheduled": audit.AuditPayload,
            "AuditCompleted": audit.AuditPayload,
            "AuditFailed": audit.AuditPayload,
        },
        consumers=("discovery",),
    ),
    Topic(
        name="attribution.campaign.v1",
        producer="attribution",
        aggregate="campaign",
        description=(
            "Campaigns created or changed, and the creators enrolled in them with their deals "
            "(tenant-private: the envelope's tenant_id is the owner)."
        ),
        events={
            "CampaignCreated": attribution.CampaignPayload,
            "CampaignUpdated": attribution.CampaignPayload,
            "CreatorEnrolled": attribution.EnrolmentPayload,
            "DealChanged": attribution.EnrolmentPayload,
            "CreatorUnenrolled": attribution.EnrolmentPayload,
        },
        partitions=6,
    ),
    Topic(
        name="attribution.click.v1",
        producer="attribution",
        aggregate="click",
        description="Clicks on tracked links served by the public redirect.",
        events={"ClickRecorded": attribution.ClickRecorded},
        consumers=("attribution",),
        partitions=12,
        retention_ms=30 * DAY_MS,
    ),
    Topic(
        name="attribution.conversion.v1",
        producer="attribution",
        aggregate="order",
        description="Orders credited to creators, and reversals of that credit (refunds, cancellations).",
        events={
            "ConversionAttributed": attribution.ConversionPayload,
            "ConversionReversed": attribution.ConversionPayload,
        },
        retention_ms=30 * DAY_MS,
    ),
    Topic(
        name="attribution.performance.v1",
        producer="attribution",
        aggregate="creator",
        description="Running sales statistics per creator, projected by discovery for ranking.",
        events={"CreatorPerformanceUpdated": attribution.CreatorPerformanceUpdated},
        consumers=("discovery",),
        config={"cleanup.policy": "compact,delete"},
    ),
)


def topic_by_name(name: str) -> Topic:
    for topic in CATALOG:
        if topic.name == name:
            return topic
    raise KeyError(name)
