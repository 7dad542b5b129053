"""Request body limits: 413 before reading a byte when Content-Length says too much, and for
chunked bodies a count of what arrives, stopping the request as soon as it passes the limit (the
body is never gathered here: the proxy streams it on)."""

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.traffic.policy import TrafficPolicy
from services.gateway.traffic.responses import payload_too_large

log = logging.getLogger(__name__)

WEBHOOK_PREFIX = "/webhooks/"


def _limit(policy: TrafficPolicy, path: str) -> int:
    if path.startswith(WEBHOOK_PREFIX):
        return policy.max_webhook_body_bytes
    if path in policy.bulk_routes:  # exact paths: a bulk body is welcome there and nowhere else
        return max(policy.max_bulk_body_bytes, policy.max_body_bytes)
    return policy.max_body_bytes


class BodyTooLarge(Exception):
    """Raised from `receive` into whatever is reading the body; caught by `BodyLimit` itself."""


class BodyLimit:
    def __init__(self, app: ASGIApp):
        self.app = app
        self.policy: TrafficPolicy | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.policy or self._bind(scope)
        limit = _limit(policy, scope["path"])
        length = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if not chunked:
            if length is None:  # no body
                await self.app(scope, receive, send)
                return
            if length.isdigit():
                if int(length) > limit:
                    await payload_too_large(limit)(scope, receive, send)
                    return
                # The server holds the client to its Content-Length: nothing to count.
                await self.app(scope, receive, send)
                return
        await self._counted(scope, receive, send, limit)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                # The status line is out; returning without finishing makes the server close
                # the connection, which is all that is left to say.
                log.info("request body over the limit after the response started", extra={"limit": limit})
                return
            await payload_too_large(limit)(scope, receive, send)

    def _bind(self, scope: Scope) -> TrafficPolicy:
        self.policy = scope["app"].state.traffic
        return self.policy
