"""Loading step 2: the creators, sent to discovery as bulk NDJSON; the ids it gives are kept by
creator key for every later step."""

from __future__ import annotations

from rich.progress import Progress

from runtime.seed.api import Api, SeedError, in_chunks, ndjson
from runtime.seed.plan import World
from runtime.seed.results import Loaded

BULK_LINES = 2_000


async def send_creators(world: World, api: Api, loaded: Loaded, progress: Progress) -> None:
    task = progress.add_task("creators (discovery, bulk NDJSON)", total=len(world.creators))
    for chunk in in_chunks(world.creators, BULK_LINES):
        answer = await api.json("POST", "/v1/discovery/creators/bulk", params={"ids": "true"},
                                content=ndjson([c.line for c in chunk]), headers={"content-type": "application/x-ndjson"})
        if answer["failed"]:
            raise SeedError(f"discovery refused {answer['failed']} creator lines: {answer['errors'][:3]}")
        for line in answer["lines"]:
            loaded.creator_ids[chunk[line["line"] - 1].key] = line["id"]
        loaded.add("creators", len(chunk))
        loaded.add("posts", sum(len(c.line["posts"]) for c in chunk))
        loaded.add("follower points", sum(len(c.line["follower_points"]) + 1 for c in chunk))
        progress.advance(task, len(chunk))
