"""The operator listener: readiness and metrics on their own port, off the public door.

There is no authentication yet, so "admin only" means "reachable only where the operator
decides": a second uvicorn server on GATEWAY_OPERATOR_HOST:GATEWAY_OPERATOR_PORT (127.0.0.1 by
default), started and stopped with the gateway's lifespan. `/healthz` stays on the public port
too, for load balancers.
"""

import asyncio
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.app import ServiceContext, health_router
from shared.errors import error_body

OPERATOR_PATHS = frozenset({"/readyz", "/metrics"})


class _OperatorServer(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The process's signals belong to the main server; this one stops with its lifespan.
        yield


class PublicOnly:
    """Answers the operator paths on the public app with the 404 any unknown path gets.

    A filter in front of the app rather than removing routes: the shared app assembly mounts
    the health router for every service, and FastAPI resolves included routers lazily.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in OPERATOR_PATHS:
            response = JSONResponse(error_body("not_found", "Not Found"), status_code=404)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


@asynccontextmanager
async def operator_listener(name: str, ctx: ServiceContext, host: str, port: int):
    """Serve `name`'s /healthz, /readyz and /metrics on host:port; yields the bound port."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    app.include_router(health_router(name))
    server = _OperatorServer(
        uvicorn.Config(app, host=host, port=port, lifespan="off", log_config=None, access_log=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            # uvicorn exits (SystemExit) when it cannot bind: the gateway must not start half-made.
            raise RuntimeError(f"operator listener could not start on {host}:{port}") from task.exception()
        await asyncio.sleep(0.02)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task
