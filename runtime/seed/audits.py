"""Loading step 7: once audit's pods job has seen the planted pods, an audit requested for every
creator."""

from __future__ import annotations

import asyncio
import time

from rich.progress import Progress

from runtime.seed.api import CONCURRENCY, Api, gather
from runtime.seed.plan import World
from runtime.seed.results import Loaded


async def request_audits(world: World, api: Api, loaded: Loaded, progress: Progress) -> None:
    """An audit of every creator, once audit has found the engagement pods in the new comments
    (its pods job runs a few seconds after comments stop arriving)."""
    members = {loaded.creator_ids[world.creators.key(i)] for i in world.creators.indices_of("engagement_pod")}
    task = progress.add_task("pod creators seen by audit's pods job", total=len(members))
    deadline = time.monotonic() + 120
    while True:
        covered, cursor = set(), None
        while True:
            found = await api.json("GET", "/v1/audit/pods", params={"limit": 200, **({"cursor": cursor} if cursor else {})})
            covered |= members & {str(c) for p in found["items"] for c in p["creators"]}
            cursor = found.get("next_cursor")
            if not cursor:
                break
        progress.update(task, completed=len(covered))
        if covered == members or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    task = progress.add_task("audits requested", total=len(world.creators))

    async def audit(key: str) -> None:
        made = await api.json("POST", "/v1/audit/audits", json={"creator_id": loaded.creator_ids[key]}, ok=(200, 201, 202))
        loaded.audits.append(made["id"])
        progress.advance(task)

    await gather(CONCURRENCY, [audit(key) for key in loaded.creator_ids])
    loaded.add("audits requested", len(world.creators))
