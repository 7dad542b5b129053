"""A share link's token is a secret in a URL path: whatever logs a request path logs it redacted
(shared/observability.py `loggable_path`), the error handler's lines and uvicorn's access log alike."""

import logging

import httpx
import pytest
from fastapi import FastAPI

from shared.errors import Unavailable, install_error_handlers
from shared.observability import _RedactAccessPaths, loggable_path

TOKEN = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg"


def test_share_link_paths_are_redacted_and_others_kept():
    assert loggable_path(f"/shared/audits/{TOKEN}") == "/shared/audits/{token}"
    assert loggable_path(f"/shared/audits/{TOKEN}/appeals") == "/shared/audits/{token}/appeals"
    assert loggable_path(f"/v1/audit/shared/audits/{TOKEN}?a=1") == "/v1/audit/shared/audits/{token}?a=1"
    assert loggable_path("/v1/audit/audits/42") == "/v1/audit/audits/42"
    assert loggable_path(None) is None


def test_the_access_log_line_is_redacted():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", f"/shared/audits/{TOKEN}", "1.1", 200), None)
    assert _RedactAccessPaths().filter(record)
    assert TOKEN not in record.getMessage() and "/shared/audits/{token}" in record.getMessage()


@pytest.mark.asyncio
async def test_a_failed_request_on_a_shared_view_logs_its_path_without_the_token(caplog):
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/shared/audits/{token}")
    async def view(token: str):
        raise Unavailable("the database is unavailable; retry shortly")

    with caplog.at_level(logging.WARNING, logger="shared.errors"):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://audit") as client:
            assert (await client.get(f"/shared/audits/{TOKEN}")).status_code == 503
    [line] = [r for r in caplog.records if r.name == "shared.errors"]
    assert line.path == "/shared/audits/{token}"
    assert TOKEN not in str(line.__dict__)
