"""Responses that own their upstream exchange and release it however the exchange ends."""

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from services.gateway.proxy.upstream import Exchange


class UpstreamResponse(StreamingResponse):
    """Streams an upstream body to the client, then always gives its connection back.

    Releasing in a generator's `finally` is not enough: a generator that never started (the
    client left before the first chunk) has no `finally` to run, and one abandoned mid-body is
    closed only when it is garbage-collected. Either way the pooled connection stays checked
    out, and after `UPSTREAM_MAX_CONNECTIONS` of them every request waits out the pool timeout.
    """

    def __init__(self, exchange: Exchange, headers: list[tuple[bytes, bytes]]):
        super().__init__(exchange.chunks(), status_code=exchange.response.status)
        self.raw_headers = headers
        self.exchange = exchange

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Synchronous: runs to the end even in a task being cancelled (the client hung up).
            self.exchange.close()
