"""The routes that get a longer upstream timeout than their service's (GATEWAY_SLOW_ROUTES)."""

from services.gateway.config import GatewaySettings
from services.gateway.routes import slow_routes


def settings(**values) -> GatewaySettings:
    return GatewaySettings(database_url="postgresql+asyncpg://u@127.0.0.1/db", **values)


def test_a_template_matches_any_one_segment_and_nothing_more():
    pattern = slow_routes(settings())
    assert pattern.fullmatch("/v1/audit/audits/6f1c0e8e-0d1b-4c55-9d6e-2f3f4d9a8b71/report")
    assert not pattern.fullmatch("/v1/audit/audits/6f1c0e8e-0d1b-4c55-9d6e-2f3f4d9a8b71")
    assert not pattern.fullmatch("/v1/audit/audits/a/b/report")
    assert not pattern.fullmatch("/v1/audit/audits//report")
    assert not pattern.fullmatch("/v1/audit/audits/x/report/extra")
    assert pattern.fullmatch("/v1/attribution/campaigns/6f1c0e8e-0d1b-4c55-9d6e-2f3f4d9a8b71/attribution")
    assert not pattern.fullmatch("/v1/attribution/campaigns/6f1c0e8e-0d1b-4c55-9d6e-2f3f4d9a8b71/report")


def test_literal_segments_are_not_patterns():
    pattern = slow_routes(settings(gateway_slow_routes=["/v1/a.b/{id}"]))
    assert pattern.fullmatch("/v1/a.b/1")
    assert not pattern.fullmatch("/v1/axb/1")


def test_no_slow_routes_is_no_pattern():
    assert slow_routes(settings(gateway_slow_routes=[])) is None
