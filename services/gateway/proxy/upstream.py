"""The pooled connections the gateway talks to upstreams over, and the one retry it allows itself.

Proxied requests go through `UpstreamPool` (aiohttp): httpx's client stack cost ~1.3 ms of CPU
per request against ~0.1 ms for aiohttp's, most of the gateway's own time on a small read
(docs/decisions/0016-gateway-fast-path.md). `make_client` (httpx) is only for the merged
reference's occasional fetches of each upstream's OpenAPI document.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import SimpleNamespace

import aiohttp
import httpx
from multidict import CIMultiDict
from yarl import URL

log = logging.getLogger(__name__)

# A reused connection that the upstream had already closed fails in one of these ways, before
# a single response byte arrives: the request was never seen, so sending it again is safe for
# any method (RFC 9110 section 9.2.2 allows automatic retries only where that holds).
STALE_CONNECTION_ERRORS = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)
# Every stale connection found is discarded by the pool, so each retry drains one; the cap only
# bounds a pathological upstream that accepts and drops reused connections forever.
MAX_STALE_RETRIES = 3
# Headers aiohttp would add on its own: the upstream sees exactly what the client sent (Host
# aside, which HTTP/1.1 requires and which names the upstream).
NOT_ADDED = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


class PoolBusy(Exception):
    """Every pooled connection stayed in use for the route's whole timeout."""


def make_client(max_connections: int, keepalive_seconds: float) -> httpx.AsyncClient:
    """The merged reference's client (a few cached fetches, never a proxied request)."""
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=keepalive_seconds,
    )
    # trust_env=False: HTTP_PROXY and friends are for a person's outbound traffic, never for
    # calls between services. A cookie jar that accepts nothing: nothing is kept between calls.
    return httpx.AsyncClient(
        limits=limits,
        follow_redirects=False,
        trust_env=False,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )


async def _connection_opened(_session, context: SimpleNamespace, _params) -> None:
    context.trace_request_ctx.opened = True


class Exchange:
    """One upstream response and the pool slot it holds, released together exactly once."""

    __slots__ = ("response", "_slot")

    def __init__(self, response: aiohttp.ClientResponse, slot: asyncio.Semaphore):
        self.response = response
        self._slot: asyncio.Semaphore | None = slot

    async def read(self) -> bytes:
        """The whole (still encoded) body; the connection goes back to the pool either way."""
        try:
            return await self.response.read()
        finally:
            self.close()

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self.response.content.iter_any():
            yield chunk

    def close(self) -> None:
        """Synchronous, so a cancelled task (the client hung up) still runs it to the end: a
        fully read response's connection returns to the pool, anything else is closed."""
        self.response.release()
        if self._slot is not None:
            self._slot.release()
            self._slot = None


class UpstreamPool:
    """Keep-alive connections to every upstream, at most `max_connections` in use at once."""

    def __init__(self, max_connections: int, keepalive_seconds: float):
        self._slots = asyncio.Semaphore(max_connections)
        trace = aiohttp.TraceConfig()
        trace.on_connection_create_start.append(_connection_opened)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections, limit_per_host=0, keepalive_timeout=keepalive_seconds),
            # One session serves every user: an upstream's Set-Cookie is passed through to its
            # client, never remembered, and no cookie is ever added to a request.
            cookie_jar=aiohttp.DummyCookieJar(),
            # The body goes to the client as the upstream encoded it.
            auto_decompress=False,
            # HTTP_PROXY and friends are for a person's outbound traffic, never between services.
            trust_env=False,
            skip_auto_headers=NOT_ADDED,
            trace_configs=[trace],
        )
        # aiohttp sends an idempotent request again once when its connection fails, even one it
        # opened for that request; `send` retries only on reused connections, whatever the method.
        self._session._retry_connection = False

    async def __aenter__(self) -> "UpstreamPool":
        return self

    async def __aexit__(self, *_) -> None:
        await self._session.close()

    async def send(
        self,
        method: str,
        url: URL,
        headers: Iterable[tuple[str, str]],
        body: bytes | AsyncIterator[bytes] | None,
        *,
        replayable: bool,
        timeout: float,
    ) -> Exchange:
        """Send the request and return once the response head arrived; the body is the caller's.

        When a pooled connection turns out to have been closed by the upstream (its keep-alive
        timeout fired as the request went out), the request is sent again, provided its body can
        be replayed. A failure on a connection opened for this request is never retried: that
        upstream may have acted on it.
        """
        slots = self._slots
        if slots.locked():
            try:
                await asyncio.wait_for(slots.acquire(), timeout)
            except TimeoutError as exc:
                raise PoolBusy from exc
        else:
            await slots.acquire()
        limits = aiohttp.ClientTimeout(total=None, connect=None, sock_connect=timeout, sock_read=timeout)
        attempt = 0
        try:
            while True:
                attempt += 1
                trace = SimpleNamespace(opened=False)
                try:
                    response = await self._session.request(
                        method, url, headers=CIMultiDict(headers), data=body, timeout=limits,
                        allow_redirects=False, trace_request_ctx=trace,
                    )
                    return Exchange(response, slots)
                except STALE_CONNECTION_ERRORS as exc:
                    if trace.opened or not replayable or attempt > MAX_STALE_RETRIES or isinstance(
                        exc, aiohttp.ClientConnectorError
                    ):
                        raise
                    log.info("upstream closed a reused connection; sending again", extra={"error": type(exc).__name__})
        except BaseException:
            slots.release()
            raise
