"""Responses that own their upstream response and close it however the exchange ends."""

import anyio
import httpx
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send


class UpstreamResponse(StreamingResponse):
    """Streams an upstream body to the client, then always returns its connection to the pool.

    Closing in a generator's `finally` is not enough: a generator that never started (the
    client left before the first chunk) has no `finally` to run, and one abandoned mid-body is
    closed only when it is garbage-collected. Either way the pooled connection stays checked
    out, and after `UPSTREAM_MAX_CONNECTIONS` of them every request waits out the pool timeout.
    """

    def __init__(self, upstream: httpx.Response, headers: list[tuple[bytes, bytes]]):
        super().__init__(upstream.aiter_raw(), status_code=upstream.status_code)
        self.raw_headers = headers
        self.upstream = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Shielded: when the client hung up, this task is being cancelled, and an unshielded
            # await would be cancelled before the connection was released.
            with anyio.CancelScope(shield=True):
                await self.upstream.aclose()


async def read_body(upstream: httpx.Response) -> bytes:
    """The whole (still encoded) upstream body; the connection goes back to the pool either way."""
    try:
        return b"".join([chunk async for chunk in upstream.aiter_raw()])
    finally:
        with anyio.CancelScope(shield=True):
            await upstream.aclose()
