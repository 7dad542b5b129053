"""The click redirect, `/r/{slug}`: public (the gateway forwards it with no identity), so it
finds the link across tenants by its slug, which is unique installation-wide.

Answered by `ClickEdge`, an edge layer inside the correlation id and error handling, before
FastAPI's routing: route matching over the whole API, dependency solving, a request session and
its BEGIN/COMMIT were most of the service's time per click (docs/decisions/0059). The route
below is the fallback for what the edge does not take (a slug the route refuses: FastAPI's 422),
and answers the same way."""

from datetime import datetime
from types import SimpleNamespace

import asyncpg
from fastapi import APIRouter, FastAPI, Path, Request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from services.attribution.clicks import cache, service
from services.attribution.clicks.cache import CachedLink
from services.attribution.clicks.service import on_driver
from services.attribution.links.service import SLUG_CHARACTERS
from services.attribution.links.url import CLICK_ID_PARAM, with_parameters
from shared.clicks import datacentre
from shared.db import utcnow
from shared.identity import public
from shared.redirect import SLUG_MAX_LENGTH, click_slug

router = APIRouter()


NOT_FOUND_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>Link not found</title></head>
<body><h1>This link does not work any more</h1>
<p>The link you followed is unknown, has expired or was withdrawn.</p></body></html>
"""

# The link of a slug and the audience holdout splitting its visitors on `$2` (a UTC day), if
# any: across tenants (the slug carries none), so plain SQL on the driver, not the ORM's
# tenant-filtered session.
LINK = """
SELECT l.id, l.tenant_id, l.campaign_id, l.creator_id, l.slug, l.target, l.destination, l.expires_at, l.revoked_at,
       h.id AS holdout_id, h.holdout_share, h.control_destination
FROM attribution.links l
LEFT JOIN LATERAL (
    SELECT id, holdout_share, control_destination FROM attribution.audience_holdouts a
    WHERE a.tenant_id = l.tenant_id AND a.link_ids @> ARRAY[l.id] AND a.starts_on <= $2 AND a.ends_on >= $2
    ORDER BY a.starts_on DESC LIMIT 1
) h ON true
WHERE l.slug = $1
"""

_CLICK_ROUTE = SimpleNamespace(path="/r/{slug}")  # what the correlation middleware labels metrics with
_WANTED_HEADERS = frozenset({b"x-forwarded-for", b"user-agent", b"referer", *(h.encode() for h in service.COUNTRY_HEADERS)})


def _hasher(app: FastAPI) -> service.VisitorHasher:
    state = app.state
    hasher = getattr(state, "visitor_hasher", None)
    if hasher is None:
        key = state.ctx.settings.attribution_hash_key
        hasher = state.visitor_hasher = service.VisitorHasher(key.get_secret_value().encode() if key else None)
    return hasher


def _link(row) -> CachedLink:
    holdout = row["holdout_id"] is not None
    return CachedLink(
        id=row["id"], tenant_id=row["tenant_id"], campaign_id=row["campaign_id"], creator_id=row["creator_id"],
        slug=row["slug"], target=row["target"], expires_at=row["expires_at"], revoked_at=row["revoked_at"],
        holdout_id=row["holdout_id"], holdout_share=float(row["holdout_share"]) if holdout else 0.0,
        control_target=(row["control_destination"] or row["destination"]) if holdout else None,
    )


async def _lookup(engine: AsyncEngine, slug: str, now: datetime) -> CachedLink | None:
    """The link of `slug`, or None. A read: run once more on a fresh connection when the pooled
    connection it was sent on turned out dead (the server restarted), as shared.db.Reads does;
    not when no connection could be made at all (the database is down: a 503 at once)."""
    sent = False

    async def read(driver: asyncpg.Connection):
        nonlocal sent
        sent = True
        return await driver.fetchrow(LINK, slug, now.date())

    try:
        row = await on_driver(engine, "attribution.links by slug", read)
    except DBAPIError as exc:
        if not (exc.connection_invalidated and sent):
            raise
        row = await on_driver(engine, "attribution.links by slug", read)
    if row is None:
        return None
    link = _link(row)
    cache.links.put(link)
    return link


async def follow(app: FastAPI, method: str, headers: dict[str, str], slug: str) -> Response:
    """302 to the link's destination with `ll_click=<click id>` (the click, sealed:
    shared/clicks/token.py), the click written first (its one
    statement has committed before the response is sent); a small 404 page for an unknown, revoked
    or expired slug (a link is kept up to a second per process: clicks/cache.py). A connection is
    taken only for what needs one: a link not kept, then the click."""
    engine = app.state.ctx.engine
    now = utcnow()
    link = cache.links.get(slug)
    if link is None and SLUG_CHARACTERS.fullmatch(slug):
        link = await _lookup(engine, slug, now)
    if link is None or not link.live(now):
        return HTMLResponse(NOT_FOUND_PAGE, status_code=404, headers={"Cache-Control": "no-store"})
    await datacentre.ready()
    # The gateway replaces any X-Forwarded-For a client sends with the address it saw
    # (services/gateway/proxy/headers.py): one value, the client's.
    address = (headers.get("x-forwarded-for") or "").split(",")[0].strip() or None
    carried, group, arguments = service.prepare(
        link, method=method, address=address, user_agent=headers.get("user-agent"),
        referrer=headers.get("referer"), country=service.country_of(headers), hasher=_hasher(app),
    )
    # Not sent again when its connection died (it may have committed): the shopper gets a 503
    # and clicks again, a new click.
    await on_driver(engine, "attribution.record_click", lambda driver: service.record(driver, arguments))
    # A visitor held out by an audience holdout goes to the control destination, still with its
    # click id (its orders are counted in the control group, never credited).
    target = link.control_target if group == "control" and link.control_target else link.target
    # no-store: a browser or proxy that cached the 302 would replay an old click id.
    return RedirectResponse(
        with_parameters(target, {CLICK_ID_PARAM: carried}), status_code=302, headers={"Cache-Control": "no-store"}
    )


# include_in_schema=False: the gateway serves and documents /r/{slug} itself (services/gateway/
# public.py); this is its upstream, not a route of the attribution API.
@router.api_route("/r/{slug}", methods=["GET", "HEAD"], include_in_schema=False, dependencies=[public()])
async def follow_link(request: Request, slug: str = Path(min_length=1, max_length=SLUG_MAX_LENGTH)) -> Response:
    """The redirect, for a request `ClickEdge` left to FastAPI (none it can answer)."""
    return await follow(request.app, request.method, dict(request.headers), slug)


class ClickEdge:
    """`GET`/`HEAD /r/<slug>` answered at the edge, without FastAPI's route matching, dependency
    solving and request objects. A request the route would refuse (an empty or too long slug, a
    slash in it) falls through to FastAPI, which answers as before."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        slug = click_slug(scope)
        if slug is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = _CLICK_ROUTE
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            if name in _WANTED_HEADERS:
                headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        answer = await follow(scope["app"], scope["method"], headers, slug)
        await answer(scope, receive, send)

