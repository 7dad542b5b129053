"""The one way a Limelight service is assembled: logging, correlation ids, errors, health,
metrics, the database engine, the Kafka producer and the background workers (outbox relay,
consumers) that share the app's lifespan.
"""

import asyncio
import gc
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Protocol

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.responses import Response
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.db import Reads, database_ready, make_engine, make_sessionmaker
from shared.identity import IdentityVerifier, check_routes_declare_scopes, public
from shared.errors import UnhandledErrorMiddleware, database_unavailable, install_error_handlers
from shared.messaging.kafka import KafkaProducerHandle, backoff_delay, sleep_or_stop
from shared.messaging.relay import OutboxRelay
from shared.observability import CorrelationMiddleware, configure_logging, metrics_response
from shared.openapi import document_errors
from shared.routing import complete_allow_header, known_query_only
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

try:
    VERSION = version("limelight")
except PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0.0.0+source"


class Worker(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


@dataclass
class ServiceContext:
    name: str
    settings: ServiceSettings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    kafka: KafkaProducerHandle


WorkerFactory = Callable[[ServiceContext], list[Worker]]


async def _supervise(name: str, worker: Worker, stop: asyncio.Event) -> None:
    """Keep a background worker alive: a crash is logged and the worker restarted with backoff."""
    attempt = 0
    while not stop.is_set():
        try:
            await worker.run(stop)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            attempt += 1
            extra = {"worker": name, "attempt": attempt}
            if database_unavailable(exc):
                # An outage, not a bug: one line per attempt instead of a traceback each time.
                log.warning("background worker paused: database unavailable", extra=extra)
            else:
                log.exception("background worker crashed; restarting", extra=extra)
            await sleep_or_stop(stop, backoff_delay(attempt, base=0.5, cap=10.0))


def health_router(name: str) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", include_in_schema=False, dependencies=[public()])
    async def healthz() -> dict:
        return {"status": "ok", "service": name, "version": VERSION}

    @router.get("/readyz", include_in_schema=False, dependencies=[public()])
    async def readyz(request: Request) -> JSONResponse:
        """Ready means this instance can serve its API, which needs the database. Kafka is
        reported but does not decide: writes wait in the outbox while the broker is away, and
        taking every replica out of rotation for it would refuse those writes."""
        ctx: ServiceContext = request.app.state.ctx

        async def database() -> str:
            try:
                await asyncio.wait_for(database_ready(ctx.engine), 1.5)
                return "up"
            except Exception as exc:  # readiness reports, it never raises
                log.warning("readiness: database unreachable", extra={"error": type(exc).__name__})
                return "down"

        async def kafka() -> str:
            return "up" if await ctx.kafka.ping(timeout=0.7) else "down"

        # Both at once and bounded well inside a prober's timeout (2 s for `limelight`): a broker
        # that hangs instead of refusing must not make a healthy instance look unready.
        database_state, kafka_state = await asyncio.gather(database(), kafka())
        checks = {"database": database_state, "kafka": kafka_state}
        ready = checks["database"] == "up"
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "service": name, "checks": checks},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", include_in_schema=False, dependencies=[public()])
    async def metrics():
        return metrics_response()

    return router


def create_service_app(
    *,
    name: str,
    settings: ServiceSettings,
    title: str,
    description: str,
    router: APIRouter,
    workers: WorkerFactory | None = None,
    openapi_tags: list[dict] | None = None,
    resources: Callable[[FastAPI], AbstractAsyncContextManager] | None = None,
    serve_own_docs: bool = True,
    edge: list[type] | None = None,
    db_settings: dict[str, str] | None = None,
) -> FastAPI:
    """`resources`: extra things the app holds for its lifetime (the gateway's HTTP client).
    `serve_own_docs=False` leaves /openapi.json and /docs to the app (the gateway merges them).
    `edge`: pure ASGI middleware classes run inside the correlation id and error handling,
    outermost first (the gateway's door). `db_settings`: PostgreSQL settings of the service's
    connections (shared.db.make_engine)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging(name, settings.log_level)
        engine = make_engine(
            settings.database_url, pool_size=settings.db_pool_size, application_name=name, server_settings=db_settings
        )
        kafka = KafkaProducerHandle(settings.kafka_bootstrap_servers, client_id=name)
        ctx = ServiceContext(name, settings, engine, make_sessionmaker(engine), kafka)
        app.state.ctx = ctx
        app.state.sessionmaker = ctx.sessionmaker
        app.state.reads = Reads(engine)
        stop = asyncio.Event()
        tasks = []
        if settings.run_background_workers and workers is not None:
            for worker in workers(ctx):
                tasks.append(asyncio.create_task(_supervise(type(worker).__name__, worker, stop)))
        log.info("service started", extra={"workers": len(tasks)})
        # Everything alive now (modules, routes, pydantic and SQLAlchemy machinery) lives as
        # long as the process; frozen, the collector stops traversing it on every full
        # collection, which requests trigger often enough to show in their CPU time.
        gc.freeze()
        try:
            if resources is not None:
                async with resources(app):
                    yield
            else:
                yield
        finally:
            stop.set()
            if tasks:
                _, still_running = await asyncio.wait(tasks, timeout=15)
                for task in still_running:
                    task.cancel()
                await asyncio.gather(*still_running, return_exceptions=True)
            await kafka.close()
            await engine.dispose()
            log.info("service stopped")

    docs = {} if serve_own_docs else {"openapi_url": None, "docs_url": None, "redoc_url": None}
    app = FastAPI(
        title=title, description=description, version=VERSION, lifespan=lifespan, openapi_tags=openapi_tags, **docs
    )
    install_error_handlers(app)
    complete_allow_header(app)
    document_errors(app)
    # The last added is the outermost: the 500 handler runs inside the correlation id's context,
    # and `edge` layers (the gateway's authentication, limits) inside both, in the order given.
    for layer in reversed(edge or []):
        app.add_middleware(layer)
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(CorrelationMiddleware, service=name)
    app.include_router(health_router(name))
    app.include_router(router, dependencies=[Depends(known_query_only)])
    # The gateway's signed identity token, verified with its public key; audience = this service.
    app.state.identity_verifier = IdentityVerifier(settings.identity_public_key, audience=name)
    check_routes_declare_scopes(app)
    return app


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    """`model` as the JSON response, serialised once by pydantic.

    An endpoint returning a model has FastAPI validate it again against `response_model`
    (a copy of every field) and then serialise it; for a model the endpoint just built from
    database rows, that second validation only costs time. Keep `response_model=` on the
    route (the OpenAPI document comes from it) and return this with an instance of exactly
    that model. The body is what FastAPI would send: compact JSON, UTF-8 as is.
    """
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


def outbox_relay(ctx: ServiceContext, model: type) -> OutboxRelay:
    """The outbox relay of a service, tuned by its settings."""
    return OutboxRelay(
        service=ctx.name,
        sessionmaker=ctx.sessionmaker,
        model=model,
        kafka=ctx.kafka,
        poll_interval=ctx.settings.outbox_poll_interval_ms / 1000,
        batch_size=ctx.settings.outbox_batch_size,
    )
