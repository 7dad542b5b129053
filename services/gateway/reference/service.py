"""One merged OpenAPI document: every service's paths under its gateway prefix.

Schema names that two services define differently are renamed `<service>_<Name>` (and every
$ref to them rewritten), so merging never silently replaces one service's model with another's.
The merged document then gets the client-facing security (reference/security.py), the error
responses of every operation including the gateway's 429, and the public probes.

The same fetch feeds the gateway's scope table (services/gateway/scopes.py): the documents are
fetched at start-up and refreshed in the background, not only when someone reads /docs.
"""

import asyncio
import copy
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from services.gateway.public import document_probes
from services.gateway.reference.security import public_security
from services.gateway.routes import PUBLIC_FORWARDS, Route
from services.gateway.scopes import ScopeTable
from shared.messaging.kafka import sleep_or_stop
from shared.openapi import operations, with_error_responses

log = logging.getLogger(__name__)

REF_PREFIX = "#/components/schemas/"


async def fetch_spec(client: httpx.AsyncClient, route: Route) -> dict[str, Any] | None:
    try:
        response = await client.get(f"{route.upstream}/openapi.json", timeout=min(route.timeout, 5.0))
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("cannot fetch upstream OpenAPI", extra={"upstream": route.service, "error": type(exc).__name__})
        return None


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                name = value[len(REF_PREFIX):]
                out[key] = REF_PREFIX + renames.get(name, name)
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def merge(base: dict[str, Any], specs: dict[str, dict[str, Any] | None], routes: dict[str, Route]) -> dict[str, Any]:
    merged = document_probes(copy.deepcopy(base))
    # The gateway's own operations are named like the services': `<owner>_<operation>`.
    for _, _, operation in operations(merged):
        if "operationId" in operation:
            operation["operationId"] = f"gateway_{operation['operationId']}"
    schemas: dict[str, Any] = merged.setdefault("components", {}).setdefault("schemas", {})
    tags = {t["name"]: t for t in merged.get("tags", [])}
    unavailable = []
    for service, spec in specs.items():
        if spec is None:
            unavailable.append(service)
            continue
        own = spec.get("components", {}).get("schemas", {})
        renames = {
            name: f"{service}_{name}"
            for name, schema in own.items()
            if name in schemas and json.dumps(schemas[name], sort_keys=True)
            != json.dumps(_rewrite_refs(schema, {}), sort_keys=True)
        }
        for name, schema in own.items():
            schemas[renames.get(name, name)] = _rewrite_refs(schema, renames)
        prefix = routes[service].prefix
        for path, item in spec.get("paths", {}).items():
            item = _rewrite_refs(item, renames)
            for operation in item.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    operation["operationId"] = f"{service}_{operation['operationId']}"
            # A public path the gateway forwards as it is (the shared audit views) is listed where
            # clients call it, not under the service's prefix.
            forwarded = any(path.startswith(p) and owner == service for p, owner in PUBLIC_FORWARDS.items())
            merged["paths"][path if forwarded else prefix + path] = item
        for tag in spec.get("tags", []):
            tags.setdefault(tag["name"], tag)
    if tags:
        merged["tags"] = list(tags.values())
    if unavailable:
        merged["info"]["description"] = (
            merged["info"].get("description", "")
            + f"\n\nNot listed because they did not answer: {', '.join(sorted(unavailable))}."
        )
    return public_security(with_error_responses(merged, rate_limited=True))


class MergedSpecCache:
    """The merged document, rebuilt at most every `ttl` seconds.

    Without it every request for /openapi.json is three upstream calls, which a crawler or a
    fuzzer turns into load on the services. A document missing an upstream is never kept, so
    the first request after that upstream is back lists it again.
    """

    # While an upstream's document is missing, the background refresh retries this often.
    RETRY_SECONDS = 1.0

    def __init__(self, ttl: float, base: Callable[[], dict[str, Any]], scopes: ScopeTable | None = None):
        self.ttl = ttl
        self.base = base
        self.scopes = scopes
        self._document: dict[str, Any] | None = None
        self._expires = 0.0
        # One rebuild at a time: concurrent requests at expiry wait for it instead of each
        # calling every upstream.
        self._lock = asyncio.Lock()

    async def get(self, client: httpx.AsyncClient, routes: dict[str, Route]) -> dict[str, Any]:
        async with self._lock:
            if self._document is None or time.monotonic() >= self._expires:
                names = list(routes)
                fetched = await asyncio.gather(*(fetch_spec(client, routes[n]) for n in names))
                if self.scopes is not None:
                    for name, spec in zip(names, fetched):
                        if spec is not None:
                            self.scopes.update(name, spec)
                document = merge(self.base(), dict(zip(names, fetched)), routes)
                complete = all(spec is not None for spec in fetched)
                self._document = document
                self._expires = time.monotonic() + (self.ttl if complete else 0.0)
            return self._document

    async def refresh(self, client: httpx.AsyncClient, routes: dict[str, Route], stop: asyncio.Event) -> None:
        """Keep the document (and so the scope table) fresh until `stop`: every second while an
        upstream has not answered, else every `ttl`."""
        while not stop.is_set():
            try:
                await self.get(client, routes)
            except Exception:  # a refresh that fails is retried; it must never end the loop
                log.exception("cannot refresh the merged OpenAPI document")
            complete = self.scopes is None or all(self.scopes.known(name) for name in routes)
            await sleep_or_stop(stop, max(self.ttl, self.RETRY_SECONDS) if complete else self.RETRY_SECONDS)
