"""The click redirect, `/r/{slug}`: public (the gateway forwards it with no identity), so it
finds the link across tenants by its slug, which is unique installation-wide."""

from fastapi import APIRouter, Path, Request
from sqlalchemy import cast, select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from services.attribution.clicks import cache, service
from services.attribution.clicks.cache import CachedLink
from services.attribution.incrementality.models import AudienceHoldout
from services.attribution.links.models import Link
from services.attribution.links.url import CLICK_ID_PARAM, with_parameters
from shared.db import Session, utcnow
from shared.identity import public
from shared.tenancy import across_tenants

router = APIRouter()

NOT_FOUND_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>Link not found</title></head>
<body><h1>This link does not work any more</h1>
<p>The link you followed is unknown, has expired or was withdrawn.</p></body></html>
"""


def _hasher(request: Request) -> service.VisitorHasher:
    state = request.app.state
    hasher = getattr(state, "visitor_hasher", None)
    if hasher is None:
        key = state.ctx.settings.attribution_hash_key
        hasher = state.visitor_hasher = service.VisitorHasher(key.get_secret_value().encode() if key else None)
    return hasher


# include_in_schema=False: the gateway serves and documents /r/{slug} itself (services/gateway/
# public.py); this is its upstream, not a route of the attribution API.
@router.api_route("/r/{slug}", methods=["GET", "HEAD"], include_in_schema=False, dependencies=[public()])
async def follow_link(request: Request, session: Session, slug: str = Path(min_length=1, max_length=200)) -> Response:
    """302 to the link's destination with `ll_click=<click id>`, the click written first (the
    session commits before the response is sent); a small 404 page for an unknown, revoked or
    expired slug (a link is kept up to a second per process: clicks/cache.py)."""
    across_tenants(session, "the click redirect finds a link by its slug, which carries no tenant")
    link = cache.links.get(slug)
    if link is None:
        found = (await session.execute(select(Link).where(Link.slug == slug))).scalar_one_or_none()
        if found is not None:
            today = utcnow().date()
            holdout = (await session.execute(
                select(AudienceHoldout).where(
                    AudienceHoldout.tenant_id == found.tenant_id, AudienceHoldout.link_ids.op("@>")(cast([found.id], AudienceHoldout.link_ids.type)),
                    AudienceHoldout.starts_on <= today, AudienceHoldout.ends_on >= today)
                .order_by(AudienceHoldout.starts_on.desc()).limit(1))).scalar_one_or_none()
            link = CachedLink.of(found, holdout)
            cache.links.put(link)
    if link is None or not link.live(utcnow()):
        return HTMLResponse(NOT_FOUND_PAGE, status_code=404, headers={"Cache-Control": "no-store"})
    headers = request.headers
    # The gateway replaces any X-Forwarded-For a client sends with the address it saw
    # (services/gateway/proxy/headers.py): one value, the client's.
    address = (headers.get("x-forwarded-for") or "").split(",")[0].strip() or None
    click_id, group = await service.record(
        session, link, method=request.method, address=address, user_agent=headers.get("user-agent"),
        referrer=headers.get("referer"), country=service.country_of(headers), hasher=_hasher(request),
    )
    # A visitor held out by an audience holdout goes to the control destination, still with its
    # click id (its orders are counted in the control group, never credited).
    target = link.control_target if group == "control" and link.control_target else link.target
    # no-store: a browser or proxy that cached the 302 would replay an old click id.
    return RedirectResponse(
        with_parameters(target, {CLICK_ID_PARAM: str(click_id)}), status_code=302, headers={"Cache-Control": "no-store"}
    )
