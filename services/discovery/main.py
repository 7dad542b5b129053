"""Discovery service: `uvicorn services.discovery.main:create_app --factory`."""

from fastapi import FastAPI

from services.discovery import api
from services.discovery.brandfit.peers import PeerMediansRefresher
from services.discovery.config import DiscoverySettings, get_settings
from services.discovery.creator.handlers import audit_consumer, performance_consumer
from services.discovery.db import SERVICE, OutboxMessage, idempotency
from services.discovery.embedding.worker import EmbeddingWorker
from services.discovery.privacy.handlers import privacy_consumer
from shared.app import ServiceContext, create_service_app, outbox_relay
from shared.idempotency import IdempotencyKeyPruner


def workers(ctx: ServiceContext):
    settings: DiscoverySettings = ctx.settings
    running = [
        outbox_relay(ctx, OutboxMessage),
        audit_consumer(ctx),
        performance_consumer(ctx),
        privacy_consumer(ctx),
        IdempotencyKeyPruner(idempotency, ctx.sessionmaker),
        PeerMediansRefresher(ctx.engine),
    ]
    if settings.embedding_worker_enabled:
        running.append(
            EmbeddingWorker(
                ctx.sessionmaker,
                batch_size=settings.embedding_worker_batch_size,
                poll_interval=settings.embedding_worker_poll_interval_ms / 1000,
            )
        )
    return running


# PostgreSQL settings of discovery's connections (docs/decisions/0025-search-at-a-million.md):
# - a custom plan for every execution: search statements are prepared once per connection and,
#   after five runs, PostgreSQL may switch to a generic plan that ignores the values; a filter
#   matching 0.5 % and one matching 50 % then get the same plan (seconds at 1M creators);
# - bitmaps of a few hundred thousand rows (a common country, a broad word) stay exact instead
#   of lossy (4MB, the default, turns them into page ranges whose every row is rechecked).
DB_SETTINGS = {"plan_cache_mode": "force_custom_plan", "work_mem": "32MB"}


def create_app(settings: DiscoverySettings | None = None) -> FastAPI:
    return create_service_app(
        name=SERVICE,
        settings=settings or get_settings(),
        title="Limelight Discovery",
        description="Search the creator index across platforms.",
        router=api.router,
        workers=workers,
        db_settings=DB_SETTINGS,
    )
