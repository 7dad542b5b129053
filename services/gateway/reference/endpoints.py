from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse

from services.gateway.reference.service import merged_spec
from shared.contracts.asyncapi import asyncapi_document

router = APIRouter()


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> JSONResponse:
    """The merged OpenAPI document of every service behind the gateway."""
    app = request.app
    base = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    return JSONResponse(await merged_spec(app.state.http, app.state.routes, base))


@router.get("/docs", include_in_schema=False)
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Limelight API reference")


@router.get("/redoc", include_in_schema=False)
async def redoc() -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title="Limelight API reference")


@router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi(request: Request) -> JSONResponse:
    """The AsyncAPI document of every Kafka topic and its event contracts."""
    return JSONResponse(asyncapi_document(request.app.version, request.app.state.ctx.settings.kafka_bootstrap_servers))
