"""The merged OpenAPI document the gateway serves describes the responses the API really sends:
the project's error body, and an error status for every way an operation can fail; and what
each operation needs: which credential, holding which scope."""

import httpx
import jsonschema_rs
import pytest
import pytest_asyncio

from runtime.admin import new_tenant
from services.gateway.identity.service import create_key
from shared.db import make_engine, make_sessionmaker
from shared.identity import SCOPES
from tests.conftest import bearer, unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

METHODS = {"get", "put", "post", "patch", "delete"}


@pytest_asyncio.fixture
async def document(gateway) -> dict:
    response = await gateway.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def response_validator(document: dict, operation: dict, status: str) -> jsonschema_rs.Validator:
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


def path_ids(operation: dict) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]


async def test_documented_422_matches_the_body_sent(gateway, document):
    sent = await gateway.post("/v1/discovery/creators", json={"platform": "myspace", "handle": ""})
    assert sent.status_code == 422
    operation = document["paths"]["/v1/discovery/creators"]["post"]
    errors = [e.message for e in response_validator(document, operation, "422").iter_errors(sent.json())]
    assert not errors, errors


async def test_every_operation_with_input_documents_422_as_the_project_error_body(document):
    for name, operation in operations(document):
        if operation.get("parameters") or operation.get("requestBody"):
            schema = operation["responses"].get("422", {}).get("content", {}).get("application/json", {})
            assert schema.get("schema") == {"$ref": "#/components/schemas/InvalidRequestBody"}, name


async def test_fastapi_validation_error_schemas_are_not_published(document):
    assert {"HTTPValidationError", "ValidationError"}.isdisjoint(document["components"]["schemas"])


def _schemas(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


async def test_no_published_object_lets_a_key_that_misses_its_pattern_through(document):
    # `patternProperties` alone accepts a key outside the pattern with any value; the API would
    # reject it, so the schema must say `propertyNames` + `additionalProperties` instead.
    assert not [s for s in _schemas(document) if "patternProperties" in s]


async def test_a_key_the_schema_forbids_is_refused_naming_it(gateway, document):
    body = {"platform": "x", "handle": unique_handle(), "audience": {
        "estimated_at": "2026-11-01T00:00:00Z", "interests": {"fit\u0019ness": 0.2}}}
    schema = document["components"]["schemas"]["Audience"]["properties"]["interests"]
    assert not jsonschema_rs.validator_for(schema).is_valid(body["audience"]["interests"])
    sent = await gateway.post("/v1/discovery/creators", json=body)
    assert sent.status_code == 422
    assert any(e["field"].startswith("body.audience.interests") for e in sent.json()["detail"])


async def test_every_operation_with_a_path_id_documents_404(document):
    for name, operation in operations(document):
        if path_ids(operation):
            assert "404" in operation["responses"], name


async def test_every_operation_documents_503_for_an_unavailable_database(document):
    for name, operation in operations(document):
        assert "503" in operation["responses"], name


@pytest.mark.parametrize(("method", "path"), [("post", "/v1/discovery/creators"), ("patch", "/v1/discovery/creators/{creator_id}")])
async def test_creator_writes_document_the_409_for_a_taken_handle(document, method, path):
    assert "409" in document["paths"][path][method]["responses"]


async def test_documented_409_matches_the_body_sent(gateway, document):
    body = {"platform": "twitch", "handle": unique_handle()}
    await gateway.post("/v1/discovery/creators", json=body)
    sent = await gateway.post("/v1/discovery/creators", json=body)
    assert sent.status_code == 409
    operation = document["paths"]["/v1/discovery/creators"]["post"]
    errors = [e.message for e in response_validator(document, operation, "409").iter_errors(sent.json())]
    assert not errors, errors


async def test_patch_schema_does_not_offer_a_null_handle(document):
    update = document["components"]["schemas"]["CreatorUpdate"]["properties"]["handle"]
    assert "anyOf" not in update and update.get("type") == "string", update


async def test_every_operation_with_a_body_documents_400_for_an_unparseable_body(document):
    for name, operation in operations(document):
        if operation.get("requestBody"):
            assert "400" in operation["responses"], name


PUBLIC_PATHS = {"/r/{slug}", "/healthz", "/readyz"}


async def test_the_reference_shows_the_api_key_and_jwt_schemes_not_the_internal_token(document):
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"ApiKey", "Jwt"}
    assert schemes["ApiKey"] | {"description": ""} == {
        "type": "http", "scheme": "bearer", "bearerFormat": "ll_live_… / ll_test_…", "description": "",
    }
    assert schemes["ApiKey"]["description"]
    assert schemes["Jwt"]["scheme"] == "bearer" and schemes["Jwt"]["bearerFormat"] == "JWT"
    assert "LimelightIdentity" not in str(document)
    assert "x-limelight-scope" not in str(document)
    assert document["openapi"].startswith("3.1")


async def test_every_protected_operation_names_its_scope_for_either_credential(document):
    protected = 0
    for name, operation in operations(document):
        if operation["security"] == []:
            continue
        protected += 1
        scope = operation["x-required-scope"]
        assert scope in SCOPES, name
        assert operation["security"] == [{"ApiKey": [scope]}, {"Jwt": [scope]}], name
        assert f"Requires scope `{scope}`." in operation["description"], name
    assert protected >= 6


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("get", "/v1/discovery/creators", "discovery:read"),
        ("post", "/v1/discovery/creators", "discovery:write"),
        ("patch", "/v1/discovery/creators/{creator_id}", "discovery:write"),
        ("get", "/v1/audit/audits/{audit_id}", "audits:read"),
    ],
)
async def test_the_scope_shown_is_the_one_the_service_declares(document, method, path, scope):
    assert document["paths"][path][method]["x-required-scope"] == scope


async def test_public_routes_need_no_credentials(document):
    for path in PUBLIC_PATHS:
        operation = document["paths"][path]["get"]
        assert operation["security"] == [], path
        assert "x-required-scope" not in operation and "401" not in operation["responses"], path


async def test_every_protected_operation_documents_401_with_its_challenge_and_403(document):
    for name, operation in operations(document):
        if operation["security"] == []:
            continue
        responses = operation["responses"]
        assert responses["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, name
        assert "WWW-Authenticate" in responses["401"]["headers"], name
        assert responses["403"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, name


async def test_every_operation_documents_429_with_its_headers(document):
    for name, operation in operations(document):
        limited = operation["responses"]["429"]
        assert {"Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(limited["headers"]), name
        assert limited["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, name


async def test_documented_401_and_403_match_the_bodies_sent(anonymous, platform, document):
    operation = document["paths"]["/v1/discovery/creators"]["get"]
    sent = await anonymous.get("/v1/discovery/creators")
    assert sent.status_code == 401 and sent.headers["www-authenticate"].startswith("Bearer realm=")
    assert not [e.message for e in response_validator(document, operation, "401").iter_errors(sent.json())]
    tenant = await new_tenant(platform.service_env("gateway")["DATABASE_URL"], "openapi 403")
    engine = make_engine(platform.service_env("gateway")["DATABASE_URL"], pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            _, key = await create_key(session, tenant.tenant_id, name="audits only", scopes=["audits:read"])
    finally:
        await engine.dispose()
    sent = await anonymous.get("/v1/discovery/creators", headers=bearer(key))
    assert sent.status_code == 403
    assert not [e.message for e in response_validator(document, operation, "403").iter_errors(sent.json())]


async def test_a_service_documents_its_scopes_and_auth_errors_in_its_own_reference(platform):
    async with httpx.AsyncClient(timeout=10) as client:
        own = (await client.get(f"{platform.s.url('discovery')}/openapi.json")).json()
    operation = own["paths"]["/creators"]["get"]
    assert operation["x-limelight-scope"] == "discovery:read"
    assert operation["security"] == [{"LimelightIdentity": ["discovery:read"]}]
    assert {"401", "403"} <= set(operation["responses"])
