"""Audit service: `uvicorn services.audit.main:create_app --factory`."""

from fastapi import FastAPI

from services.audit import api
from services.audit.audit.handlers import creator_consumer
from services.audit.audit.runner import AuditRunner
from services.audit.config import AuditSettings, get_settings
from services.audit.db import SERVICE, OutboxMessage
from services.audit.engine.disclosure.rulebook import default_rulebook
from services.audit.pods.job import PodsJob
from services.audit.privacy.handlers import privacy_consumer
from shared.app import ServiceContext, create_service_app, outbox_relay


def workers(ctx: ServiceContext):
    return [
        outbox_relay(ctx, OutboxMessage),
        creator_consumer(ctx),
        privacy_consumer(ctx),
        AuditRunner(ctx.sessionmaker, ctx.settings),
        PodsJob(ctx.sessionmaker, ctx.settings),
    ]


def create_app(settings: AuditSettings | None = None) -> FastAPI:
    # The disclosure rule files, read and validated once: a broken file stops the service here,
    # naming the file and the field (engine.disclosure.rulebook.RuleFileError).
    default_rulebook()
    return create_service_app(
        name=SERVICE,
        settings=settings or get_settings(),
        title="Limelight Audit",
        description="Authenticity audits of creators' audiences.",
        router=api.router,
        workers=workers,
    )
