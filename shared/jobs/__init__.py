"""Slow work outside the consumer's transaction: a job table per service and a worker that
claims jobs with `FOR UPDATE SKIP LOCKED`, computes outside any transaction, and completes
each job (its result, the service's state and its outbox event) in one short transaction.
See docs/guide/patterns.md and ADR 0010.
"""

from shared.jobs.queue import JobQueue, job_table
from shared.jobs.worker import ClaimedJob, JobKind, JobWorker

__all__ = ["ClaimedJob", "JobKind", "JobQueue", "JobWorker", "job_table"]
