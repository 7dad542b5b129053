"""What every answer carries (security headers, X-Request-ID beside X-Correlation-ID), the /docs
page's own policy, and CORS for the configured origins only."""

import base64
import hashlib
import re

import pytest

from services.gateway.traffic.limits import PlanLimit
from tests.conftest import bearer
from tests.gateway.fakes import FakeUpstream
from tests.gateway.traffic.helpers import ROOMY, closed_port, replica, settings_for, tenant_on_plan

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

APP = "https://app.example.com"


async def test_every_answer_carries_the_security_headers_and_the_request_id(platform):
    tenant = await tenant_on_plan(platform, "tiny")
    async with FakeUpstream() as upstream:
        settings = settings_for(
            platform, upstream.url,
            gateway_rate_limits={"standard": ROOMY, "tiny": PlanLimit(rate=0.1, burst=3)},
            audit_url=f"http://127.0.0.1:{await closed_port()}",
            gateway_max_body_bytes=100,
            gateway_hsts_seconds=31_536_000,
        )
        async with replica(settings) as client:
            key = bearer(tenant.key)
            answers = {
                "404": await client.get("/nowhere", headers=key),
                "503 upstream": await client.get("/v1/audit/audits", headers=key),
                "200": await client.get("/v1/discovery/creators", headers=key),
                "429": await client.get("/v1/discovery/creators", headers=key),
                "401": await client.get("/v1/discovery/creators"),
                "413": await client.post("/v1/discovery/creators", content=b"x" * 101),
                # audit is unreachable, so the gateway's readiness (public, no key) is a 503.
                "503": await client.get("/readyz"),
                "health": await client.get("/healthz"),
            }
    assert {name: r.status_code for name, r in answers.items()} == {
        "404": 404, "503 upstream": 503, "200": 200, "429": 429, "401": 401, "413": 413, "503": 503, "health": 200,
    }
    for name, response in answers.items():
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["X-Frame-Options"] == "DENY", name
        assert headers["Referrer-Policy"] == "no-referrer", name
        assert headers["Content-Security-Policy"].startswith("default-src 'none'"), name
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", name
        assert headers["X-Request-ID"] == headers["X-Correlation-ID"], name
    assert answers["401"].headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_request_id_sent_by_the_client_is_the_one_echoed(platform):
    async with FakeUpstream() as upstream, replica(settings_for(platform, upstream.url)) as client:
        response = await client.get("/healthz", headers={"X-Request-ID": "client-chosen-id-1"})
    assert response.headers["X-Request-ID"] == response.headers["X-Correlation-ID"] == "client-chosen-id-1"


async def test_no_strict_transport_security_unless_configured(platform):
    async with FakeUpstream() as upstream, replica(settings_for(platform, upstream.url)) as client:
        response = await client.get("/healthz")
    assert "Strict-Transport-Security" not in response.headers


async def test_the_docs_page_may_load_exactly_what_it_uses(platform):
    async with FakeUpstream() as upstream, replica(settings_for(platform, upstream.url)) as client:
        page = await client.get("/docs")
    policy = page.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    for src in re.findall(r'<script src="([^"]+)"', page.text):
        origin = "/".join(src.split("/")[:3])
        assert origin in directives["script-src"]
    for inline in re.findall(r"<script>(.*?)</script>", page.text, re.S):
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in directives["script-src"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"


async def test_a_preflight_from_an_allowed_origin_is_answered_without_credentials(platform):
    async with FakeUpstream() as upstream:
        async with replica(settings_for(platform, upstream.url, gateway_cors_origins=[APP])) as client:
            response = await client.options(
                "/v1/discovery/creators",
                headers={
                    "Origin": APP,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
                },
            )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == APP
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["X-Request-ID"]
    assert upstream.received == []


async def test_a_preflight_from_another_origin_is_refused(platform):
    async with FakeUpstream() as upstream:
        async with replica(settings_for(platform, upstream.url, gateway_cors_origins=[APP])) as client:
            response = await client.options(
                "/v1/discovery/creators",
                headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
            )
    assert response.status_code == 400
    assert response.json() == {"error": "cors_refused", "detail": "Disallowed CORS origin"}
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_an_allowed_origin_can_read_the_rate_limit_headers(platform):
    tenant = await tenant_on_plan(platform, "standard")
    async with FakeUpstream() as upstream:
        async with replica(settings_for(platform, upstream.url, gateway_cors_origins=[APP]), key=tenant.key) as client:
            allowed = await client.get("/v1/discovery/creators", headers={"Origin": APP})
            other = await client.get("/v1/discovery/creators", headers={"Origin": "https://evil.example"})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == APP
    exposed = allowed.headers["Access-Control-Expose-Headers"]
    assert {"RateLimit-Remaining", "Retry-After", "X-Request-ID"} <= {h.strip() for h in exposed.split(",")}
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_without_configured_origins_no_cors_headers_are_sent(platform):
    async with FakeUpstream() as upstream, replica(settings_for(platform, upstream.url)) as client:
        response = await client.get("/healthz", headers={"Origin": APP})
    assert "Access-Control-Allow-Origin" not in response.headers
