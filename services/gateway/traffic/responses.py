"""The answers the traffic layers give themselves, as the project's JSON error body, and the
one send wrapper that adds headers to whatever answer passes."""

from starlette.responses import JSONResponse
from starlette.types import Message, Send

from services.gateway.traffic.limits import Decision
from shared.errors import error_body


def too_many_requests(decision: Decision, detail: str) -> JSONResponse:
    retry_after = {"Retry-After": str(decision.retry_after_seconds())}
    response = JSONResponse(error_body("rate_limited", detail), status_code=429, headers=retry_after)
    response.raw_headers.extend(decision.headers())
    return response


def payload_too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        error_body("payload_too_large", f"the request body is larger than this route's limit of {limit} bytes"),
        status_code=413,
    )


def adding_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    """`send`, with `extra` appended to the response's headers."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *extra]
        await send(message)

    return send_with_headers
