"""Paths and touches written compactly for the attribution model tests: "ABA" is a path through
creators A, B, A, a day apart."""

from datetime import datetime, timedelta, timezone

from services.attribution.models import Path, Touch

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def touches(creators: str, *, start: datetime = T0, step: timedelta = timedelta(days=1), kind: str = "click") -> tuple[Touch, ...]:
    return tuple(Touch(c, kind, start + i * step) for i, c in enumerate(creators))  # type: ignore[arg-type]


def path(creators: str, converted: bool, value_minor: int = 0) -> Path:
    return Path(touches(creators), converted, value_minor if converted else 0)
