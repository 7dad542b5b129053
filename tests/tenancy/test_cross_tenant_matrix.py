"""The cross-tenant matrix, generated from the gateway's merged OpenAPI document: every
operation marked `x-tenant-private` is called with a second tenant's key against the first
tenant's objects. Each answers 404 (the same 404 as for an id nobody has), lists never show the
first tenant's rows, and nothing of the first tenant's changes.

A route is marked because its domain package owns a TenantOwned table (shared.tenancy
.mark_tenant_private); `test_every_route_of_a_tenant_owning_package_is_marked` fails if a
service includes such a router without marking it, and the matrix fails if it meets a path
parameter it has no object for: a new tenant-private route cannot be left out.
"""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
import pytest_asyncio
from fastapi.routing import APIRoute

from services.attribution.fraud.models import FraudReview
from services.attribution.ledger import service as ledger
from shared import tenancy
from shared.db import make_engine, make_sessionmaker, utcnow
from tests.audit.flow import finished
from tests.conftest import eventually
from tests.gateway.webhooks.conftest import generic_headers
from tests.tenancy.conftest import new_name

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

PRIVATE = tenancy.TENANT_PRIVATE
VIEW = tenancy.TENANT_VIEW
PARAMETER = re.compile(r"{(\w+)}")
SERVICES = ("discovery", "audit", "attribution")
# Path parameters naming the installation's shared catalogue, which every tenant may act on: a
# POST naming only these makes the caller's own object (a share link of a creator), a create.
SHARED_CATALOGUE = frozenset({"creator_id"})


def is_create(method: str, path: str) -> bool:
    return method == "POST" and set(PARAMETER.findall(path)) <= SHARED_CATALOGUE


async def objects_of(client, creator: dict) -> dict[str, str]:
    """One object of each tenant-private resource, by the path parameter that names it."""
    shortlist = (await client.post("/v1/discovery/shortlists", json={"name": new_name("matrix")})).json()
    entry = await client.put(
        f"/v1/discovery/shortlists/{shortlist['id']}/creators/{creator['id']}", json={"note": "mine", "tags": ["a"]}
    )
    assert entry.status_code == 201, entry.text
    moved = await client.patch(
        f"/v1/discovery/shortlists/{shortlist['id']}/creators/{creator['id']}",
        json={"stage": "contacted", "change_note": "mine"},
    )
    assert moved.status_code == 200, moved.text
    campaign = await client.post(
        "/v1/attribution/campaigns",
        json={"name": new_name("matrix"), "brand": "A", "starts_on": "2027-01-01", "ends_on": "2027-01-31",
              "budget": 1000, "currency": "EUR"},
    )
    assert campaign.status_code == 201, campaign.text
    enrolled = await client.post(
        f"/v1/attribution/campaigns/{campaign.json()['id']}/creators",
        json={"creator_id": creator["id"], "deal_type": "paid", "fee": 500},
    )
    assert enrolled.status_code == 201, enrolled.text
    rules = f"/v1/attribution/campaigns/{campaign.json()['id']}"
    for url in (f"{rules}/rules", f"{rules}/creators/{creator['id']}/rules"):
        rule = await client.post(url, json={"percent": "10", "cap_per_order": 500})
        assert rule.status_code == 201, rule.text
    key = await client.post("/v1/keys", json={"name": new_name("matrix"), "scopes": ["discovery:read"]})
    assert key.status_code == 201, key.text
    source = await client.post("/v1/webhook-sources", json={"kind": "generic", "name": new_name("matrix")})
    assert source.status_code == 201, source.text
    brief = await client.post("/v1/discovery/briefs", json={"name": new_name("matrix"), "brief": {"keywords": ["matrix"]}})
    assert brief.status_code == 201, brief.text
    order = await _partner_order(client, source.json())
    owner = {"campaign_id": campaign.json()["id"], "creator_id": creator["id"]}
    code = await client.post("/v1/attribution/codes", json={**owner, "pattern": "MX{RANDOM}"})
    assert code.status_code == 201, code.text
    link = await client.post("/v1/attribution/links", json={**owner, "destination": "https://shop.example/matrix"})
    assert link.status_code == 201, link.text
    terms = [new_name("matrix")]  # a word no text holds: the list changes no other test's checks
    safety = await client.post("/v1/audit/brand-safety/lists",
                               json={"name": new_name("matrix"), "category": "competitor_brands", "terms": terms})
    assert safety.status_code == 201, safety.text
    # The brand-safety check reads audit's copy of the creator: wait for discovery's event.
    await eventually(lambda: _held_by_audit(client, creator["id"]), timeout=60)
    share_link, appeal = await _share_link_and_appeal(client, creator)
    holdout = await client.post("/v1/attribution/holdout-tests", json={
        "name": new_name("matrix"), "campaign_id": campaign.json()["id"], "unit": "country",
        "treatment": ["DE", "AT"], "control": ["FR", "BE"], "pre_period": {"start": "2026-10-01", "end": "2026-10-07"},
        "test_period": {"start": "2026-10-08", "end": "2026-10-14"}})
    assert holdout.status_code == 201, holdout.text
    today = datetime.now(UTC).date()
    audience = await client.post("/v1/attribution/audience-holdouts", json={
        "name": new_name("matrix"), "campaign_id": campaign.json()["id"], "link_ids": [link.json()["id"]],
        "holdout_share": "0.1", "starts_on": (today + timedelta(days=400)).isoformat(),
        "ends_on": (today + timedelta(days=401)).isoformat()})
    assert audience.status_code == 201, audience.text
    activation = await client.post(f"{rules}/activations", json={
        "creator_id": creator["id"], "platform": "instagram", "format": "reel",
        "url": f"https://instagram.example/p/{new_name('matrix')}", "posted_at": "2027-01-05T10:00:00Z"})
    assert activation.status_code == 201, activation.text
    observed = await client.post(f"{rules}/activations/{activation.json()['id']}/snapshots",
                                 json={"observed_at": "2027-01-06T10:00:00Z", "impressions": 100})
    assert observed.status_code == 201, observed.text
    privacy = await client.post("/v1/privacy/requests", json={
        "kind": "export", "subject": {"type": "customer", "email": f"{new_name('matrix')}@example.com"}})
    assert privacy.status_code == 202, privacy.text
    await eventually(lambda: _receipts_done(client, privacy.json()["id"]), timeout=60)
    return {
        "request_id": privacy.json()["id"],
        "shortlist_id": shortlist["id"], "creator_id": creator["id"], "campaign_id": campaign.json()["id"],
        "key_id": key.json()["id"], "source_id": source.json()["id"], "brief_id": brief.json()["id"],
        "code_id": code.json()["id"], "link_id": link.json()["id"], "order_id": order["id"],
        "list_id": safety.json()["id"],
        "share_link_id": share_link["id"], "appeal_id": appeal["id"],
        "holdout_test_id": holdout.json()["id"], "audience_holdout_id": audience.json()["id"],
        "activation_id": activation.json()["id"],
    }


async def _receipts_done(client, request_id: str) -> bool:
    """Every service has acted on the privacy request (each holds its receipt)."""
    return (await client.get(f"/v1/privacy/requests/{request_id}")).json()["status"] == "done"


async def _held_by_audit(client, creator_id: str) -> bool:
    return (await client.get(f"/v1/audit/creators/{creator_id}")).status_code == 200


async def _share_link_and_appeal(client, creator: dict) -> tuple[dict, dict]:
    """A share link of the creator's audits, and an appeal filed through it against a completed audit."""

    async def shared():
        made = await client.post(f"/v1/audit/creators/{creator['id']}/share-links", json={})
        return made.json() if made.status_code == 201 else None  # 404 until audit's projection holds the creator

    share_link = await eventually(shared)
    requested = await client.post("/v1/audit/audits", json={"creator_id": creator["id"]})
    assert requested.status_code in (200, 202), requested.text
    audit = await finished(client, requested.json()["id"])
    assert audit["status"] == "completed", audit
    appeal = await client.post(f"/shared/audits/{share_link['token']}/appeals", json={
        "audit_id": audit["id"], "flag": audit["signals"][0]["name"], "comment": "matrix appeal",
    })
    assert appeal.status_code == 201, appeal.text
    return share_link, appeal.json()


@pytest_asyncio.fixture
async def ledger_ids(platform, tenant) -> dict[str, str]:
    """A payout of the suite tenant's. Orders are not consumed yet, so its commission is written by
    the ledger's service function, as the order path will write it."""
    engine = make_engine(platform.service_env("attribution")["DATABASE_URL"], pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            tenancy.bind_tenant(session, tenant.tenant_id)
            creator = uuid.uuid4()
            await ledger.record_commission(
                session, source="matrix", order_id=new_name("order"), line_key="order", creator_id=creator,
                campaign_id=uuid.uuid4(), currency="EUR", amount=100, hold_until=utcnow(), reason="matrix",
            )
            payout = await ledger.create_payout(session, creator, "EUR", utcnow())
            # A held order, as the fraud rules leave one (fraud/service.py `screen`).
            review = FraudReview(id=uuid.uuid4(), order_ref=uuid.uuid4(), source="matrix", order_id=new_name("held"),
                                 creator_id=creator, campaign_id=uuid.uuid4(), findings=[], thresholds={}, status="held")
            session.add(review)
    finally:
        await engine.dispose()
    return {"payout_id": str(payout.id), "review_id": str(review.id)}
async def _partner_order(client, source: dict) -> dict:
    """An order of the tenant's, as its partner sends it: signed to the generic webhook, consumed."""
    order_id = new_name("matrix-order")
    body = json.dumps({"type": "order", "order_id": order_id, "placed_at": "2026-11-20T10:00:00Z", "currency": "EUR",
                       "line_items": [{"id": "1", "quantity": 1, "unit_price": "10.00"}]}).encode()
    response = await client.post(f"/webhooks/generic/{source['id']}", content=body,
                                 headers=generic_headers(source["secret"], body, event="order"))
    assert response.status_code == 200, response.text

    async def consumed():
        listed = await client.get("/v1/attribution/orders", params={"source": "generic", "limit": 200})
        return next((item for item in listed.json()["items"] if item["partner_order_id"] == order_id), None)

    return await eventually(consumed, timeout=60)


async def every_page(client, path: str) -> str:
    """Every page of a list, as text: the suite's tenants have made many of some things."""
    texts, params = [], {}
    for _ in range(100):
        # Only a paged list takes limit and cursor (a route refuses a query parameter it does not take)
        response = await client.get(path, params=params)
        assert response.status_code == 200, (path, response.text)
        texts.append(response.text)
        body = response.json()
        cursor = body.get("next_cursor") if isinstance(body, dict) else None
        if not cursor:
            return "".join(texts)
        params = {"limit": 200, "cursor": cursor}
    raise AssertionError(f"{path}: more than 100 pages")


def private_operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and operation.get(PRIVATE)
    ]


def _resolve(document: dict, schema: dict) -> dict:
    ref = schema.get("$ref")
    return _resolve(document, document["components"]["schemas"][ref.rsplit("/", 1)[1]]) if ref else schema


def hostile_body(document: dict, operation: dict) -> dict | None:
    """A body that would change something if it got through: every free-text field set."""
    if "application/json" not in operation.get("requestBody", {}).get("content", {}):
        return None  # no body, or not JSON (a CSV import): the tenant must stop it either way
    schema = _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    # The documented example, when there is one, is a body the API takes.
    body = dict((schema.get("examples") or [{}])[0])
    for name, prop in schema.get("properties", {}).items():
        value = "written by another tenant"
        if prop.get("type") != "string" or "format" in prop or "enum" in prop:
            continue
        if len(value) > prop.get("maxLength", 10**6) or (prop.get("pattern") and not re.search(prop["pattern"], value)):
            continue
        body[name] = value
    # A required field the text above cannot fill (an id, a choice): a valid value, so that what
    # stops the request is the tenant, not the body.
    for name in schema.get("required", []):
        if name not in body:
            prop = _resolve(document, schema["properties"][name])
            if prop.get("format") == "uuid":
                body[name] = str(uuid.uuid4())
            elif "enum" in prop:
                body[name] = prop["enum"][0]
            elif prop.get("examples"):
                body[name] = prop["examples"][0]
    return body


def _masked(text: str, values: dict[str, str], names: list[str]) -> str:
    for name in names:
        text = text.replace(values[name], f"<{name}>")
    return text


async def state_of(client, document: dict, ids: dict[str, str]) -> dict[str, object]:
    """What the owner reads of its objects: every tenant-private GET with path parameters."""
    seen = {}
    for method, path, _ in private_operations(document):
        if method == "GET" and PARAMETER.search(path):
            response = await client.get(path.format(**ids))
            assert response.status_code == 200, (path, response.text)
            # A CSV export is compared as text; everything else as JSON.
            is_json = response.headers["content-type"].startswith("application/json")
            seen[path] = response.json() if is_json else response.text
    return seen


async def test_another_tenant_can_neither_see_nor_change_a_tenants_objects(gateway, other, creator, ledger_ids):
    document = (await gateway.get("/openapi.json")).json()
    operations = private_operations(document)
    assert {path for _, path, _ in operations} >= {
        "/v1/audit/share-links/{share_link_id}", "/v1/audit/appeals/{appeal_id}",
        "/v1/audit/appeals/{appeal_id}/resolution",
        "/v1/discovery/shortlists/{shortlist_id}", "/v1/attribution/campaigns/{campaign_id}",
        "/v1/keys/{key_id}", "/v1/webhook-sources/{source_id}", "/v1/discovery/briefs/{brief_id}",
        "/v1/attribution/payouts/{payout_id}", "/v1/attribution/payouts/{payout_id}/export.csv",
        "/v1/attribution/campaigns/{campaign_id}/report", "/v1/attribution/creators/{creator_id}/report",
        "/v1/audit/brand-safety/lists/{list_id}", "/v1/audit/creators/{creator_id}/brand-safety",
    }
    ids = {**await objects_of(gateway, creator), **ledger_ids}
    before = await state_of(gateway, document, ids)
    walked = []
    for method, path, operation in operations:
        names = PARAMETER.findall(path)
        if is_create(method, path) and names:
            continue  # another tenant makes its own: tests/audit/test_share_links.py shows it sees none of ours
        if not names:
            if method == "GET":  # a list: the owner's rows are in it, and only for the owner
                item_keys = {PARAMETER.findall(p)[0] for _, p, _ in operations if p.startswith(path + "/{")}
                theirs = await every_page(other, path)
                mine = await every_page(gateway, path)
                for key in item_keys:
                    assert ids[key] in mine, f"{path}: the owner's {key} is not in its own list"
                    assert ids[key] not in theirs, f"{path} shows another tenant's {key}"
                walked.append((method, path))
            elif method in ("PUT", "PATCH"):  # a tenant's own singleton (its settings): the other's write is its own
                mine = (await gateway.get(path)).json()
                written = await other.request(method, path, json=hostile_body(document, operation))
                assert written.status_code == 200, (path, written.text)
                assert (await gateway.get(path)).json() == mine, f"{method} {path} by another tenant changed the owner's"
                walked.append((method, path))
            continue  # a create makes the caller's own object
        missing = [name for name in names if name not in ids]
        assert not missing, f"{method} {path}: add an object for {missing} to objects_of()"
        if operation.get(VIEW):  # a shared object through the caller's private data: its own answer
            await _sees_only_its_own(gateway, other, path, ids, names)
            walked.append((method, path))
            continue
        body = hostile_body(document, operation)
        guesses = {name: str(uuid.uuid4()) for name in names}
        leaked = await other.request(method, path.format(**ids), json=body)
        guessed = await other.request(method, path.format(**guesses), json=body)
        assert leaked.status_code == 404, f"{method} {path} answered {leaked.status_code} to another tenant: {leaked.text}"
        # Word for word the answer for ids nobody has: nothing tells the other tenant the id exists.
        assert _masked(leaked.text, ids, names) == _masked(guessed.text, guesses, names), (leaked.text, guessed.text)
        walked.append((method, path))
    assert await state_of(gateway, document, ids) == before
    # Every marked operation except creates was walked.
    assert len(walked) == len([o for o in operations if not is_create(o[0], o[1])])


async def _sees_only_its_own(owner, other, path: str, ids: dict[str, str], names: list[str]) -> None:
    """A shared object read through each tenant's private data (x-tenant-view): the other tenant
    is answered, and nothing of the owner's objects is in its answer, while the owner's answer
    shows some (or the check could not fail)."""
    private = [value for name, value in ids.items() if name not in names]
    mine = await owner.get(path.format(**ids))
    theirs = await other.get(path.format(**ids))
    assert theirs.status_code == 200, f"GET {path} answered {theirs.status_code} to another tenant: {theirs.text}"
    assert any(value in mine.text for value in private), f"GET {path}: the owner's answer shows none of its objects"
    leaked = [value for value in private if value in theirs.text]
    assert not leaked, f"GET {path} shows another tenant's objects {leaked}: {theirs.text}"


async def test_the_matrix_would_see_a_leak(gateway, creator, ledger_ids):
    """The owner itself gets 2xx where the other tenant got 404: the matrix can fail."""
    document = (await gateway.get("/openapi.json")).json()
    ids = {**await objects_of(gateway, creator), **ledger_ids}
    for method, path, _ in private_operations(document):
        if method == "GET" and PARAMETER.search(path):
            assert (await gateway.get(path.format(**ids))).status_code == 200


def _app(service: str):
    config = import_module(f"services.{service}.config")
    settings_class = next(v for k, v in vars(config).items() if k.endswith("Settings") and k != "ServiceSettings")
    main = import_module(f"services.{service}.main")
    return main.create_app(settings_class(database_url="postgresql+asyncpg://unused/unused"))


@pytest.mark.parametrize("service", SERVICES)
async def test_every_route_of_a_tenant_owning_package_is_marked(service):
    app = _app(service)
    document = app.openapi()
    unmarked = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        if tenancy._owns_tenant_tables(route.endpoint.__module__):
            for method in route.methods - {"HEAD", "OPTIONS"}:
                if not document["paths"][route.path][method.lower()].get(PRIVATE):
                    unmarked.append(f"{method} {route.path}")
    assert not unmarked, f"routes on tenant-owned tables without {PRIVATE} (use shared.tenancy.mark_tenant_private): {unmarked}"
