"""The gateway's scope table reads each operation's scope from its service's document, and falls
back to the family rule only where the document says nothing."""

from services.gateway.routes import Route
from services.gateway.scopes import ScopeTable

ROUTE = Route("discovery", "/v1/discovery", "http://discovery", 5.0)


def _operation(scope: str | None) -> dict:
    if scope is None:
        return {"responses": {}}
    return {"security": [{"LimelightIdentity": [scope]}], "responses": {}}


SPEC = {
    "paths": {
        "/creators": {"get": _operation("discovery:read"), "post": _operation("discovery:write")},
        "/creators/{creator_id}": {"get": _operation("discovery:read"), "delete": _operation("admin")},
        "/creators/search": {"get": {"x-limelight-scope": "audits:read", "responses": {}}},
        "/creators/{creator_id}/notes/{note_id}": {"put": _operation("webhooks:manage")},
        "/r/{slug}": {"get": {"x-limelight-scope": "public", "responses": {}}},
        "/open": {"get": _operation(None)},
    }
}


def table() -> ScopeTable:
    scopes = ScopeTable()
    scopes.update("discovery", SPEC)
    return scopes


def test_an_unknown_service_gets_the_family_rule():
    scopes = ScopeTable()
    assert scopes.needed(ROUTE, "GET", "/creators") == "discovery:read"
    assert scopes.needed(ROUTE, "DELETE", "/creators/1") == "discovery:write"


def test_a_declared_scope_wins_over_the_family_rule():
    scopes = table()
    assert scopes.needed(ROUTE, "DELETE", "/creators/7b0f") == "admin"
    assert scopes.needed(ROUTE, "PUT", "/creators/7b0f/notes/12") == "webhooks:manage"
    assert scopes.needed(ROUTE, "POST", "/creators") == "discovery:write"


def test_a_literal_segment_wins_over_a_parameter_and_falls_back_by_method():
    scopes = table()
    assert scopes.needed(ROUTE, "GET", "/creators/search") == "audits:read"
    # /creators/search has no DELETE: the service routes it to /creators/{creator_id}.
    assert scopes.needed(ROUTE, "DELETE", "/creators/search") == "admin"


def test_head_is_checked_as_get():
    assert table().needed(ROUTE, "HEAD", "/creators/search") == "audits:read"


def test_public_operations_need_no_scope():
    scopes = table()
    assert scopes.needed(ROUTE, "GET", "/r/abc") is None
    assert scopes.needed(ROUTE, "GET", "/open") is None


def test_paths_and_methods_the_document_does_not_list_get_the_family_rule():
    scopes = table()
    assert scopes.needed(ROUTE, "GET", "/nothing/here") == "discovery:read"
    assert scopes.needed(ROUTE, "PATCH", "/creators") == "discovery:write"
    assert scopes.needed(ROUTE, "GET", "/creators/1/notes") == "discovery:read"
    assert scopes.needed(ROUTE, "GET", "/creators//") == "discovery:read"


def test_a_refreshed_document_replaces_the_table():
    scopes = table()
    scopes.update("discovery", {"paths": {"/creators": {"get": _operation("admin")}}})
    assert scopes.needed(ROUTE, "GET", "/creators") == "admin"
    assert scopes.needed(ROUTE, "GET", "/creators/search") == "discovery:read"
