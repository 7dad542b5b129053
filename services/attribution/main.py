"""Attribution service: `uvicorn services.attribution.main:create_app --factory`."""

from fastapi import FastAPI

from services.attribution import api
from shared.clicks.datacentre import DataCentreRanges
from services.attribution.clicks.endpoints import ClickEdge
from services.attribution.config import AttributionSettings, get_settings
from services.attribution.crediting.performance import PerformanceWorker
from services.attribution.db import SERVICE, OutboxMessage, idempotency
from services.attribution.ledger.worker import ApprovalWorker
from services.attribution.orders.handlers import order_consumer, privacy_consumer
from services.attribution.privacy.retention import RetentionWorker
from services.attribution.reports.worker import ReportTotalsWorker
from shared.app import ServiceContext, create_service_app, outbox_relay
from shared.idempotency import IdempotencyKeyPruner


def workers(ctx: ServiceContext):
    orders = order_consumer(ctx)
    privacy = privacy_consumer(ctx)
    return [
        outbox_relay(ctx, OutboxMessage),
        IdempotencyKeyPruner(idempotency, ctx.sessionmaker),
        ApprovalWorker(ctx.sessionmaker, interval=ctx.settings.ledger_approval_interval_seconds),
        PerformanceWorker(ctx.sessionmaker, interval=ctx.settings.performance_interval_seconds),
        ReportTotalsWorker(ctx.sessionmaker, interval=ctx.settings.report_totals_interval_seconds),
        DataCentreRanges(),
        RetentionWorker(ctx.sessionmaker, ctx.settings.click_retention_days, ctx.settings.retention_interval_seconds),
        *([orders] if orders is not None else []),
        *([privacy] if privacy is not None else []),
    ]


# PostgreSQL settings of attribution's connections: a random page read costs about a sequential
# one on the SSDs this runs on (PostgreSQL's 4.0 assumes spinning disks). With 4.0 a campaign's
# report joined its 10,000 orders by hashing all of the tenant's 900,000 (a sequential scan,
# 120 ms) instead of looking each one up by its key (35 ms); bench/attribution_report.py.
DB_SETTINGS = {"random_page_cost": "1.1", "plan_cache_mode": "force_custom_plan"}


def create_app(settings: AttributionSettings | None = None) -> FastAPI:
    return create_service_app(
        db_settings=DB_SETTINGS,
        name=SERVICE,
        settings=settings or get_settings(),
        title="Limelight Attribution",
        description="Campaigns, affiliate codes and tracked links, orders, commissions and ROI.",
        router=api.router,
        workers=workers,
        # The click redirect, answered before FastAPI's routing (clicks/endpoints.py).
        edge=[ClickEdge],
    )
