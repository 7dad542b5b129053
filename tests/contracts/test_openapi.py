"""The merged OpenAPI document the gateway serves describes the responses the API really sends:
the project's error body, and an error status for every way an operation can fail."""

import jsonschema_rs
import pytest
import pytest_asyncio

from tests.conftest import unique_handle

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
