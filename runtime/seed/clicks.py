"""Loading step 5: the planned clicks, as `GET /r/{slug}` from each visitor's own loopback address
and user agent; the click ids the redirects carry are kept for the orders."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from rich.progress import Progress

from runtime.seed.api import CONCURRENCY, Api, gather
from runtime.seed.plan import World
from runtime.seed.results import Loaded


async def send_clicks(world: World, gateway: str, loaded: Loaded, progress: Progress) -> None:
    task = progress.add_task("clicks (GET /r/{slug})", total=len(world.clicks))

    async def click(n: int) -> None:
        planned = world.clicks[n]
        api = Api(gateway, local_address=planned.visitor)
        try:
            answer = await api.call("GET", f"/r/{loaded.slugs[(planned.brand, planned.campaign, planned.creator)]}",
                                    ok=(302,), headers={"User-Agent": planned.agent, "Referer": "https://www.instagram.com/"})
        finally:
            await api.close()
        loaded.click_ids[n] = parse_qs(urlsplit(answer.headers["location"]).query)["ll_click"][0]
        loaded.add("bot clicks" if planned.bot else "clicks")
        progress.advance(task)

    await gather(CONCURRENCY, [click(n) for n in range(len(world.clicks))])
    loaded.last_click = time.time()
