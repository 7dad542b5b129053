"""The audit runner: a background worker of the audit service (like the outbox relay) that
claims due audits, computes them with the engine and stores the result.

A claim is a short transaction: `FOR UPDATE SKIP LOCKED` picks a due pending audit (or a running
one whose lease ran out), marks it running with a new lease token and commits. The inputs are
read and the engine runs outside any transaction; the result is written, and AuditCompleted or
AuditFailed added to the outbox, in one transaction that first checks the lease token is still
ours. A runner that dies mid-run leaves the audit running until its lease expires, then any
runner claims it again; after `audit_max_attempts` such deaths it is failed, so one poisonous
input cannot stall the queue (docs/decisions/0029-audit-runner.md).
"""

import asyncio
import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.audit.audit import service
from services.audit.audit.inputs import load
from services.audit.audit.models import Audit
from services.audit.config import AuditSettings
from services.audit.engine.types import AuditResult
from shared.contracts.audit import AuditPayload
from shared.db import utcnow
from shared.messaging.kafka import sleep_or_stop

log = logging.getLogger(__name__)

RUNS = Counter("audit_runs_total", "Audits the runner finished", ["outcome"])
RUN_SECONDS = Histogram("audit_run_seconds", "Time to load an audit's inputs and compute it")

REASON_CHARS = 500


@dataclass(frozen=True)
class Claim:
    audit_id: uuid.UUID
    creator_id: uuid.UUID
    token: uuid.UUID
    jurisdictions: tuple[str, ...] | None = None  # disclosure rule sets asked for; None: the default
    sponsors: tuple[str, ...] = ()


class AuditRunner:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: AuditSettings):
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.model = None

    async def run(self, stop: asyncio.Event) -> None:
        if self.model is None:
            from services.audit.engine.classifier import default_model

            # Loading a model file is file I/O and unpickling: off the event loop. A model that
            # cannot load raises here; the supervisor logs it and restarts the runner with backoff.
            self.model = await asyncio.to_thread(default_model)
        idle = self.settings.audit_runner_poll_ms / 1000
        while not stop.is_set():
            claim = await self.claim()
            if claim is None:
                await sleep_or_stop(stop, idle)
                continue
            await self.execute(claim)

    async def claim(self) -> Claim | None:
        """Take the next due audit, or None; fails for good an audit whose runs kept dying."""
        async with self.sessionmaker() as session, session.begin():
            for condition, order in (
                ((Audit.status == "running") & (Audit.lease_expires_at < func.now()), Audit.lease_expires_at),
                ((Audit.status == "pending") & (Audit.run_after <= func.now()), Audit.run_after),
            ):
                audit = (
                    await session.scalars(
                        select(Audit).where(condition).order_by(order).limit(1).with_for_update(skip_locked=True)
                    )
                ).first()
                if audit is None:
                    continue
                if audit.status == "running" and audit.attempts >= self.settings.audit_max_attempts:
                    await self._fail(
                        session, audit,
                        f"the runner stopped {audit.attempts} times while running this audit; not retried",
                    )
                    return None
                token = uuid.uuid4()
                audit.status = "running"
                audit.lease_token = token
                audit.lease_expires_at = utcnow() + timedelta(seconds=self.settings.audit_lease_seconds)
                audit.attempts += 1
                audit.started_at = utcnow()
                return Claim(
                    audit.id, audit.creator_id, token,
                    jurisdictions=tuple(audit.jurisdictions) if audit.jurisdictions is not None else None,
                    sponsors=tuple(audit.sponsors or ()),
                )
        return None

    async def execute(self, claim: Claim) -> None:
        now = utcnow()
        with RUN_SECONDS.time():
            async with self.sessionmaker() as session, session.begin():
                # One snapshot: posts, series, sample and comments as of one instant.
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                loaded = await load(
                    session, claim.creator_id, now, jurisdictions=claim.jurisdictions, sponsors=claim.sponsors
                )
            if loaded is None:
                await self.finish(claim, failure="audit holds no such creator (discovery never announced it)")
                return
            try:
                from services.audit.engine.audit import compute

                result = await asyncio.to_thread(compute, loaded.inputs, self.model)
            except Exception as exc:  # the engine's bug fails this audit, never the runner
                log.exception("audit engine failed", extra={"audit_id": str(claim.audit_id)})
                await self.finish(claim, failure=f"the audit engine failed: {type(exc).__name__}: {exc}"[:REASON_CHARS])
                return
        await self.finish(claim, result=result, sample_id=loaded.follower_sample_id)

    async def finish(
        self,
        claim: Claim,
        *,
        result: AuditResult | None = None,
        sample_id: uuid.UUID | None = None,
        failure: str | None = None,
    ) -> bool:
        """Store the outcome if the lease is still ours; False when another runner took it."""
        async with self.sessionmaker() as session, session.begin():
            audit = (
                await session.scalars(
                    select(Audit)
                    .where(Audit.id == claim.audit_id, Audit.status == "running", Audit.lease_token == claim.token)
                    .with_for_update()
                )
            ).first()
            if audit is None:
                log.warning("audit lease lost before its result was stored", extra={"audit_id": str(claim.audit_id)})
                return False
            if result is None:
                await self._fail(session, audit, failure or "unknown failure")
            else:
                await self._complete(session, audit, result, sample_id)
            if audit.rerun_requested:
                # The data changed materially while this audit ran on what was there before.
                await session.flush()
                await service.schedule_automatic(
                    session, audit.creator_id, trigger="changed_while_running", event_id=None,
                    delay=self.settings.audit_auto_delay_seconds,
                )
        return True

    async def _complete(self, session: AsyncSession, audit: Audit, result: AuditResult, sample_id) -> None:
        score = _number(result.score)
        audit.status = "completed"
        audit.score = None if score is None else min(100.0, max(0.0, score))
        audit.grade = result.grade
        audit.confidence = _number(result.confidence)
        quality = _number(result.audience_quality)
        audit.audience_quality = None if quality is None else min(1.0, max(0.0, quality))
        audit.signals = [_signal(s) for s in result.signals]
        audit.flags = list(result.flags)
        audit.versions = {str(k): str(v) for k, v in result.versions.items()}
        audit.samples = {str(k): int(v) for k, v in result.samples.items()}
        audit.window_start, audit.window_end = result.window
        audit.follower_sample_id = sample_id
        model = result.versions.get("model")
        audit.model_version = str(model)[:50] if model else None
        self._finished(audit)
        await service.publish(
            session,
            "AuditCompleted",
            AuditPayload(
                audit_id=audit.id, creator_id=audit.creator_id, status="completed", score=audit.score,
                grade=audit.grade, audience_quality=audit.audience_quality, flags=audit.flags,
                model_version=audit.model_version,
            ),
        )
        RUNS.labels("completed").inc()

    async def _fail(self, session: AsyncSession, audit: Audit, reason: str) -> None:
        audit.status = "failed"
        audit.failure_reason = reason
        self._finished(audit)
        await service.publish(
            session, "AuditFailed",
            AuditPayload(audit_id=audit.id, creator_id=audit.creator_id, status="failed", reason=reason),
        )
        RUNS.labels("failed").inc()

    @staticmethod
    def _finished(audit: Audit) -> None:
        audit.finished_at = utcnow()
        audit.lease_token = None
        audit.lease_expires_at = None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _json(value: Any) -> Any:
    """The engine's `details` as JSON PostgreSQL takes: no NaN, times as ISO text, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _json(value.item())
    return str(value)


def _signal(signal) -> dict[str, Any]:
    return {
        "name": signal.name,
        "status": signal.status,
        "score": _number(signal.score),
        "weight": _number(signal.weight),
        "confidence": _number(signal.confidence),
        "evidence": [str(e) for e in signal.evidence],
        "missing": [str(m) for m in signal.missing],
        "flags": [str(f) for f in signal.flags],
        "details": _json(dict(signal.details)),
    }
