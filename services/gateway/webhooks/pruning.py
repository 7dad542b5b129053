"""Forgetting accepted delivery ids after `GATEWAY_WEBHOOK_DELIVERY_RETENTION_HOURS` (7 days):
far beyond any partner's retry schedule (Shopify retries for 4 hours), so a retry is still
recognised, while the table stays the size of a week of traffic."""

import asyncio
import logging
from datetime import timedelta

from services.gateway.webhooks.repository import prune_deliveries
from shared.app import ServiceContext
from shared.db import utcnow
from shared.messaging.kafka import sleep_or_stop

log = logging.getLogger(__name__)


class DeliveryPruner:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    async def run(self, stop: asyncio.Event) -> None:
        settings = self.ctx.settings
        while not stop.is_set():
            cutoff = utcnow() - timedelta(hours=settings.gateway_webhook_delivery_retention_hours)
            deleted = await prune_deliveries(self.ctx.sessionmaker, cutoff)
            if deleted:
                log.info("webhook delivery ids pruned", extra={"deleted": deleted})
            await sleep_or_stop(stop, settings.gateway_webhook_prune_interval_seconds)
