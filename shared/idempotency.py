"""`Idempotency-Key` for POST routes (draft-ietf-httpapi-idempotency-key-header, Stripe's
semantics): a retried request returns the first response instead of repeating the effect.

The key is stored with a fingerprint of the request and the first response in the SAME
transaction as the effect, so a request that fails leaves no key behind and can be retried.
A repeat with the same key and request replays the stored status, body and headers, marked
`Idempotent-Replayed: true`; the same key with another request is a 422; a repeat while the
first is still in flight is a 409 (a transaction-scoped advisory lock, so it never waits on
or doubles the effect). Keys expire after `ttl`; `IdempotencyKeyPruner` deletes them.

Keys are scoped per route and per owner: by default the caller's tenant (declare the route's
scope before `idempotency.depends` so the identity is known); pass `owner=` to change that.
"""

import asyncio
import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.routing import APIRoute
from sqlalchemy import DateTime, Integer, String, Text, func, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from starlette.responses import Response

from shared.identity import identity_of
from shared.db import Session
from shared.errors import Conflict, Invalid
from shared.housekeeping import delete_expired
from shared.messaging.kafka import sleep_or_stop

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
FIELD = f"header.{HEADER}"
# Recomputed by the replaying response itself.
_NOT_STORED_HEADERS = frozenset({"content-length"})

KeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=255,
        pattern=r"^[\x20-\x7E]+$",
        description=(
            "A unique value (e.g. a UUID) per intended operation. Retrying with the same key returns "
            "the first response (marked `Idempotent-Replayed: true`) instead of acting twice; "
            "keys are kept 24 hours."
        ),
    ),
]


def idempotency_table(base: type[DeclarativeBase]) -> type:
    """The `idempotency_keys` table in the schema of `base`."""

    class IdempotencyKey(base):  # type: ignore[valid-type, misc]
        __tablename__ = "idempotency_keys"

        owner: Mapped[str] = mapped_column(
            String(100), primary_key=True, comment="Who the key belongs to (tenant); '' until tenants exist."
        )
        route: Mapped[str] = mapped_column(String(300), primary_key=True, comment="Method and route template.")
        key: Mapped[str] = mapped_column(String(255), primary_key=True)
        fingerprint: Mapped[str] = mapped_column(String(64), comment="sha256 of method, path, query and body.")
        status_code: Mapped[int] = mapped_column(Integer)
        response_body: Mapped[str] = mapped_column(Text)
        response_headers: Mapped[list] = mapped_column(JSONB)
        created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
        expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    return IdempotencyKey


class _Replay(Exception):
    def __init__(self, response: Response):
        super().__init__("idempotent replay")
        self.response = response


class _Claim:
    """A key this request holds (under the advisory lock) until its transaction ends."""

    def __init__(self, idempotency: "Idempotency", session: AsyncSession, values: dict[str, str]):
        self.idempotency = idempotency
        self.session = session
        self.values = values  # owner, route, key, fingerprint

    async def save(self, response: Response) -> None:
        model = self.idempotency.model
        headers = [[k, v] for k, v in response.headers.items() if k.lower() not in _NOT_STORED_HEADERS]
        row = {
            **self.values,
            "status_code": response.status_code,
            "response_body": bytes(response.body).decode(),
            "response_headers": headers,
            "expires_at": func.now() + self.idempotency.ttl,
        }
        # An expired row with this key may still await pruning; it is taken over.
        await self.session.execute(
            insert(model)
            .values(**row)
            .on_conflict_do_update(index_elements=["owner", "route", "key"], set_=row)
        )


def _tenant_of(request: Request) -> str:
    """Keys belong to the caller's tenant: two tenants can use the same key without colliding."""
    identity = identity_of(request.scope)
    return str(identity.tenant_id) if identity else ""


class Idempotency:
    """Idempotency keys of one service: `dependencies=[idempotency.depends]` on a POST route of
    a router built with `route_class=IdempotentRoute`."""

    def __init__(
        self, model: type, *, ttl: timedelta = timedelta(hours=24), owner: Callable[[Request], str] | None = None
    ):
        self.model = model
        self.ttl = ttl
        self.owner = owner or _tenant_of
        self.depends = Depends(self._claim)

    async def _claim(self, request: Request, session: Session, key: KeyHeader = None) -> None:
        if key is None:
            return
        route = request.scope.get("route")
        if not isinstance(route, IdempotentRoute):
            raise TypeError(f"{route} takes an {HEADER} but its router's route_class is not IdempotentRoute")
        owner, scope = self.owner(request), f"{request.method} {route.path}"
        fingerprint = await _fingerprint(request)
        locked = await session.scalar(
            select(func.pg_try_advisory_xact_lock(func.hashtextextended(f"{owner}\x1f{scope}\x1f{key}", 0)))
        )
        if not locked:
            raise Conflict([{"field": FIELD, "reason": "a request with this key is still in progress; retry shortly"}])
        model = self.model
        stored = await session.scalar(
            select(model).where(
                model.owner == owner, model.route == scope, model.key == key, model.expires_at > func.now()
            )
        )
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise Invalid(FIELD, "this key was already used with a different request; use a new key")
            raise _Replay(_replayed(stored))
        request.state.idempotency_claim = _Claim(
            self, session, {"owner": owner, "route": scope, "key": key, "fingerprint": fingerprint}
        )

    async def prune(self, sessionmaker: async_sessionmaker[AsyncSession]) -> int:
        """Delete expired keys, in batches, on one replica at a time; the number deleted."""
        return await delete_expired(
            sessionmaker, self.model.__table__, self.model.expires_at <= func.now(), lock=self.prune_lock
        )

    @property
    def prune_lock(self) -> str:
        """The advisory lock one pruning replica holds (shared.housekeeping)."""
        return f"limelight.idempotency.{self.model.__table__.schema}"


def takes_key(dependant) -> bool:
    """Whether a route (its dependant) claims `Idempotency-Key`s (`idempotency.depends`)."""
    return any(getattr(sub.call, "__func__", None) is Idempotency._claim or takes_key(sub)
               for sub in dependant.dependencies)


async def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    url = request.url
    for part in (request.method.encode(), url.path.encode(), url.query.encode(), await request.body()):
        digest.update(len(part).to_bytes(8, "big") + part)  # length-prefixed: parts cannot run together
    return digest.hexdigest()


def _replayed(stored) -> Response:
    response = Response(content=stored.response_body.encode(), status_code=stored.status_code)
    for name, value in stored.response_headers:
        response.headers.append(name, value)
    response.headers[REPLAYED_HEADER] = "true"
    return response


class IdempotentRoute(APIRoute):
    """Replays a stored response, and records the first one while the request's transaction
    is still open: FastAPI closes function-scoped dependencies (the `Session` commit) only
    after this handler has returned the serialised response."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except _Replay as replay:
                return replay.response
            claim: _Claim | None = getattr(request.state, "idempotency_claim", None)
            if claim is not None:
                await claim.save(response)
            return response

        return route_handler


class IdempotencyKeyPruner:
    """Deletes expired idempotency keys now and then (fits `shared.app.Worker`)."""

    def __init__(self, idempotency: Idempotency, sessionmaker: async_sessionmaker[AsyncSession], interval: float = 600):
        self.idempotency = idempotency
        self.sessionmaker = sessionmaker
        self.interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                deleted = await self.idempotency.prune(self.sessionmaker)
                if deleted:
                    log.info("expired idempotency keys deleted", extra={"deleted": deleted})
            except (DBAPIError, OSError) as exc:
                log.warning("pruning idempotency keys failed", extra={"error": repr(exc)})
            await sleep_or_stop(stop, self.interval)
