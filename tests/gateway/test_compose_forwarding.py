"""Under docker compose, too, the services see the client address the gateway saw, and only that.

The compose file is read, never started (no Docker needed), like tests/runtime's compose checks.
"""

import yaml

from runtime.config import ROOT

UPSTREAMS = ("discovery", "audit", "attribution")


def _command(service: str) -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return [str(part) for part in compose["services"][service]["command"]]


def test_the_compose_gateway_does_not_trust_a_clients_forwarding_headers():
    assert "--no-proxy-headers" in _command("gateway")


def test_compose_upstreams_trust_the_forwarded_for_the_gateway_writes():
    # uvicorn's default (FORWARDED_ALLOW_IPS=127.0.0.1) is never the gateway's container address.
    assert all(
        any(arg.startswith("--forwarded-allow-ips=") for arg in _command(service)) for service in UPSTREAMS
    ), {service: _command(service) for service in UPSTREAMS}
