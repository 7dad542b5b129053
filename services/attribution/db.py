from shared.db import make_base
from shared.idempotency import Idempotency, idempotency_table
from shared.messaging.outbox import Outbox, messaging_tables

SCHEMA = "attribution"
SERVICE = "attribution"

Base = make_base(SCHEMA)
OutboxMessage, ProcessedEvent = messaging_tables(Base)
outbox = Outbox(OutboxMessage, producer=SERVICE)
IdempotencyKey = idempotency_table(Base)
idempotency = Idempotency(IdempotencyKey)
