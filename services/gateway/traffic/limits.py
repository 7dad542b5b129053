"""Token buckets: the limits of a plan, a decision with its RateLimit headers, and the in-memory
buckets of one replica (per-address limits, and the per-key fallback while the database is away).
"""

import math
import time
from dataclasses import dataclass

from pydantic import BaseModel, Field


class PlanLimit(BaseModel):
    """A token bucket: `rate` tokens a second refill it, up to `burst`; a request takes one."""

    rate: float = Field(gt=0, le=1_000_000, description="Sustained requests per second.")
    burst: int = Field(ge=1, le=10_000_000, description="Requests allowed at once after a quiet spell.")

    model_config = {"frozen": True}

    def seconds_to_full(self, tokens: float) -> float:
        return max(0.0, (self.burst - tokens) / self.rate)


_LIMIT = b"ratelimit-limit"
_REMAINING = b"ratelimit-remaining"
_RESET = b"ratelimit-reset"


@dataclass(slots=True)
class Decision:
    """One request's verdict. `remaining` is what the bucket holds after it (an estimate for the
    shared buckets: other replicas spend too); `retry_after` is seconds until a token, when refused."""

    allowed: bool
    limit: PlanLimit
    remaining: float
    retry_after: float = 0.0

    def headers(self) -> list[tuple[bytes, bytes]]:
        """RateLimit-Limit, -Remaining and -Reset (draft-ietf-httpapi-ratelimit-headers-03: the
        quota, what is left of it, and seconds until it is whole again)."""
        remaining = max(0, min(self.limit.burst, int(self.remaining)))
        reset = math.ceil(self.limit.seconds_to_full(self.remaining))
        return [
            (_LIMIT, str(self.limit.burst).encode()),
            (_REMAINING, str(remaining).encode()),
            (_RESET, str(reset).encode()),
        ]

    def retry_after_seconds(self) -> int:
        # Retry-After is whole seconds (RFC 9110 section 10.2.3); 0 would invite a tight loop.
        return max(1, math.ceil(self.retry_after))


class LocalLimiter:
    """Token buckets in this process only. A bucket is two floats (tokens, last refill). When the
    map reaches `max_entries`, buckets idle for as long as the plan at hand takes to refill are
    dropped: a full bucket and a missing one mean the same (with several plans in one map, a
    slower plan's bucket may go a little early, erring on the side of letting requests in)."""

    def __init__(self, max_entries: int = 100_000, clock=time.monotonic):
        self.max_entries = max_entries
        self.clock = clock
        self._buckets: dict[str, list[float]] = {}

    def peek(self, key: str, limit: PlanLimit) -> float:
        """Tokens in `key`'s bucket now, without taking any."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return float(limit.burst)
        return min(limit.burst, bucket[0] + (self.clock() - bucket[1]) * limit.rate)

    def take(self, key: str, limit: PlanLimit) -> Decision:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_entries:
                self._forget_full(now, limit)
            bucket = self._buckets[key] = [float(limit.burst), now]
        tokens = min(limit.burst, bucket[0] + (now - bucket[1]) * limit.rate)
        bucket[1] = now
        if tokens >= 1:
            bucket[0] = tokens - 1
            return Decision(True, limit, tokens - 1)
        bucket[0] = tokens
        return Decision(False, limit, tokens, (1 - tokens) / limit.rate)

    def _forget_full(self, now: float, limit: PlanLimit) -> None:
        full_after = limit.burst / limit.rate
        stale = [key for key, (_, stamp) in self._buckets.items() if now - stamp >= full_after]
        for key in stale:
            del self._buckets[key]
        if len(self._buckets) >= self.max_entries:
            # Every bucket is in use: a flood of distinct addresses. Forgetting them all errs on
            # the side of letting requests in, and bounds the memory.
            self._buckets.clear()
