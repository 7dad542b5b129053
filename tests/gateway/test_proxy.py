"""The gateway as the one door: routing, upstream failures, the merged reference."""

import asyncio
import socket

import httpx
import pytest
import pytest_asyncio

from services.gateway.config import GatewaySettings
from services.gateway.main import create_app
from services.gateway.proxy.headers import request_headers
from shared.errors import Invalid
from tests.conftest import bearer
from tests.gateway.fakes import gateway_settings

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_unknown_service_is_a_404_that_lists_the_services(gateway):
    response = await gateway.get("/v1/nosuch/things")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "discovery" in response.json()["detail"]


@pytest.mark.parametrize("path", ["metrics", "healthz", "readyz", "openapi.json"])
async def test_upstream_operator_endpoints_are_not_exposed(gateway, path):
    response = await gateway.get(f"/v1/discovery/{path}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "raw_path",
    ["/v1/discovery/%2e%2e/metrics", "/v1/discovery/creators/%2E%2E/%2e%2e/metrics", "/v1/discovery/a%2Fb",
     "/v1/discovery/creators%00", "/v1/discovery/%ff"],
)
async def test_path_tricks_are_refused_naming_the_path(gateway, raw_path):
    response = await gateway.get(gateway.base_url.copy_with(raw_path=raw_path.encode()))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "path"


async def test_an_encoded_question_mark_stays_part_of_the_path(gateway):
    response = await gateway.get(gateway.base_url.copy_with(raw_path=b"/v1/discovery/creators%3Flimit=0"))
    # Upstream sees the path "/creators?limit=0" (no such route), not /creators with a query.
    assert response.status_code == 404


async def test_client_forwarded_for_and_connection_listed_headers_are_not_forwarded():
    scope = {"type": "http", "method": "GET", "path": "/", "raw_path": b"/", "query_string": b"",
             "headers": [(b"x-forwarded-for", b"6.6.6.6"), (b"connection", b"x-secret"), (b"x-secret", b"1"),
                         (b"host", b"gw")], "client": ("10.1.2.3", 5555), "scheme": "http", "server": ("gw", 80)}
    headers = dict(request_headers(scope))
    assert headers["x-forwarded-for"] == "10.1.2.3"
    assert "x-secret" not in headers


@pytest.mark.parametrize("value", [b"caf\xe9", b"a\x01b"], ids=["latin-1", "control"])
async def test_a_header_the_upstream_could_not_receive_unchanged_is_refused_naming_it(value):
    scope = {"type": "http", "headers": [(b"x-note", value)], "client": ("10.1.2.3", 5555), "scheme": "http"}
    with pytest.raises(Invalid) as refused:
        request_headers(scope)
    assert refused.value.detail[0]["field"] == "headers.x-note"


async def test_upstream_validation_error_passes_through_with_the_field_named(gateway):
    response = await gateway.get("/v1/discovery/creators", params={"limit": 0})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "query.limit"


async def test_merged_reference_lists_every_services_routes(gateway):
    spec = (await gateway.get("/openapi.json")).json()
    assert {"/v1/discovery/creators", "/v1/discovery/creators/{creator_id}", "/v1/audit/audits",
            "/v1/audit/audits/{audit_id}"} <= set(spec["paths"])
    operation_ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert all(op.split("_", 1)[0] in {"gateway", "discovery", "audit", "attribution"} for op in operation_ids)
    assert len(operation_ids) == len(set(operation_ids))
    # Every $ref resolves in the merged components.
    schemas = spec["components"]["schemas"]
    refs = {r.rsplit("/", 1)[1] for r in _refs(spec["paths"])}
    assert refs <= set(schemas)
    docs = await gateway.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text


async def test_asyncapi_document_is_served(gateway):
    document = (await gateway.get("/asyncapi.json")).json()
    assert "discovery.creator.v2" in document["channels"]


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest_asyncio.fixture
async def silent_upstream():
    """A server that accepts connections and never answers."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()


@pytest_asyncio.fixture
async def isolated_gateway(platform, silent_upstream, tenant):
    """A gateway whose discovery route points at a closed port and audit at a silent server."""
    settings = gateway_settings(
        platform,
        discovery_url=f"http://127.0.0.1:{_closed_port()}",
        audit_url=silent_upstream,
        audit_timeout_seconds=0.5,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway", headers=bearer(tenant.key)) as client:
            yield client


async def test_unreachable_upstream_is_a_503_to_retry(isolated_gateway):
    """Nothing reached the service (connection refused): a 503 with Retry-After, as a down
    dependency is answered everywhere (ADR 0055); a 502 is kept for an exchange that broke off."""
    response = await isolated_gateway.get("/v1/discovery/creators")
    assert response.status_code == 503
    assert response.json()["error"] == "upstream_unavailable"
    assert response.headers["Retry-After"] == "1"


async def test_upstream_slower_than_its_route_timeout_is_a_504(isolated_gateway):
    response = await isolated_gateway.get("/v1/audit/audits")
    assert response.status_code == 504
    assert response.json() == {"error": "upstream_timeout", "detail": "audit did not answer within 0.5s"}


async def test_merged_reference_names_upstreams_that_did_not_answer(isolated_gateway):
    spec = (await isolated_gateway.get("/openapi.json")).json()
    assert "discovery" in spec["info"]["description"]
    assert not any(p.startswith("/v1/discovery") for p in spec["paths"])
