"""Attribution service: `uvicorn services.attribution.main:create_app --factory`."""

from fastapi import FastAPI

from services.attribution import api
from services.attribution.clicks.datacentre import DataCentreRanges
from services.attribution.config import AttributionSettings, get_settings
from services.attribution.crediting.performance import PerformanceWorker
from services.attribution.db import SERVICE, OutboxMessage, idempotency
from services.attribution.ledger.worker import ApprovalWorker
from services.attribution.orders.handlers import order_consumer
from shared.app import ServiceContext, create_service_app, outbox_relay
from shared.idempotency import IdempotencyKeyPruner


def workers(ctx: ServiceContext):
    orders = order_consumer(ctx)
    return [
        outbox_relay(ctx, OutboxMessage),
        IdempotencyKeyPruner(idempotency, ctx.sessionmaker),
        ApprovalWorker(ctx.sessionmaker, interval=ctx.settings.ledger_approval_interval_seconds),
        PerformanceWorker(ctx.sessionmaker, interval=ctx.settings.performance_interval_seconds),
        DataCentreRanges(),
        *([orders] if orders is not None else []),
    ]


def create_app(settings: AttributionSettings | None = None) -> FastAPI:
    return create_service_app(
        name=SERVICE,
        settings=settings or get_settings(),
        title="Limelight Attribution",
        description="Campaigns, affiliate codes and tracked links, orders, commissions and ROI.",
        router=api.router,
        workers=workers,
    )
