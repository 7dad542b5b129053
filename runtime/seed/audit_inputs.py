"""Loading step 3 (alongside the money side): audit's inputs, follower samples and comments, through
its bulk routes, a few thousand creators at a time; lines audit refuses because discovery's events
have not reached it yet are sent again while it catches up."""

from __future__ import annotations

import asyncio
import time

from rich.progress import Progress

from runtime.seed.api import Api, SeedError, in_chunks, ndjson
from runtime.seed.model import SAMPLE_SIZE
from runtime.seed.plan import World
from runtime.seed.results import Loaded

FOLLOWER_LINES = 5_000 // SAMPLE_SIZE * SAMPLE_SIZE
COMMENT_LINES = 10_000
# What audit's bulk routes answer for a line whose creator or post discovery has not announced yet.
UNANNOUNCED = "discovery has not announced it"
# Creators made and sent to audit per step: bounded memory whatever the world's size.
CREATOR_CHUNK = 5_000
# How long the loader waits while audit learns of no new creator or post from discovery's events.
ANNOUNCE_TIMEOUT = 180.0


async def send_audit_inputs(world: World, api: Api, loaded: Loaded, progress: Progress) -> None:
    await _samples(world, api, loaded, progress)
    await _comments(world, api, loaded, progress)


def _creator_chunks(world: World):
    """The creators a few thousand at a time: a big world is made (and sent) a part at a time."""
    for at in range(0, len(world.creators), CREATOR_CHUNK):
        yield world.creators[at:at + CREATOR_CHUNK]


async def _samples(world: World, api: Api, loaded: Loaded, progress: Progress) -> None:
    task = progress.add_task("follower samples (audit)", total=len(world.creators) * SAMPLE_SIZE)
    # A creator's whole sample in one request (a request's lines of one creator are its new
    # version): 5,000 lines a request, whole samples of SAMPLE_SIZE.
    for chunk in _creator_chunks(world):
        lines = [{"creator_id": loaded.creator_ids[c.key], **profile} for c in chunk for profile in c.sample]
        await _until_known(api, "/v1/audit/followers/bulk", lines, FOLLOWER_LINES, "sampled followers", loaded, progress, task)


async def _comments(world: World, api: Api, loaded: Loaded, progress: Progress) -> None:
    task = progress.add_task("comments (audit)", total=None)
    for chunk in _creator_chunks(world):
        lines = [comment for c in chunk for comment in c.comments]
        await _until_known(api, "/v1/audit/comments/bulk", lines, COMMENT_LINES, "comments", loaded, progress, task)
    progress.update(task, total=loaded.counts.get("comments", 0))


async def _until_known(api: Api, path: str, lines: list[dict], per_request: int, label: str, loaded: Loaded,
                       progress: Progress, task) -> None:
    """Post NDJSON lines to audit; the lines whose creator or post audit has not heard of from
    discovery yet are sent again a moment later (events take their time), any other error stops."""
    deadline = time.monotonic() + ANNOUNCE_TIMEOUT
    pending = lines
    while pending:
        retry: list[dict] = []
        before = len(pending)
        chunks = list(in_chunks(pending, per_request))
        for n, chunk in enumerate(chunks):
            if _mostly_unknown(retry, n, per_request):
                # Audit is still reading discovery's events: the rest of this round would be
                # refused too, and parsing it would only slow audit's consumer down.
                retry += [line for later in chunks[n:] for line in later]
                break
            answer = await api.json("POST", path, content=ndjson(chunk), headers={"content-type": "application/x-ndjson"})
            bad = [e for e in answer["errors"] if UNANNOUNCED not in e["reason"]]
            if bad:
                raise SeedError(f"{path} refused lines: {bad[:3]}")
            again = {e["line"] for e in answer["errors"]}
            if answer["failed"] > len(again):
                # The answer lists the first 1,000 errors only: send the whole request again
                # (what it stored is `unchanged` the second time).
                retry += chunk
                continue
            retry += [line for n, line in enumerate(chunk, start=1) if n in again]
            progress.advance(task, len(chunk) - len(again))
            loaded.add(label, len(chunk) - len(again))
        if len(retry) < before:
            # Audit is catching up (a big world takes it minutes): the wait is for progress.
            deadline = time.monotonic() + ANNOUNCE_TIMEOUT
        if retry and time.monotonic() > deadline:
            raise SeedError(f"audit learnt of no new creator or post in {ANNOUNCE_TIMEOUT:.0f} s; {len(retry)} lines are still refused")
        if retry:
            await asyncio.sleep(1.0)
        pending = retry


def _mostly_unknown(refused: list[dict], sent_chunks: int, per_request: int) -> bool:
    """Whether the chunks sent so far this round were nearly all refused as not yet announced."""
    return sent_chunks > 0 and len(refused) > 0.9 * sent_chunks * per_request
