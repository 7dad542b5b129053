"""The traffic policy for the gateway's lifetime: built from the settings into `app.state.traffic`,
with the pruning of idle shared buckets running beside it."""

import asyncio
import logging
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.config import GatewaySettings
from services.gateway.traffic.leases import SharedLimiter
from services.gateway.traffic.limits import LocalLimiter, PlanLimit
from services.gateway.traffic.models import RateBucket
from services.gateway.traffic.policy import TrafficPolicy
from shared.housekeeping import delete_expired
from shared.messaging.kafka import sleep_or_stop

log = logging.getLogger(__name__)

PRUNE_INTERVAL_SECONDS = 60.0


def idle_horizon(plans: dict[str, PlanLimit]) -> timedelta:
    """How long a bucket must sit unused before deleting it changes nothing: by then it has refilled
    completely, and a missing bucket starts full. A minute at least."""
    return timedelta(seconds=max(60.0, max(limit.burst / limit.rate for limit in plans.values()) * 2))


async def prune_idle_buckets(sessionmaker: async_sessionmaker[AsyncSession], horizon: timedelta) -> int:
    """Delete the shared buckets unused for `horizon`; how many went."""
    table = RateBucket.__table__
    idle = table.c.refilled_at < func.now() - horizon
    return await delete_expired(sessionmaker, table, idle, lock="gateway.rate_buckets")


async def prune_buckets(app: FastAPI, horizon: timedelta, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await prune_idle_buckets(app.state.ctx.sessionmaker, horizon)
        except Exception as exc:  # noqa: BLE001 - pruning waits for the next round; requests are unaffected
            log.warning("rate limits: pruning idle buckets failed", extra={"error": type(exc).__name__})
        await sleep_or_stop(stop, PRUNE_INTERVAL_SECONDS)


@asynccontextmanager
async def traffic_policy(app: FastAPI, settings: GatewaySettings):
    app.state.traffic = TrafficPolicy(
        keys=SharedLimiter(
            app.state.ctx.engine,
            lease_seconds=settings.gateway_rate_limit_lease_seconds,
            timeout=settings.gateway_rate_limit_db_timeout_seconds,
        ),
        addresses=LocalLimiter(),
        plans=settings.gateway_rate_limits,
        address_limit=settings.gateway_address_rate_limit,
        max_body_bytes=settings.gateway_max_body_bytes,
        max_webhook_body_bytes=settings.gateway_max_webhook_body_bytes,
        bulk_routes=frozenset(settings.gateway_bulk_routes),
        max_bulk_body_bytes=settings.gateway_max_bulk_body_bytes,
        cors_origins=tuple(settings.gateway_cors_origins),
        cors_max_age=settings.gateway_cors_max_age_seconds,
        tenant_multiplier=settings.gateway_tenant_rate_multiplier,
        webhook_address_limit=settings.gateway_webhook_address_rate_limit,
        webhook_source_limit=settings.gateway_webhook_source_rate_limit,
    )
    stop = asyncio.Event()
    pruner = asyncio.create_task(prune_buckets(app, idle_horizon(settings.gateway_rate_limits), stop))
    try:
        yield app.state.traffic
    finally:
        stop.set()
        await pruner
