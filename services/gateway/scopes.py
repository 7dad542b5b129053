"""The scope each proxied operation needs, read from its service's own OpenAPI document.

Every service route declares its scope once (`shared.identity.requires`), and its document
carries it (`x-limelight-scope`, and the `LimelightIdentity` security requirement). The gateway
checks the same scope before forwarding, so an under-scoped call is refused at the door with one
403 instead of costing the service a request, and a service that declares `webhooks:manage` on
a route is not reduced to its family's read/write rule.

Each service's path templates are compiled into a segment trie when its document is (re)fetched;
a request then costs one dictionary step per path segment. Until a service's document is known
(it has not answered yet), and for a path or method its document does not list (which the service
will answer 404/405), the route's family rule (`Route.default_scope`) applies: the gateway never
lets a request through unchecked because it could not read a document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.gateway.routes import Route
from shared.identity import PUBLIC
from shared.openapi import operation_scope, operations


@dataclass
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    # One child for any `{name}` here: a parameter's name plays no part in matching a path.
    parameter: _Node | None = None
    # method (upper case) -> scope, or PUBLIC
    methods: dict[str, str] | None = None


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


def _is_parameter(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def compile_spec(spec: dict[str, Any]) -> _Node:
    """A trie of `spec`'s path templates, each leaf mapping its methods to their scopes."""
    root = _Node()
    for path, method, operation in operations(spec):
        node = root
        for segment in _segments(path):
            if _is_parameter(segment):
                node.parameter = node.parameter or _Node()
                node = node.parameter
            else:
                node = node.literals.setdefault(segment, _Node())
        if node.methods is None:
            node.methods = {}
        node.methods[method.upper()] = operation_scope(operation) or PUBLIC
    return root


def _scope_of(methods: dict[str, str] | None, method: str) -> str | None:
    if methods is None:
        return None
    # Starlette answers HEAD with the GET route.
    return methods.get(method) or (methods.get("GET") if method == "HEAD" else None)


def _match(node: _Node, segments: list[str], at: int, method: str) -> str | None:
    """The scope of the template matching `segments[at:]` for `method`: a literal segment wins
    over a parameter, and a path whose literal template lacks the method falls to the parameter
    template that has it, as the services' routers resolve them. Backtracks only on a dead end."""
    if at == len(segments):
        return _scope_of(node.methods, method)
    segment = segments[at]
    literal = node.literals.get(segment)
    if literal is not None:
        found = _match(literal, segments, at + 1, method)
        if found is not None:
            return found
    if node.parameter is not None and segment:
        return _match(node.parameter, segments, at + 1, method)
    return None


class ScopeTable:
    """Per-service compiled scope tables, replaced whole when a service's document is fetched."""

    def __init__(self) -> None:
        self._tables: dict[str, _Node] = {}

    def update(self, service: str, spec: dict[str, Any]) -> None:
        # Built aside and swapped in one assignment: a request never sees half a table.
        self._tables[service] = compile_spec(spec)

    def known(self, service: str) -> bool:
        return service in self._tables

    def needed(self, route: Route, method: str, upstream_path: str) -> str | None:
        """The scope a `method` request to `upstream_path` of `route`'s service needs; None when
        the service declares the operation public (the caller must still be authenticated)."""
        table = self._tables.get(route.service)
        if table is None:
            return route.default_scope(method)
        scope = _match(table, _segments(upstream_path), 0, method)
        if scope is None:
            return route.default_scope(method)
        return None if scope == PUBLIC else scope
