"""What every signal shares: the insufficient-data answer, robust statistics and number wording."""

import math
from collections.abc import Sequence

from services.audit.engine.types import Signal

Z95 = 1.959963984540054  # two-sided 95 % normal quantile
MAD_TO_SIGMA = 1.4826  # MAD x 1.4826 estimates the standard deviation of normal data


def insufficient(name: str, weight: float, missing: Sequence[str], evidence: Sequence[str] = (), **details) -> Signal:
    """A signal that could not be judged: no score, no confidence, what is missing named."""
    return Signal(
        name=name, status="insufficient_data", score=None, weight=weight, confidence=0.0,
        evidence=tuple(evidence) or tuple(f"Insufficient data: no {m}." for m in missing),
        missing=tuple(missing), flags=(), details=details,
    )


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial share (Wilson 1927): sound near 0 and 1 and for small n."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def share_confidence(n: int) -> float:
    """1 - the worst-case 95 % margin of error of a share from n observations (1.96 / sqrt(n)),
    clipped to 0..1: 1,000 → 0.94, 100 → 0.80, 25 → 0.61, 10 → 0.38."""
    if n <= 0:
        return 0.0
    return max(0.0, min(1.0, 1.0 - Z95 / math.sqrt(n)))


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return float(ordered[mid]) if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


def mad(values: Sequence[float], centre: float | None = None) -> float:
    """Median absolute deviation (unscaled)."""
    c = median(values) if centre is None else centre
    return median([abs(v - c) for v in values])


def clip(value: float, low: float = 0.0, high: float = 100.0) -> float:
    return max(low, min(high, value))


def count(n: float) -> str:
    """12,345 / -1,200 / +48,000 (signed when asked through signed())."""
    return f"{round(n):,}"


def signed(n: float) -> str:
    return f"{round(n):+,}"


def pct(share: float, digits: int = 1) -> str:
    return f"{share * 100:.{digits}f} %"


def times(x: float) -> str:
    """A multiple: 14×, 2.5×, 0.3×, 0.04×."""
    if abs(x) >= 10:
        return f"{x:,.0f}×"
    if abs(x) >= 0.1:
        return f"{x:.1f}×"
    return f"{x:.2f}×"


def day(moment) -> str:
    return moment.date().isoformat()
