from functools import lru_cache

from pydantic import Field

from shared.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    """The common service settings, and the audit runner's and pods job's."""

    audit_auto_delay_seconds: float = Field(
        default=300.0, ge=0, le=86_400,
        description="An audit discovery asks for (audit_needed) waits this long after the last material change "
        "before it runs, so the posts and follower counts of one refresh all land first; each further change "
        "pushes it back. An audit asked for through the API runs at once.",
    )
    audit_runner_poll_ms: int = Field(default=250, ge=10, le=60_000, description="How often an idle runner looks for due audits.")
    audit_lease_seconds: float = Field(
        default=120.0, ge=1, le=3600,
        description="A running audit whose runner died is claimable again after this (ADR 0029).",
    )
    audit_max_attempts: int = Field(
        default=3, ge=1, le=20, description="Runs of one audit that may die before it is failed for good."
    )
    pods_quiet_seconds: float = Field(
        default=5.0, ge=0, le=3600, description="Pods are recomputed once no comments arrived for this long..."
    )
    audit_report_chromium: str | None = Field(
        default=None, max_length=1000,
        description="Chromium for the report's PDF (?format=pdf): a path or a command name; unset, the first of "
        "chromium, chromium-browser, google-chrome on PATH. Without one the PDF is answered 503 and the HTML "
        "report still prints from a browser.",
    )
    audit_report_pdf_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="A PDF that Chromium has not printed by then is answered 503."
    )
    audit_report_pdf_concurrency: int = Field(
        default=2, ge=1, le=32, description="Chromium processes printing PDFs at once (each takes ~150 MB)."
    )
    pods_max_wait_seconds: float = Field(
        default=60.0, ge=0, le=86_400, description="...or once comments have waited this long, whichever comes first."
    )


@lru_cache
def get_settings() -> AuditSettings:
    return AuditSettings()
