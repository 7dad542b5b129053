"""The pooled client the gateway talks to upstreams with, and the one retry it allows itself."""

import logging
from collections.abc import Callable
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

log = logging.getLogger(__name__)

# A reused connection that the upstream had already closed fails in one of these ways, before
# a single response byte arrives: the request was never seen, so sending it again is safe for
# any method (RFC 9110 section 9.2.2 allows automatic retries only where that holds).
STALE_CONNECTION_ERRORS = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
# Every stale connection found is discarded by the pool, so each retry drains one; the cap only
# bounds a pathological upstream that accepts and drops reused connections forever.
MAX_STALE_RETRIES = 3


def make_client(max_connections: int, keepalive_seconds: float) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=keepalive_seconds,
    )
    # trust_env=False: HTTP_PROXY and friends are for a person's outbound traffic, never for
    # calls between services. A cookie jar that accepts nothing: one client serves every user,
    # so an upstream's Set-Cookie must not be remembered (it is passed through to its client).
    return httpx.AsyncClient(
        limits=limits,
        follow_redirects=False,
        trust_env=False,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )


async def send(client: httpx.AsyncClient, build: Callable[[], httpx.Request], replayable: bool) -> httpx.Response:
    """Send the request built by `build`, streaming the response.

    When a pooled connection turns out to have been closed by the upstream (its keep-alive
    timeout fired as the request went out), the request is sent again, provided its body can
    be replayed. A failure on a connection opened for this request is never retried: that
    upstream may have acted on it.
    """
    attempt = 0
    while True:
        attempt += 1
        opened: list[str] = []

        async def trace(event: str, _info: dict) -> None:
            if event == "connection.connect_tcp.started":
                opened.append(event)

        request = build()
        request.extensions["trace"] = trace
        try:
            return await client.send(request, stream=True)
        except STALE_CONNECTION_ERRORS as exc:
            if opened or not replayable or attempt > MAX_STALE_RETRIES:
                raise
            log.info("upstream closed a reused connection; sending again", extra={"error": type(exc).__name__})
