"""The seed as an HTTP client of the gateway: `Api` (bearer key, idempotency keys, retries of 429 and
502-504), the error that stops a seed, and the helpers every loading step shares (NDJSON bodies,
chunks, bounded concurrency)."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx

CONCURRENCY = 16


class SeedError(RuntimeError):
    pass


class Api:
    def __init__(self, base: str, key: str | None = None, local_address: str | None = None):
        transport = httpx.AsyncHTTPTransport(local_address=local_address) if local_address else None
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.AsyncClient(base_url=base, headers=headers, timeout=300, transport=transport)
        self.run = uuid.uuid4()  # the idempotency keys' namespace: one per client, so a new seed writes anew

    async def close(self) -> None:
        await self.client.aclose()

    async def call(self, method: str, path: str, *, ok=(200, 201), **kwargs) -> httpx.Response:
        if method == "POST" and "json" in kwargs:
            # A 502/503/504 may come after the write was done: the retry carries the same key, so
            # the API answers the stored result instead of writing twice (NDJSON bulk posts are
            # sent again on purpose, for their refused lines, and are themselves idempotent).
            body = json.dumps(kwargs["json"], sort_keys=True)
            kwargs["headers"] = {**kwargs.get("headers", {}),
                                 "Idempotency-Key": str(uuid.uuid5(self.run, f"{path}\n{body}"))}
        for attempt in range(8):
            answer = await self.client.request(method, path, **kwargs)
            if answer.status_code == 429:
                await asyncio.sleep(min(5.0, float(answer.headers.get("Retry-After", "1") or 1)))
                continue
            if answer.status_code in (502, 503, 504) and attempt < 7:
                await asyncio.sleep(0.5 * (attempt + 1))
                continue
            if answer.status_code not in ok:
                raise SeedError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
            return answer
        raise SeedError(f"{method} {path}: still refused after retries ({answer.status_code})")

    async def json(self, method: str, path: str, **kwargs) -> dict:
        return (await self.call(method, path, **kwargs)).json()


def ndjson(lines: list[dict]) -> bytes:
    return ("\n".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")) for line in lines) + "\n").encode()


def in_chunks(items: list, size: int):
    for at in range(0, len(items), size):
        yield items[at:at + size]


async def gather(limit: int, coroutines) -> list:
    gate = asyncio.Semaphore(limit)

    async def one(coroutine):
        async with gate:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))
