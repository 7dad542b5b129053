"""Loading step 1: the brands' workspaces and their first API keys, made through `/v1/tenants` with
the operator workspace's key."""

from __future__ import annotations

from rich.progress import Progress

from runtime.seed.api import Api
from runtime.seed.plan import World
from runtime.seed.results import Loaded


async def make_workspaces(world: World, operator: Api, loaded: Loaded, progress: Progress) -> None:
    task = progress.add_task("workspaces and keys", total=len(world.brands))
    for brand in world.brands:
        made = await operator.json("POST", "/v1/tenants", json={"name": brand.name, "plan": "enterprise"})
        loaded.brand_keys.append({"name": brand.name, "tenant_id": made["id"], "key": made["first_key"]["key"]})
        loaded.add("workspaces")
        progress.advance(task)
