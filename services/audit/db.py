from shared.db import make_base
from shared.jobs import JobQueue, job_table
from shared.messaging.outbox import Outbox, messaging_tables

SCHEMA = "audit"
SERVICE = "audit"

Base = make_base(SCHEMA)
OutboxMessage, ProcessedEvent = messaging_tables(Base)
outbox = Outbox(OutboxMessage, producer=SERVICE)
Job = job_table(Base)
jobs = JobQueue(Job)
