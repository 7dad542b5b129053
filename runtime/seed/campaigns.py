"""Loading step 4: each brand's Shopify webhook source, campaigns with their commission rule, and
every enrolled creator's enrolment, code and tracked link; the brand's registered creator e-mails."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from rich.progress import Progress

from runtime.seed.api import CONCURRENCY, Api, gather
from runtime.seed.model import HOLDING_DAYS, PERCENT
from runtime.seed.plan import World
from runtime.seed.results import Loaded


@dataclass
class Shop:
    source_id: str
    secret: str
    domain: str


async def make_campaigns(world: World, apis: list[Api], loaded: Loaded, progress: Progress) -> list[Shop]:
    total = sum(len(c.creators) for b in world.brands for c in b.campaigns)
    task = progress.add_task("campaigns, codes and links", total=total)
    shops = []
    today = world.anchor.date()
    for b, (brand, api) in enumerate(zip(world.brands, apis)):
        secret = "shpss_" + hashlib.sha256(f"{world.seed}:{brand.name}".encode()).hexdigest()[:32]
        source = await api.json("POST", "/v1/webhook-sources", json={
            "kind": "shopify", "name": f"{brand.name} store", "shop_domain": brand.shop_domain, "secret": secret})
        shops.append(Shop(source["id"], secret, brand.shop_domain))
        loaded.add("webhook sources")
        ids = []
        for c, campaign in enumerate(brand.campaigns):
            made = await api.json("POST", "/v1/attribution/campaigns", json={
                "name": campaign.name, "brand": brand.name, "starts_on": (today - timedelta(days=30)).isoformat(),
                "ends_on": (today + timedelta(days=365)).isoformat(), "budget": 5_000_000, "currency": brand.currency})
            campaign_id = made["id"]
            ids.append(campaign_id)
            await api.call("PATCH", f"/v1/attribution/campaigns/{campaign_id}", json={"status": "active"})
            await api.call("POST", f"/v1/attribution/campaigns/{campaign_id}/rules",
                           json={"percent": str(PERCENT), "holding_days": HOLDING_DAYS})
            loaded.add("campaigns")

            async def enrol(key: str, campaign=campaign, campaign_id=campaign_id, brand=brand, api=api):
                creator_id = loaded.creator_ids[key]
                await api.call("POST", f"/v1/attribution/campaigns/{campaign_id}/creators",
                               json={"creator_id": creator_id, "deal_type": "affiliate"})
                await api.call("POST", "/v1/attribution/codes",
                               json={"campaign_id": campaign_id, "creator_id": creator_id, "code": campaign.codes[key]})
                link = await api.json("POST", "/v1/attribution/links", json={
                    "campaign_id": campaign_id, "creator_id": creator_id, "platform": key.split(":")[0],
                    "destination": f"https://{brand.shop_domain.split('.')[0]}.example/products/featured"})
                progress.advance(task)
                return key, link["slug"]

            for key, slug in await gather(CONCURRENCY, [enrol(k) for k in campaign.creators]):
                loaded.slugs[(b, c, key)] = slug
            loaded.add("enrolments", len(campaign.creators))
            loaded.add("codes", len(campaign.creators))
            loaded.add("links", len(campaign.creators))
        loaded.campaign_ids.append(ids)
        for key, email in brand.customer_keys.items():
            await api.call("POST", f"/v1/attribution/creators/{loaded.creator_ids[key]}/customer-keys", json={"email": email})
            loaded.add("creator customer keys")
    return shops
