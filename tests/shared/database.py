"""Helpers for tests that take the suite's PostgreSQL down or watch an engine's own connections
(the read path, database outages); the engine fixtures are in tests/shared/conftest.py."""

import pgserver

from runtime import services


def restart_postgres(platform) -> None:
    """Start the suite's PostgreSQL again and wait until every service is ready."""
    # The handle pgserver cached when the suite started it would not start it again.
    pgserver.get_server(platform.postgres.pgdata, cleanup_mode=None).ensure_postgres_running()
    for service in services.START_ORDER:
        services.wait_healthy(platform.s, service)


async def sessions_of(application_name: str, discovery_db) -> list[dict]:
    """State and transaction start of each connection the engine named `application_name` holds."""
    found = await discovery_db.fetch(
        "select state, xact_start from pg_stat_activity where application_name = $1", application_name
    )
    return [dict(r) for r in found]
