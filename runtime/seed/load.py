"""`limelight seed`: load a `plan.World` into a running platform through its public API only.

Every write goes through the gateway, as a frontend, a partner or a shopper would send it: the
brands' workspaces through `/v1/tenants` (with the operator workspace's key), creators as bulk
NDJSON, follower samples and comments through audit's bulk routes, campaigns, codes and links
through attribution, clicks through `GET /r/{slug}` from a visitor address of their own, and
orders, updates, refunds and cancellations as webhooks signed as Shopify signs them. The one step
that is not an API call is the operator workspace itself when no key is given: it is made as
`limelight admin create-tenant --operator` makes it, the installation's documented first step.

A seed is an ordinary client: it retries a 429 after its `Retry-After` and a 503 a few times, and
stops on anything else that is not a success, naming the call.

The steps are modules of their own (workspaces, discovery, audit_inputs, campaigns, clicks, orders,
audits); this one runs them in order, audit's inputs alongside the money side.
"""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from runtime.seed.api import Api
from runtime.seed.audit_inputs import send_audit_inputs
from runtime.seed.audits import request_audits
from runtime.seed.campaigns import make_campaigns
from runtime.seed.clicks import send_clicks
from runtime.seed.discovery import send_creators
from runtime.seed.orders import send_orders
from runtime.seed.plan import World
from runtime.seed.results import Loaded
from runtime.seed.workspaces import make_workspaces


async def load(world: World, gateway: str, operator_key: str, *, console: Console | None = None,
               audits: bool = True) -> Loaded:
    console = console or Console(stderr=True)
    loaded = Loaded()
    operator = Api(gateway, operator_key)
    brand_apis: list[Api] = []
    progress = Progress(TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=False)
    try:
        with progress:
            await make_workspaces(world, operator, loaded, progress)
            brand_apis = [Api(gateway, brand["key"]) for brand in loaded.brand_keys]
            main = brand_apis[0]
            await send_creators(world, main, loaded, progress)
            # Audit learns of the new creators and posts from discovery's events, which takes a
            # while for thousands: the money side (which needs only the ids) goes on meanwhile.
            audit_side = asyncio.ensure_future(send_audit_inputs(world, main, loaded, progress))
            try:
                shops = await make_campaigns(world, brand_apis, loaded, progress)
                await send_clicks(world, gateway, loaded, progress)
                await send_orders(world, gateway, shops, loaded, progress)
            finally:
                await audit_side
            if audits:
                await request_audits(world, main, loaded, progress)
    finally:
        await operator.close()
        for api in brand_apis:
            await api.close()
    return loaded
