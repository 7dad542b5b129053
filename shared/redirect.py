"""The click redirect's path, `GET`/`HEAD /r/<slug>`, as the edge layers that answer it read it:
the gateway's (services/gateway/public.py) and attribution's (services/attribution/clicks/
endpoints.py). A request this does not take goes on to FastAPI, whose route (`Path(min_length=1,
max_length=200)`) answers it."""

from starlette.types import Scope

CLICK_PREFIX = "/r/"
CLICK_METHODS = frozenset({"GET", "HEAD"})
# The route's own limit, counted on the decoded slug as FastAPI does.
SLUG_MAX_LENGTH = 200


def click_slug(scope: Scope) -> str | None:
    """The slug of a click redirect request the route would accept, else None."""
    if scope["type"] != "http" or scope["method"] not in CLICK_METHODS:
        return None
    path: str = scope["path"]
    if not path.startswith(CLICK_PREFIX):
        return None
    slug = path[len(CLICK_PREFIX):]
    if not 1 <= len(slug) <= SLUG_MAX_LENGTH or "/" in slug:
        return None
    return slug
