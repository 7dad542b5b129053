"""Discovery service: `uvicorn services.discovery.main:create_app --factory`."""

from fastapi import FastAPI

from services.discovery import api
from services.discovery.brandfit.peers import PeerMediansRefresher
from services.discovery.config import DiscoverySettings, get_settings
from services.discovery.creator.handlers import audit_consumer
from services.discovery.db import SERVICE, OutboxMessage, idempotency
from shared.app import ServiceContext, create_service_app, outbox_relay
from shared.idempotency import IdempotencyKeyPruner


def workers(ctx: ServiceContext):
    return [
        outbox_relay(ctx, OutboxMessage),
        audit_consumer(ctx),
        IdempotencyKeyPruner(idempotency, ctx.sessionmaker),
        PeerMediansRefresher(ctx.engine),
    ]


def create_app(settings: DiscoverySettings | None = None) -> FastAPI:
    return create_service_app(
        name=SERVICE,
        settings=settings or get_settings(),
        title="Limelight Discovery",
        description="Search the creator index across platforms.",
        router=api.router,
        workers=workers,
    )
