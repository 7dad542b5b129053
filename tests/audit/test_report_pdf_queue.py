"""A PDF request waits for a printing slot only so long (services/audit/report/endpoints.py): with
every printer busy it is a 503 saying so, not a queue that outlives the gateway's timeout; the
slot is given back whatever the print does."""

import asyncio
from types import SimpleNamespace

import pytest

from services.audit.report import endpoints
from services.audit.report.pdf import PdfUnavailable

SETTINGS = SimpleNamespace(audit_report_pdf_concurrency=1, audit_report_chromium=None, audit_report_pdf_timeout_seconds=5)


@pytest.mark.asyncio
async def test_a_request_finding_every_printer_busy_is_refused_after_the_wait(monkeypatch):
    busy = asyncio.Semaphore(0)
    monkeypatch.setattr(endpoints, "_printing", lambda: busy)
    monkeypatch.setattr(endpoints, "get_settings", lambda: SETTINGS)
    monkeypatch.setattr(endpoints, "PDF_QUEUE_SECONDS", 0.05)
    with pytest.raises(PdfUnavailable, match="all 1 PDF printers are busy"):
        await endpoints.pdf_of("<p>x</p>")


@pytest.mark.asyncio
async def test_the_slot_is_given_back_when_the_print_fails(monkeypatch):
    slots = asyncio.Semaphore(1)
    monkeypatch.setattr(endpoints, "_printing", lambda: slots)
    monkeypatch.setattr(endpoints, "get_settings", lambda: SETTINGS)
    monkeypatch.setattr(endpoints, "find_chromium", lambda configured: None)

    def failing(html, chromium, *, timeout):
        raise PdfUnavailable("no Chromium here")

    monkeypatch.setattr(endpoints, "html_to_pdf", failing)
    for _ in range(2):  # the second would wait forever if the first kept its slot
        with pytest.raises(PdfUnavailable, match="no Chromium"):
            await asyncio.wait_for(endpoints.pdf_of("<p>x</p>"), timeout=2)
