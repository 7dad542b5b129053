"""The job worker: claim, compute outside any transaction, complete once.

1. Claim: one short transaction selects due jobs (pending and past their backoff, or running
   with an expired lease) `FOR UPDATE SKIP LOCKED`, so parallel workers never take the same
   job, and marks them running with a fresh lease token and expiry.
2. Compute: the kind's `compute(job)` runs with no transaction and no connection held, so a
   slow model call stalls nobody and a failure replays nothing else.
3. Complete: one short transaction sets the result guarded by the lease token, then calls the
   kind's `complete(session, job, result)`, where the service writes its state and its outbox
   event. A worker whose lease was taken over finds its token gone and completes nothing.

Failures (ADR 0010): a `TransientError`, a timeout, or a database outage or conflict
(`failure_kind`, ADR 0002) is retried after capped exponential backoff up to the kind's
`max_attempts`; anything else (a bug, a payload that can never succeed) fails the job at once.
A worker that dies mid-job leaves its lease to expire; the next claim counts as an attempt, so
a job that keeps killing workers ends `failed` too.
"""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import Counter, Gauge
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.jobs.queue import FAILED, PENDING, RUNNING, SUCCEEDED
from shared.messaging.failures import PERMANENT, failure_kind
from shared.messaging.kafka import backoff_delay, sleep_or_stop

log = logging.getLogger(__name__)

JOBS = Counter("jobs_total", "Job lifecycle events by kind", ["kind", "event"])
JOBS_PENDING = Gauge("jobs_pending", "Jobs waiting to run (including those backing off)", ["kind"])
JOBS_OLDEST_DUE_AGE = Gauge(
    "jobs_oldest_due_age_seconds", "How long the oldest due pending job has waited to be claimed", ["kind"]
)

_MAX_ERROR = 2000


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    key: str
    payload: dict
    attempt: int
    lease_token: uuid.UUID


@dataclass(frozen=True)
class JobKind:
    """What to do with jobs of one kind.

    `compute` runs outside any transaction and returns a JSON-serialisable result;
    `complete` runs inside the completing transaction (write state and outbox rows there).
    """

    name: str
    compute: Callable[[ClaimedJob], Awaitable[dict]]
    complete: Callable[[AsyncSession, ClaimedJob, dict], Awaitable[None]]
    max_attempts: int = 5
    # Longer than any compute should take: compute is cancelled at the lease's end, because
    # after it another worker may already have claimed the job.
    lease: timedelta = timedelta(minutes=5)
    backoff_base: float = 2.0
    backoff_cap: float = 300.0


class JobWorker:
    """Runs jobs of the given kinds from one service's `jobs` table (fits `shared.app.Worker`)."""

    def __init__(
        self,
        *,
        model: type,
        sessionmaker: async_sessionmaker[AsyncSession],
        kinds: list[JobKind],
        batch_size: int = 4,
        poll_interval: float = 0.5,
        metrics_interval: float = 15.0,
    ):
        self.model = model
        self.sessionmaker = sessionmaker
        self.kinds = {k.name: k for k in kinds}
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.metrics_interval = metrics_interval

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_metrics = loop.time()
        failures = 0
        while not stop.is_set():
            try:
                if loop.time() >= next_metrics:
                    await self.refresh_metrics()
                    next_metrics = loop.time() + self.metrics_interval
                done = await self.run_once()
                failures = 0
            except (DBAPIError, OSError) as exc:
                failures += 1
                log.warning("job worker cannot reach the database", extra={"error": repr(exc), "attempt": failures})
                await sleep_or_stop(stop, backoff_delay(failures, base=0.5, cap=10.0))
                continue
            if not done:
                await sleep_or_stop(stop, self.poll_interval)

    async def run_once(self) -> int:
        """Claim one batch and run it to the end; the number of jobs claimed."""
        claimed = await self.claim()
        outcomes = await asyncio.gather(*(self.execute(job) for job in claimed), return_exceptions=True)
        for job, outcome in zip(claimed, outcomes):
            if isinstance(outcome, Exception):
                # Not even the failure could be recorded (database gone): the lease expires
                # and the job is claimed again.
                log.warning("job outcome not recorded", extra={"job_id": job.id, "error": repr(outcome)})
        return len(claimed)

    async def claim(self) -> list[ClaimedJob]:
        """Take up to batch_size due jobs under a fresh lease, in one short transaction."""
        job = self.model
        async with self.sessionmaker() as session, session.begin():
            now = await session.scalar(select(func.now()))
            due = or_(
                and_(job.status == PENDING, job.run_after <= now),
                and_(job.status == RUNNING, job.lease_expires_at <= now),
            )
            rows = (
                await session.scalars(
                    select(job)
                    .where(job.kind.in_(list(self.kinds)), due)
                    .order_by(job.run_after, job.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            claimed, expired, exhausted = [], [], []
            for row in rows:
                kind = self.kinds[row.kind]
                if row.status == RUNNING:
                    expired.append(row.kind)
                    if row.attempts >= kind.max_attempts:
                        self._fail(row, now, f"lease expired on attempt {row.attempts}; attempts exhausted")
                        exhausted.append(row.kind)
                        continue
                row.status = RUNNING
                row.attempts += 1
                row.lease_token = uuid.uuid4()
                row.lease_expires_at = now + kind.lease
                row.updated_at = now
                claimed.append(ClaimedJob(row.id, row.kind, row.key, row.payload, row.attempts, row.lease_token))
        for name in expired:
            JOBS.labels(name, "lease_expired").inc()
        for name in exhausted:
            JOBS.labels(name, "failed").inc()
        for claimed_job in claimed:
            JOBS.labels(claimed_job.kind, "claimed").inc()
        return claimed

    async def execute(self, job: ClaimedJob) -> None:
        """Compute a claimed job outside any transaction, then complete it or record the failure."""
        kind = self.kinds[job.kind]
        try:
            async with asyncio.timeout(kind.lease.total_seconds()):
                result = await kind.compute(job)
            await self._complete(kind, job, result)
        except asyncio.CancelledError:
            raise  # on shutdown the lease simply expires and another worker takes the job
        except Exception as exc:
            await self._record_failure(kind, job, exc)

    async def _complete(self, kind: JobKind, job: ClaimedJob, result: dict) -> None:
        model = self.model
        async with self.sessionmaker() as session, session.begin():
            owned = await session.execute(
                update(model)
                .where(model.id == job.id, model.lease_token == job.lease_token)
                .values(
                    status=SUCCEEDED,
                    result=result,
                    last_error=None,
                    lease_token=None,
                    lease_expires_at=None,
                    finished_at=func.now(),
                    updated_at=func.now(),
                )
                .returning(model.id)
            )
            if owned.first() is None:
                JOBS.labels(job.kind, "lease_lost").inc()
                log.warning("job lease lost before completion", extra={"job_id": job.id, "kind": job.kind})
                return
            await kind.complete(session, job, result)
        JOBS.labels(job.kind, "succeeded").inc()

    async def _record_failure(self, kind: JobKind, job: ClaimedJob, exc: Exception) -> None:
        retry = (isinstance(exc, TimeoutError) or failure_kind(exc) != PERMANENT) and job.attempt < kind.max_attempts
        error = f"{type(exc).__name__}: {exc}"[:_MAX_ERROR]
        log.warning(
            "job failed",
            extra={"job_id": job.id, "kind": job.kind, "attempt": job.attempt, "retry": retry, "error": error},
        )
        async with self.sessionmaker() as session, session.begin():
            row = await session.scalar(
                select(self.model)
                .where(self.model.id == job.id, self.model.lease_token == job.lease_token)
                .with_for_update()
            )
            if row is None:
                JOBS.labels(job.kind, "lease_lost").inc()
                return
            now = await session.scalar(select(func.now()))
            if retry:
                row.status = PENDING
                row.run_after = now + timedelta(
                    seconds=backoff_delay(job.attempt, base=kind.backoff_base, cap=kind.backoff_cap)
                )
                row.lease_token = None
                row.lease_expires_at = None
                row.last_error = error
                row.updated_at = now
            else:
                self._fail(row, now, error)
        JOBS.labels(job.kind, "retried" if retry else "failed").inc()

    @staticmethod
    def _fail(row, now: datetime, error: str) -> None:
        row.status = FAILED
        row.last_error = error
        row.lease_token = None
        row.lease_expires_at = None
        row.finished_at = now
        row.updated_at = now

    async def refresh_metrics(self) -> None:
        job = self.model
        async with self.sessionmaker() as session, session.begin():
            rows = await session.execute(
                select(
                    job.kind,
                    func.count(),
                    func.coalesce(
                        func.extract("epoch", func.now() - func.min(job.run_after).filter(job.run_after <= func.now())),
                        0,
                    ),
                )
                .where(job.status == PENDING, job.kind.in_(list(self.kinds)))
                .group_by(job.kind)
            )
            seen = {kind: (count, float(age)) for kind, count, age in rows}
        for name in self.kinds:
            count, age = seen.get(name, (0, 0.0))
            JOBS_PENDING.labels(name).set(count)
            JOBS_OLDEST_DUE_AGE.labels(name).set(age)
