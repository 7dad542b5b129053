"""Every operation refuses missing, revoked, expired and under-scoped credentials.

Generated from the route table itself: the running gateway's merged `/openapi.json` (every
operation of every service, and the gateway's own routes), and each service's own document for
direct calls. A route added later is walked here without anyone adding it; one that forgets its
scope cannot even start (`check_routes_declare_scopes`). Each check first proves the operation is
reachable with a good credential (a positive control), so a refusal is the credential's doing.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from runtime.keys import installation_keys
from services.gateway.identity.service import create_key, create_tenant, revoke_key
from shared.db import make_engine, make_sessionmaker
from shared.identity import IDENTITY_HEADER, SCOPES, Identity, IdentitySigner, generate_keypair
from tests.conftest import TEST_STATE, bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

METHODS = ("get", "put", "post", "patch", "delete")
SERVICES = ("discovery", "audit", "attribution")


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    path: str  # the template with syntactically valid values in its parameters
    scope: str | None  # None: public

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.template}"


def _value(parameter: dict) -> str:
    schema = parameter.get("schema", {})
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("format") == "uuid":
            return str(uuid.uuid4())
        if option.get("type") == "integer":
            return str(random.randint(1, 10**6))
    return f"x{uuid.uuid4().hex[:8]}"


def operations_of(document: dict) -> list[Operation]:
    found = []
    for template, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            path = template
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    path = path.replace("{" + parameter["name"] + "}", _value(parameter))
            found.append(Operation(method, template, path, _scope(operation)))
    return found


def _scope(operation: dict) -> str | None:
    """The scope the document says the operation needs (gateway: `x-required-scope` and the
    ApiKey/Jwt requirement; a service: `x-limelight-scope`), None for `security: []`."""
    scope = operation.get("x-required-scope") or operation.get("x-limelight-scope")
    if scope == "public":
        return None
    if scope is None:
        assert operation.get("security") == [], f"neither a scope nor `security: []`: {operation}"
    return scope


async def call(client: httpx.AsyncClient, operation: Operation, headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.request(operation.method.upper(), operation.path, headers=headers or {})


def is_json_error(response: httpx.Response, status: int) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return response.status_code == status and isinstance(body, dict) and {"error", "detail"} <= set(body)


def is_challenge(response: httpx.Response) -> bool:
    return is_json_error(response, 401) and response.headers.get("www-authenticate", "").startswith("Bearer ")


# --- credentials ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    revoked: str
    expired: str
    # scope -> a key holding every scope but that one
    without: dict[str, str]


@pytest_asyncio.fixture(scope="module")
async def keys(platform) -> Keys:
    """A tenant of its own and its keys, made straight in the gateway's schema."""
    engine = make_engine(platform.service_env("gateway")["DATABASE_URL"], pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            tenant = await create_tenant(session, "authorization table")
            revoked_row, revoked = await create_key(session, tenant.id, name="revoked", scopes=tuple(SCOPES))
            await revoke_key(session, tenant.id, revoked_row.id)
            _, expired = await create_key(
                session, tenant.id, name="expired", scopes=tuple(SCOPES),
                expires_at=datetime.now(UTC) - timedelta(hours=1),
            )
            without = {}
            for scope in SCOPES:
                _, key = await create_key(
                    session, tenant.id, name=f"all but {scope}", scopes=[s for s in SCOPES if s != scope]
                )
                without[scope] = key
    finally:
        await engine.dispose()
    return Keys(revoked, expired, without)


# --- through the gateway ----------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module")
async def gateway_operations(anonymous) -> list[Operation]:
    response = await anonymous.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert "did not answer" not in document["info"].get("description", ""), "an upstream is missing"
    found = operations_of(document)
    names = {str(o) for o in found}
    # The table is the whole API: services' operations and the gateway's own public route.
    assert {"GET /v1/discovery/creators", "GET /v1/audit/audits/{audit_id}", "GET /r/{slug}"} <= names, names
    return found


@pytest_asyncio.fixture(scope="module")
async def operator_client(platform, operator_tenant):
    """Every scope on the operator tenant: reaches every operation (the positive control)."""
    async with httpx.AsyncClient(
        base_url=platform.s.url("gateway"), timeout=15, headers=bearer(operator_tenant.key)
    ) as client:
        yield client


async def test_every_protected_operation_is_reachable_with_a_good_key(gateway_operations, operator_client):
    failures = []
    for operation in gateway_operations:
        if operation.scope is not None:
            response = await call(operator_client, operation)
            if response.status_code in (401, 403) or response.status_code >= 500:
                failures.append(f"{operation}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


async def test_every_protected_operation_refuses_a_call_without_credentials(gateway_operations, anonymous):
    failures = []
    for operation in gateway_operations:
        if operation.scope is not None:
            response = await call(anonymous, operation)
            if not is_challenge(response):
                failures.append(f"{operation}: {response.status_code} {dict(response.headers)} {response.text[:200]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("which", ["revoked", "expired"])
async def test_every_protected_operation_refuses_a_dead_key(gateway_operations, anonymous, keys, which):
    key = getattr(keys, which)
    failures = []
    for operation in gateway_operations:
        if operation.scope is not None:
            response = await call(anonymous, operation, bearer(key))
            if not is_challenge(response):
                failures.append(f"{operation}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


async def test_every_protected_operation_refuses_a_key_without_its_scope(gateway_operations, anonymous, keys):
    failures = []
    for operation in gateway_operations:
        if operation.scope is not None:
            response = await call(anonymous, operation, bearer(keys.without[operation.scope]))
            if not is_json_error(response, 403) or operation.scope not in response.json()["detail"]:
                failures.append(f"{operation} ({operation.scope}): {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


async def test_public_operations_answer_the_same_with_or_without_credentials(gateway_operations, anonymous, keys):
    """Public means credentials play no part: none, a revoked key and a good key get one answer,
    and never the door's demand for credentials."""
    public = [o for o in gateway_operations if o.scope is None]
    assert any(o.template == "/r/{slug}" for o in public)
    failures = []
    for operation in public:
        statuses = set()
        for headers in ({}, bearer(keys.revoked), bearer(keys.without["admin"])):
            response = await call(anonymous, operation, headers)
            statuses.add(response.status_code)
            if response.status_code == 401 and "credentials" in str(response.json().get("detail")):
                failures.append(f"{operation}: asked for credentials: {response.text[:200]}")
            if response.status_code >= 500:
                failures.append(f"{operation}: {response.status_code} {response.text[:200]}")
        if len(statuses) != 1:
            failures.append(f"{operation}: answers depend on credentials: {sorted(statuses)}")
    assert not failures, "\n".join(failures)


async def test_the_click_redirect_is_forwarded_to_attribution_without_an_identity(anonymous):
    # Attribution's answer comes back unchanged (its small HTML page for a slug nobody has),
    # whatever identity header a client tries to slip in: a forged one is dropped, not a 401.
    response = await anonymous.get("/r/summer-sale", headers={IDENTITY_HEADER: "forged"})
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html"), response.text


# --- straight to the services -----------------------------------------------------------------


def _signer() -> IdentitySigner:
    return IdentitySigner(installation_keys(TEST_STATE).identity_private_pem)


def _identity(scopes=tuple(SCOPES)) -> Identity:
    return Identity(tenant_id=uuid.uuid4(), subject="authorization-table", scopes=frozenset(scopes))


BAD_TOKENS = {
    "no token": lambda service: {},
    "signed by another key": lambda service: {
        IDENTITY_HEADER: IdentitySigner(generate_keypair()[0]).token(_identity(), audience=service)
    },
    "for another audience": lambda service: {
        IDENTITY_HEADER: _signer().token(_identity(), audience=next(s for s in SERVICES if s != service))
    },
    "expired": lambda service: {
        IDENTITY_HEADER: IdentitySigner(installation_keys(TEST_STATE).identity_private_pem, ttl_seconds=-120).token(
            _identity(), audience=service
        )
    },
    "not a token": lambda service: {IDENTITY_HEADER: "not-a-jwt"},
}


@pytest_asyncio.fixture(scope="module")
async def service_operations(platform) -> dict[str, list[Operation]]:
    found = {}
    async with httpx.AsyncClient(timeout=15) as client:
        for service in SERVICES:
            response = await client.get(f"{platform.s.url(service)}/openapi.json")
            assert response.status_code == 200
            found[service] = operations_of(response.json())
    assert any(o.scope for o in found["discovery"]) and any(o.scope for o in found["audit"])
    return found


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_answers_a_good_token_and_refuses_one_without_the_scope(platform, service_operations, service):
    failures = []
    async with httpx.AsyncClient(base_url=platform.s.url(service), timeout=15) as client:
        for operation in service_operations[service]:
            if operation.scope is None:
                continue
            good = {IDENTITY_HEADER: _signer().token(_identity(), audience=service)}
            response = await call(client, operation, good)
            if response.status_code in (401, 403) or response.status_code >= 500:
                failures.append(f"{service} {operation} with a good token: {response.status_code} {response.text[:200]}")
            lacking = {IDENTITY_HEADER: _signer().token(_identity(set(SCOPES) - {operation.scope}), audience=service)}
            response = await call(client, operation, lacking)
            if not is_json_error(response, 403):
                failures.append(f"{service} {operation} without its scope: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("bad", BAD_TOKENS)
@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_reached_directly_refuses_a_bad_identity(platform, service_operations, service, bad):
    failures = []
    async with httpx.AsyncClient(base_url=platform.s.url(service), timeout=15) as client:
        for operation in service_operations[service]:
            if operation.scope is None:
                continue
            response = await call(client, operation, BAD_TOKENS[bad](service))
            if not is_challenge(response):
                failures.append(f"{service} {operation}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
