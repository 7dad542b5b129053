"""Event contracts: the envelope, one module per producer, and the topic catalog."""

from shared.contracts.catalog import CATALOG, Topic, dlq_topic, topic_by_name
from shared.contracts.envelope import Envelope, RawEnvelope, new_envelope

__all__ = ["CATALOG", "Envelope", "RawEnvelope", "Topic", "dlq_topic", "new_envelope", "topic_by_name"]
