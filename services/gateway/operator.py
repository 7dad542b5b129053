"""The operator listener: the gateway's own readiness and its metrics on a port of their own.

A second uvicorn server on GATEWAY_OPERATOR_HOST:GATEWAY_OPERATOR_PORT (127.0.0.1 by default),
started and stopped with the gateway's lifespan. Its `/readyz` is the gateway's own (database;
Kafka reported): what `limelight` and an orchestrator wait for before sending traffic, even while
the services behind it start. The public port answers `/healthz`, a `/readyz` that includes the
upstreams, and `/metrics` for allowed networks only (services/gateway/public.py, ADR 0017).
"""

import asyncio
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager

import uvicorn
from fastapi import FastAPI

from shared.app import ServiceContext, health_router


class _OperatorServer(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The process's signals belong to the main server; this one stops with its lifespan.
        yield


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
