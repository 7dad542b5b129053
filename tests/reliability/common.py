"""The reliability suite's shared parts: its constants, result rows, platform and the brands it sets up through the public API."""

import logging
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from rich.console import Console

from runtime import procs
from runtime.config import ROOT, RuntimeSettings
from runtime.seed.api import Api, ndjson
from shared.contracts.catalog import dlq_topic
from tests.reliability.traffic import Shop


WEBHOOKS = "gateway.webhook.v1"
WEBHOOK_DLQ = dlq_topic(WEBHOOKS, "attribution")
CLICKS = "attribution.click.v1"
UNDECODABLE = b"\x00not an envelope "
RESULTS = ROOT / ".limelight" / "reliability-results"
CREATORS = 12
PERCENT = 10
# The load is one shop's synthetic traffic from one address: the gateway's limits and the fraud
# rules' velocity and leaked-code thresholds are raised out of its way (both are set as an
# operator or a brand would set them, through configuration and the API).
SUITE_ENV = {
    "GATEWAY_RATE_LIMITS": '{"standard": {"rate": 100000, "burst": 100000}}',
    "GATEWAY_ADDRESS_RATE_LIMIT": '{"rate": 100000, "burst": 100000}',
    "LOG_LEVEL": "INFO",
}
LOAD_THRESHOLDS = {"velocity_min_orders": 1_000_000, "leaked_min_orders": 1_000_000, "new_customer_excess": 1.0,
                   "unusual_country_share": 1.0}

console = Console(stderr=True)
# The broker's clients narrate every failed connection while it is down on purpose.
logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def say(message: str) -> None:
    console.print(message, highlight=False)


@dataclass
class Row:
    check: str
    faults: int = 0
    sent: int = 0
    acknowledged: int = 0
    lost: int | None = 0
    duplicated: int | None = 0
    errors_5xx: int = 0
    errors_500: int = 0
    recovery: float | None = None
    note: str = ""
    passed: bool = True


@dataclass
class Brand:
    name: str
    key: str
    tenant_id: str
    shop: Shop
    campaign_id: str = ""
    codes: list[tuple[str, str]] = field(default_factory=list)  # (code, creator id)
    slugs: list[str] = field(default_factory=list)


# -- the platform ------------------------------------------------------------------------------
def suite_settings(base: int, state: str) -> RuntimeSettings:
    if any(procs.port_in_use(port) for port in (base, base + 4, base + 1092)):
        raise SystemExit(f"ports from {base} are in use (another reliability run?); choose another --port-base")
    settings = RuntimeSettings(
        state_dir=ROOT / ".limelight" / state,
        kafka_port=base + 1092, kafka_controller_port=base + 1093,
        gateway_port=base, discovery_port=base + 1, audit_port=base + 2, attribution_port=base + 3,
        gateway_operator_port=base + 4,
    )
    for folder in ("kafka", "postgres", "run", "logs", "seed"):
        shutil.rmtree(settings.state_dir / folder, ignore_errors=True)
    return settings


# -- set-up through the public API ---------------------------------------------------------------
async def make_brand(operator: Api, gateway: str, name: str, creator_ids: list[str] | None, *, links: bool) -> tuple[Brand, list[str]]:
    made = await operator.json("POST", "/v1/tenants", json={"name": name, "plan": "enterprise"})
    api = Api(gateway, made["first_key"]["key"])
    try:
        if creator_ids is None:
            run = uuid.uuid4().hex[:8]
            lines = [{"accounts": [{"platform": "instagram", "handle": f"rel{run}{i}", "followers": 20_000 + 1000 * i}],
                      "display_name": f"Reliability creator {i}", "bio": f"{SEARCH_WORDS[i % len(SEARCH_WORDS)]} every week",
                      "niches": ["fitness"], "country": "US", "languages": ["en"]} for i in range(CREATORS)]
            answer = await api.json("POST", "/v1/discovery/creators/bulk", params={"ids": "true"}, content=ndjson(lines),
                                    headers={"content-type": "application/x-ndjson"})
            if answer["failed"]:
                raise SystemExit(f"discovery refused the suite's creators: {answer['errors'][:3]}")
            creator_ids = [line["id"] for line in answer["lines"]]
        secret = "shpss_" + uuid.uuid4().hex
        domain = f"{re.sub('[^a-z]', '', name.lower())}-{uuid.uuid4().hex[:6]}.myshopify.com"
        source = await api.json("POST", "/v1/webhook-sources", json={
            "kind": "shopify", "name": f"{name} store", "shop_domain": domain, "secret": secret})
        brand = Brand(name, made["first_key"]["key"], made["id"], Shop(source["id"], secret, domain))
        await api.call("PUT", "/v1/attribution/fraud/settings", json=LOAD_THRESHOLDS)
        today = datetime.now(timezone.utc).date()
        campaign = await api.json("POST", "/v1/attribution/campaigns", json={
            "name": f"{name} campaign", "brand": name, "starts_on": (today - timedelta(days=30)).isoformat(),
            "ends_on": (today + timedelta(days=365)).isoformat(), "budget": 100_000_000, "currency": "USD"})
        brand.campaign_id = campaign["id"]
        await api.call("PATCH", f"/v1/attribution/campaigns/{brand.campaign_id}", json={"status": "active"})
        await api.call("POST", f"/v1/attribution/campaigns/{brand.campaign_id}/rules",
                       json={"percent": str(PERCENT), "holding_days": 30})
        for i, creator_id in enumerate(creator_ids):
            await api.call("POST", f"/v1/attribution/campaigns/{brand.campaign_id}/creators",
                           json={"creator_id": creator_id, "deal_type": "affiliate"})
            code = f"REL{i:02d}X"
            await api.call("POST", "/v1/attribution/codes", json={
                "campaign_id": brand.campaign_id, "creator_id": creator_id, "code": code})
            brand.codes.append((code, creator_id))
            if links:
                link = await api.json("POST", "/v1/attribution/links", json={
                    "campaign_id": brand.campaign_id, "creator_id": creator_id, "platform": "instagram",
                    "destination": "https://shop.example/products/featured"})
                brand.slugs.append(link["slug"])
        return brand, creator_ids
    finally:
        await api.close()


SEARCH_WORDS = ("vegan baking", "running shoes", "skincare routine", "travel on a budget", "home workouts")

