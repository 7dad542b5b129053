"""The job table pattern on the real audit schema, as the audit role: idempotent enqueue,
SKIP LOCKED claims, compute outside the transaction, one-shot completion with its outbox event."""

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import pytest_asyncio
from prometheus_client import REGISTRY

from services.audit.db import Job, jobs, outbox
from shared.contracts.audit import AuditPayload
from shared.contracts.envelope import new_envelope
from shared.db import make_engine, make_sessionmaker
from shared.jobs import ClaimedJob, JobKind, JobWorker
from shared.messaging.consumer import TransientError
from tests.conftest import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest_asyncio.fixture(scope="module")
async def sessionmaker(platform):
    engine = make_engine(platform.service_env("audit")["DATABASE_URL"])
    yield make_sessionmaker(engine)
    await engine.dispose()


class Recorder:
    """A job kind whose compute and complete calls are counted; complete writes an outbox event."""

    def __init__(self, *, fail_compute: Exception | None = None, fail_complete: Exception | None = None, **options):
        self.name = f"test.{uuid.uuid4().hex[:10]}"
        self.computed: Counter[str] = Counter()
        self.completed: Counter[str] = Counter()
        self.fail_compute = fail_compute
        self.fail_complete = fail_complete
        self.kind = JobKind(self.name, self.compute, self.complete, **options)

    async def compute(self, job: ClaimedJob) -> dict:
        self.computed[job.key] += 1
        if self.fail_compute is not None:
            raise self.fail_compute
        return {"score": 42.5, "key": job.key}

    async def complete(self, session, job: ClaimedJob, result: dict) -> None:
        self.completed[job.key] += 1
        event = new_envelope(
            event_type="AuditCompleted",
            producer="audit",
            aggregate_id=job.key,
            payload=AuditPayload(
                audit_id=uuid.uuid4(), creator_id=uuid.UUID(job.key), status="completed", score=result["score"]
            ),
        )
        await outbox.add(session, "audit.audit.v1", event)
        if self.fail_complete is not None:
            raise self.fail_complete


async def enqueue(sessionmaker, kind: str, n: int = 1) -> list[str]:
    keys = [str(uuid.uuid4()) for _ in range(n)]
    async with sessionmaker() as session, session.begin():
        for key in keys:
            await jobs.enqueue(session, kind, key, {"creator_id": key})
    return keys


async def job_row(audit_db, kind: str, key: str):
    return await audit_db.fetchrow("select * from audit.jobs where kind = $1 and key = $2", kind, key)


async def events_for(audit_db, key: str) -> int:
    return await audit_db.fetchval("select count(*) from audit.outbox where key = $1", key)


async def test_recording_the_same_job_twice_keeps_one(sessionmaker, audit_db):
    kind, key = f"test.{uuid.uuid4().hex[:10]}", str(uuid.uuid4())
    async with sessionmaker() as session, session.begin():
        first = await jobs.enqueue(session, kind, key, {"n": 1})
    async with sessionmaker() as session, session.begin():
        second = await jobs.enqueue(session, kind, key, {"n": 2})
    assert (first, second) == (True, False)
    rows = await audit_db.fetch("select payload from audit.jobs where kind = $1 and key = $2", kind, key)
    assert [r["payload"] for r in rows] == ['{"n": 1}']


async def test_a_completed_job_has_its_result_and_its_event(sessionmaker, audit_db):
    recorder = Recorder()
    [key] = await enqueue(sessionmaker, recorder.name)
    worker = JobWorker(model=Job, sessionmaker=sessionmaker, kinds=[recorder.kind])
    assert await worker.run_once() == 1
    row = await job_row(audit_db, recorder.name, key)
    assert row["status"] == "succeeded"
    assert row["result"] == f'{{"key": "{key}", "score": 42.5}}'
    assert row["lease_token"] is None and row["finished_at"] is not None
    assert await events_for(audit_db, key) == 1


async def test_parallel_workers_run_each_job_exactly_once(sessionmaker, audit_db):
    recorder = Recorder()
    keys = await enqueue(sessionmaker, recorder.name, 24)
    workers = [
        JobWorker(model=Job, sessionmaker=sessionmaker, kinds=[recorder.kind], batch_size=3, poll_interval=0.05)
        for _ in range(3)
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]

    async def all_done():
        return await audit_db.fetchval(
            "select count(*) = $2 from audit.jobs where kind = $1 and status = 'succeeded'", recorder.name, len(keys)
        )

    try:
        await eventually(all_done, timeout=60)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert recorder.computed == Counter({k: 1 for k in keys})
    assert recorder.completed == Counter({k: 1 for k in keys})
    events = await audit_db.fetchval("select count(*) from audit.outbox where key = any($1::text[])", keys)
    assert events == len(keys)


async def test_a_transient_failure_is_retried_after_its_backoff(sessionmaker, audit_db):
    recorder = Recorder(fail_compute=TransientError("model endpoint busy"), backoff_base=30)
    [key] = await enqueue(sessionmaker, recorder.name)
    worker = JobWorker(model=Job, sessionmaker=sessionmaker, kinds=[recorder.kind])
    assert await worker.run_once() == 1
    row = await job_row(audit_db, recorder.name, key)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["run_after"] - row["updated_at"] == timedelta(seconds=30)
    assert row["last_error"] == "TransientError: model endpoint busy"
    assert await worker.run_once() == 0  # not due before its backoff has passed


async def test_transient_failures_fail_the_job_after_max_attempts(sessionmaker, audit_db):
    recorder = Recorder(fail_compute=TransientError("still busy"), max_attempts=3, backoff_base=0.01)
    [key] = await enqueue(sessionmaker, recorder.name)
    worker = JobWorker(model=Job, sessionmaker=sessionmaker, kinds=[recorder.kind])

    async def failed():
        await worker.run_once()
        return (await job_row(audit_db, recorder.name, key))["status"] == "failed"

    await eventually(failed, timeout=30)
    row = await job_row(audit_db, recorder.name, key)
    assert row["attempts"] == 3 and recorder.computed[key] == 3
    assert row["finished_at"] is not None and row["result"] is None
    assert await events_for(audit_db, key) == 0


async def test_a_permanent_failure_fails_the_job_at_once(sessionmaker, audit_db):
    recorder = Recorder(fail_compute=ValueError("payload has no creator"))
    [key] = await enqueue(sessionmaker, recorder.name)
    worker = JobWorker(model=Job, sessionmaker=sessionmaker, kinds=[recorder.kind])
    await worker.run_once()
    row = await job_row(audit_db, recorder.name, key)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert row["last_error"] == "ValueError: payload has no creator"


async def test_a_failing_complete_writes_neither_the_result_nor_the_event(sessionmaker, audit_db):
    recorder = Recorder(fail_complete=ValueError("state does not accept this result"))
    [key] = await enqueue(sessionmaker, recorder.name)
    worker = JobWorker(model=Job, sessionmaker=sessionmaker, kinds=[recorder.kind])
    await worker.run_once()
    row = await job_row(audit_db, recorder.name, key)
    assert recorder.completed[key] == 1
    assert row["status"] == "failed" and row["result"] is None
    assert await events_for(audit_db, key) == 0


async def test_a_job_whose_worker_died_is_finished_once_by_another(sessionmaker, audit_db):
    recorder = Recorder(lease=timedelta(milliseconds=300))
    [key] = await enqueue(sessionmaker, recorder.name)
    dead = JobWorker(model=Job, sessionmaker=sessionmaker, kinds=[recorder.kind])
    alive = JobWorker(model=Job, sessionmaker=sessionmaker, kinds=[recorder.kind])
    [abandoned] = await dead.claim()  # ... and the worker dies before computing

    await eventually(alive.run_once, timeout=30)
    await dead.execute(abandoned)  # a zombie that comes back after its lease was taken over

    row = await job_row(audit_db, recorder.name, key)
    assert (row["status"], row["attempts"]) == ("succeeded", 2)
    assert recorder.completed[key] == 1
    assert await events_for(audit_db, key) == 1


async def test_a_job_that_keeps_losing_its_lease_fails_after_max_attempts(sessionmaker, audit_db):
    recorder = Recorder(lease=timedelta(milliseconds=200), max_attempts=1)
    [key] = await enqueue(sessionmaker, recorder.name)
    worker = JobWorker(model=Job, sessionmaker=sessionmaker, kinds=[recorder.kind])
    await worker.claim()

    async def failed():
        await worker.claim()
        return (await job_row(audit_db, recorder.name, key))["status"] == "failed"

    await eventually(failed, timeout=30)
    assert recorder.computed[key] == 0
    assert "attempts exhausted" in (await job_row(audit_db, recorder.name, key))["last_error"]


async def test_metrics_show_pending_jobs_and_outcomes(sessionmaker):
    recorder = Recorder()
    await enqueue(sessionmaker, recorder.name, 2)
    worker = JobWorker(model=Job, sessionmaker=sessionmaker, kinds=[recorder.kind])
    await worker.refresh_metrics()
    assert REGISTRY.get_sample_value("jobs_pending", {"kind": recorder.name}) == 2
    assert REGISTRY.get_sample_value("jobs_oldest_due_age_seconds", {"kind": recorder.name}) >= 0
    await worker.run_once()
    await worker.refresh_metrics()
    assert REGISTRY.get_sample_value("jobs_pending", {"kind": recorder.name}) == 0
    assert REGISTRY.get_sample_value("jobs_total", {"kind": recorder.name, "event": "claimed"}) == 2
    assert REGISTRY.get_sample_value("jobs_total", {"kind": recorder.name, "event": "succeeded"}) == 2


async def test_a_compute_that_outlives_its_lease_is_cancelled_and_retried(sessionmaker, audit_db):
    recorder = Recorder()

    async def too_slow(job: ClaimedJob) -> dict:
        await asyncio.sleep(30)
        return {}

    kind = JobKind(recorder.name, too_slow, recorder.complete, lease=timedelta(milliseconds=200), backoff_base=30)
    [key] = await enqueue(sessionmaker, recorder.name)
    await JobWorker(model=Job, sessionmaker=sessionmaker, kinds=[kind]).run_once()
    row = await job_row(audit_db, recorder.name, key)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"].startswith("TimeoutError")
    assert recorder.completed[key] == 0
