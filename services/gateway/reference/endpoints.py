from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from shared.contracts.asyncapi import asyncapi_document
from shared.identity import public

router = APIRouter()


@router.get("/openapi.json", include_in_schema=False, dependencies=[public()])
async def openapi(request: Request) -> JSONResponse:
    """The merged OpenAPI document of every service behind the gateway."""
    app = request.app
    return JSONResponse(await app.state.reference.get(app.state.own_http, app.state.routes))


@router.get("/docs", include_in_schema=False, dependencies=[public()])
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Limelight API reference")


@router.get("/redoc", include_in_schema=False, dependencies=[public()])
async def redoc() -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title="Limelight API reference")


@router.get("/asyncapi.json", include_in_schema=False, dependencies=[public()])
async def asyncapi(request: Request) -> JSONResponse:
    """The AsyncAPI document of every Kafka topic and its event contracts."""
    # No `servers` (optional in AsyncAPI 3.0): the broker is not reachable from outside and its
    # address is nobody's business there; the document describes the topics and contracts.
    return JSONResponse(asyncapi_document(request.app.version))
