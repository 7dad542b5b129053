"""What the traffic layers consult per request, built once in the gateway's lifespan and kept in
`app.state.traffic`: the limiters, the plans, the body limits, the CORS origins."""

import hashlib
import math
from dataclasses import dataclass

from services.gateway.traffic.leases import SharedLimiter
from services.gateway.traffic.limits import LocalLimiter, PlanLimit
from shared.identity import Identity

# Unlisted plans get the standard plan's limits: no plan name means "unlimited".
FALLBACK_PLAN = "standard"
# The longest bucket key stored as is (the column is 200 characters); longer JWT subjects are hashed.
MAX_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class TrafficPolicy:
    keys: SharedLimiter
    addresses: LocalLimiter
    plans: dict[str, PlanLimit]
    address_limit: PlanLimit
    max_body_bytes: int
    max_webhook_body_bytes: int
    cors_origins: tuple[str, ...]
    cors_max_age: int
    # A tenant's credentials together get this many times one credential's plan: more keys (or
    # more JWT subjects) must not mean an ever larger share of the installation.
    tenant_multiplier: float = 4.0
    # Routes that take a bulk body, and how much of one (gateway_max_bulk_body_bytes).
    bulk_routes: frozenset[str] = frozenset()
    max_bulk_body_bytes: int = 0
    # /webhooks/: every request per address, accepted deliveries per source (ratelimit.py).
    webhook_address_limit: PlanLimit = PlanLimit(rate=1000, burst=5000)
    webhook_source_limit: PlanLimit = PlanLimit(rate=500, burst=5000)

    def plan_limit(self, plan: str) -> PlanLimit:
        return self.plans.get(plan) or self.plans[FALLBACK_PLAN]

    def tenant_limit(self, plan: str) -> PlanLimit:
        one = self.plan_limit(plan)
        return PlanLimit(
            rate=min(one.rate * self.tenant_multiplier, 1_000_000),
            burst=min(math.ceil(one.burst * self.tenant_multiplier), 10_000_000),
        )


def tenant_bucket_key(identity: Identity) -> str:
    """The bucket every credential of a tenant also takes from."""
    return f"tenant:{identity.tenant_id}"


def bucket_key(identity: Identity) -> str:
    """The credential a limit belongs to: the API key, or for a JWT the tenant and subject (every
    token a frontend app gets for one user shares that user's bucket)."""
    if identity.key_id is not None:
        return f"key:{identity.key_id}"
    key = f"tenant:{identity.tenant_id}:sub:{identity.subject}"
    if len(key) > MAX_KEY_LENGTH:
        key = f"tenant:{identity.tenant_id}:sub-sha256:{hashlib.sha256(identity.subject.encode()).hexdigest()}"
    return key
