"""Webhook sources made through the gateway's API, deliveries signed as each partner signs them,
and a reader of what reached `gateway.webhook.v1` on the suite's real Kafka."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass

import asyncpg
import httpx
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.contracts.catalog import CATALOG

TOPIC = "gateway.webhook.v1"
PARTITIONS = next(topic.partitions for topic in CATALOG if topic.name == TOPIC)


@dataclass(frozen=True)
class Source:
    id: str
    kind: str
    secret: str
    shop_domain: str | None
    url: str


def shopify_headers(secret: str, body: bytes, *, topic: str, shop: str, webhook_id: str | None = None) -> dict:
    """The headers Shopify sends: X-Shopify-Hmac-Sha256 is base64 of the HMAC-SHA256 of the raw body."""
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode(),
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-11-26T14:03:12.413021Z",
        "X-Shopify-API-Version": "2025-10",
    }


def generic_headers(
    secrets: str | list[str], body: bytes, *, t: int | None = None, delivery_id: str | None = "auto", event: str = "order.created"
) -> dict:
    """`Limelight-Signature: t=...,v1=...` with one v1 per secret."""
    t = int(time.time()) if t is None else t
    signatures = ",".join(
        "v1=" + hmac.new(s.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        for s in ([secrets] if isinstance(secrets, str) else secrets)
    )
    headers = {"Content-Type": "application/json", "Limelight-Signature": f"t={t},{signatures}", "Limelight-Event": event}
    if delivery_id is not None:
        headers["Limelight-Delivery-Id"] = str(uuid.uuid4()) if delivery_id == "auto" else delivery_id
    return headers


def unique_shop() -> str:
    return f"shop-{uuid.uuid4().hex[:10]}.myshopify.com"


def shopify_secret() -> str:
    return "shpss_" + uuid.uuid4().hex


async def create_shopify_source(client: httpx.AsyncClient, *, shop: str | None = None, secret: str | None = None) -> Source:
    shop, secret = shop or unique_shop(), secret or shopify_secret()
    response = await client.post(
        "/v1/webhook-sources", json={"kind": "shopify", "name": "Acme store", "shop_domain": shop, "secret": secret}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["secret"] is None
    return Source(body["id"], "shopify", secret, body["shop_domain"], body["url"])


async def create_generic_source(client: httpx.AsyncClient) -> Source:
    response = await client.post("/v1/webhook-sources", json={"kind": "generic", "name": "Partner platform"})
    assert response.status_code == 201, response.text
    body = response.json()
    return Source(body["id"], "generic", body["secret"], None, body["url"])


async def published(platform, source_id: str) -> list[dict]:
    """Every envelope on gateway.webhook.v1 keyed by `source_id`, in offset order.

    The gateway answers 200 only after acks=all, so whatever it accepted is already below the end
    offsets read here: no waiting is needed, and none would hide a late duplicate.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=platform.s.kafka_bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(TOPIC, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        first = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        records = []
        for tp in partitions:
            # An explicit seek: seek_to_beginning() races the reset that assign() started (runtime/dlq.py).
            consumer.seek(tp, first[tp])
            while await consumer.position(tp) < end[tp]:
                batch = await consumer.getmany(tp, timeout_ms=2000)
                records += [r for r in batch.get(tp, []) if r.offset < end[tp]]
        return [json.loads(r.value) | {"_headers": dict(r.headers)} for r in records if r.key == source_id.encode()]
    finally:
        await consumer.stop()


@pytest_asyncio.fixture(scope="session")
async def gateway_db(service_dsn):
    pool = await asyncpg.create_pool(service_dsn("gateway"), min_size=1, max_size=2)
    yield pool
    await pool.close()
