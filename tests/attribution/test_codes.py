"""Affiliate codes through the gateway: chosen and generated codes, the unambiguous alphabet,
uniqueness per tenant whatever the case (409 naming the code), enrolment and campaign checks
(409 naming the field), usage limit and expiry, revocation that keeps the code reserved, the
list's filters, and another tenant's 404."""

import asyncio
import re
import uuid

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CAMPAIGNS = "/v1/attribution/campaigns"
CODES = "/v1/attribution/codes"
UNAMBIGUOUS = set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")


async def enrolled(client, **campaign) -> tuple[str, str]:
    """(campaign id, creator id) of a fresh campaign with one creator enrolled."""
    made = await client.post(
        CAMPAIGNS,
        json={"name": f"codes-{uuid.uuid4().hex[:8]}", "brand": "Acme", "starts_on": "2027-03-01",
              "ends_on": "2027-03-31", "budget": 100_000, "currency": "EUR", **campaign},
    )
    assert made.status_code == 201, made.text
    creator_id = str(uuid.uuid4())
    enrolment = await client.post(f"{CAMPAIGNS}/{made.json()['id']}/creators", json={"creator_id": creator_id, "deal_type": "affiliate"})
    assert enrolment.status_code == 201, enrolment.text
    return made.json()["id"], creator_id


def unique_code(prefix: str = "V") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


async def make(client, campaign_id, creator_id, **body) -> dict:
    response = await client.post(CODES, json={"campaign_id": campaign_id, "creator_id": creator_id, **body})
    assert response.status_code == 201, response.text
    return response.json()


def fields(response) -> list[str]:
    return [problem["field"] for problem in response.json()["detail"]]


async def test_a_chosen_code_reads_back_as_chosen(gateway):
    campaign_id, creator_id = await enrolled(gateway)
    code = unique_code("Maya")
    made = await make(gateway, campaign_id, creator_id, code=code, usage_limit=100)
    assert made["code"] == code and made["origin"] == "chosen" and made["state"] == "active" and made["uses"] == 0
    assert (await gateway.get(f"{CODES}/{made['id']}")).json() == made


async def test_a_code_taken_in_another_case_is_a_409_naming_it(gateway):
    campaign_id, creator_id = await enrolled(gateway)
    other_campaign, other_creator = await enrolled(gateway)
    code = unique_code("maya")
    await make(gateway, campaign_id, creator_id, code=code)
    response = await gateway.post(CODES, json={"campaign_id": other_campaign, "creator_id": other_creator, "code": code.upper()})
    assert response.status_code == 409, response.text
    assert fields(response) == ["body.code"] and code.upper() in response.json()["detail"][0]["reason"]


async def test_another_tenant_may_use_the_same_code(gateway, other_gateway):
    code = unique_code()
    await make(gateway, *(await enrolled(gateway)), code=code)
    theirs = await make(other_gateway, *(await enrolled(other_gateway)), code=code.lower())
    assert theirs["code"] == code.lower()


async def test_a_generated_code_fills_the_pattern_upper_cased(gateway):
    campaign_id, creator_id = await enrolled(gateway)
    handle = f"m{uuid.uuid4().hex[:8]}"
    made = await make(gateway, campaign_id, creator_id, pattern="{HANDLE}{PERCENT}", values={"HANDLE": handle, "PERCENT": "15"})
    assert made["code"] == f"{handle.upper()}15" and made["origin"] == "generated" and made["pattern"] == "{HANDLE}{PERCENT}"


async def test_a_taken_pattern_result_gets_unambiguous_random_characters(gateway):
    campaign_id, creator_id = await enrolled(gateway)
    handle = f"h{uuid.uuid4().hex[:8]}".upper()
    body = {"pattern": "{HANDLE}{PERCENT}", "values": {"HANDLE": handle, "PERCENT": "20"}}
    first = await make(gateway, campaign_id, creator_id, **body)
    second = await make(gateway, campaign_id, creator_id, **body)
    assert first["code"] == f"{handle}20"
    assert second["code"].startswith(f"{handle}20") and second["code"] != first["code"]
    added = second["code"][len(first["code"]):]
    assert 2 <= len(added) and set(added) <= UNAMBIGUOUS, added


async def test_random_placeholders_use_the_unambiguous_alphabet(gateway):
    campaign_id, creator_id = await enrolled(gateway)
    for _ in range(10):
        made = await make(gateway, campaign_id, creator_id, pattern="LL{RANDOM}{RANDOM}")
        assert re.fullmatch(r"LL[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8,}", made["code"]), made["code"]


async def test_one_creator_may_have_several_codes_and_the_list_filters(gateway):
    campaign_id, creator_id = await enrolled(gateway)
    a = await make(gateway, campaign_id, creator_id, code=unique_code())
    b = await make(gateway, campaign_id, creator_id, code=unique_code())
    await gateway.post(f"{CODES}/{b['id']}/revoke")
    mine = (await gateway.get(CODES, params={"creator_id": creator_id})).json()["items"]
    assert [c["id"] for c in mine] == [a["id"], b["id"]]
    active = (await gateway.get(CODES, params={"creator_id": creator_id, "state": "active"})).json()["items"]
    revoked = (await gateway.get(CODES, params={"campaign_id": campaign_id, "state": "revoked"})).json()["items"]
    assert [c["id"] for c in active] == [a["id"]] and [c["id"] for c in revoked] == [b["id"]]


async def test_a_creator_not_enrolled_is_a_409_naming_creator_id(gateway):
    campaign_id, _ = await enrolled(gateway)
    response = await gateway.post(CODES, json={"campaign_id": campaign_id, "creator_id": str(uuid.uuid4()), "code": unique_code()})
    assert response.status_code == 409 and fields(response) == ["body.creator_id"], response.text


async def test_an_ended_campaign_is_a_409_naming_campaign_id(gateway):
    campaign_id, creator_id = await enrolled(gateway)
    for status in ("active", "ended"):
        assert (await gateway.patch(f"{CAMPAIGNS}/{campaign_id}", json={"status": status})).status_code == 200
    response = await gateway.post(CODES, json={"campaign_id": campaign_id, "creator_id": creator_id, "code": unique_code()})
    assert response.status_code == 409 and fields(response) == ["body.campaign_id"], response.text


async def test_another_tenants_campaign_is_one_that_does_not_exist(gateway, other_gateway):
    campaign_id, creator_id = await enrolled(gateway)
    response = await other_gateway.post(CODES, json={"campaign_id": campaign_id, "creator_id": creator_id, "code": unique_code()})
    assert response.status_code == 409 and fields(response) == ["body.campaign_id"], response.text
    assert "does not exist" in response.json()["detail"][0]["reason"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "AB"}, "body.code"),
        ({"code": "MAYA 15"}, "body.code"),
        ({"code": "x" * 33}, "body.code"),
        ({"code": "MAYA\u00e915"}, "body.code"),
        ({}, "body.code"),
        ({"code": "MAYA15", "pattern": "{HANDLE}"}, "body.code"),
        ({"pattern": "{HANDLE}{FOO}", "values": {"HANDLE": "maya"}}, "body.pattern"),
        ({"pattern": "{HANDLE}15"}, "body.values"),
        ({"pattern": "MAYA{PERCENT}", "values": {"PERCENT": "0"}}, "body.values.PERCENT"),
        ({"pattern": "MAYA{PERCENT}", "values": {"PERCENT": "15", "HANDLE": "x"}}, "body.values.HANDLE"),
        ({"pattern": "MA YA"}, "body.pattern"),
        ({"code": "MAYA15", "usage_limit": 0}, "body.usage_limit"),
        ({"code": "MAYA15", "usage_limit": "5"}, "body.usage_limit"),
        ({"code": "MAYA15", "expires_at": "2027-03-31T00:00:00"}, "body.expires_at"),
        ({"code": "MAYA15", "expires_at": 0}, "body.expires_at"),
        ({"code": "MAYA15", "expires_at": 1.9e9}, "body.expires_at"),
        ({"code": "MAYA15", "values": {"HANDLE": "x"}}, "body.values"),
    ],
)
async def test_bad_codes_are_refused_naming_the_field(gateway, body, field):
    response = await gateway.post(CODES, json={"campaign_id": str(uuid.uuid4()), "creator_id": str(uuid.uuid4()), **body})
    assert response.status_code == 422, response.text
    assert field in fields(response), response.text


@pytest.mark.parametrize(("pattern", "values"), [("{HANDLE}", {"HANDLE": "A" * 29}), ("X{PERCENT}", {"PERCENT": "5"})])
async def test_a_pattern_whose_code_is_too_long_or_short_is_refused_naming_pattern(gateway, pattern, values):
    # 29 + up to 4 added characters would pass 32; "X5" is under 3.
    response = await gateway.post(
        CODES, json={"campaign_id": str(uuid.uuid4()), "creator_id": str(uuid.uuid4()), "pattern": pattern, "values": values}
    )
    assert response.status_code == 422 and fields(response) == ["body.pattern"], response.text


async def test_limit_and_expiry_change_the_state_and_null_clears_them(gateway):
    campaign_id, creator_id = await enrolled(gateway)
    made = await make(gateway, campaign_id, creator_id, code=unique_code(), usage_limit=10)
    expired = await gateway.patch(f"{CODES}/{made['id']}", json={"expires_at": "2020-01-01T00:00:00Z"})
    assert expired.status_code == 200 and expired.json()["state"] == "expired", expired.text
    listed = (await gateway.get(CODES, params={"creator_id": creator_id, "state": "expired"})).json()["items"]
    assert [c["id"] for c in listed] == [made["id"]]
    cleared = await gateway.patch(f"{CODES}/{made['id']}", json={"expires_at": None, "usage_limit": None})
    assert cleared.json()["state"] == "active" and cleared.json()["usage_limit"] is None and cleared.json()["expires_at"] is None


async def test_a_revoked_code_stays_reserved_and_cannot_change(gateway):
    campaign_id, creator_id = await enrolled(gateway)
    other_campaign, other_creator = await enrolled(gateway)
    code = unique_code()
    made = await make(gateway, campaign_id, creator_id, code=code)
    revoked = await gateway.post(f"{CODES}/{made['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    again = await gateway.post(f"{CODES}/{made['id']}/revoke")
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    taken = await gateway.post(CODES, json={"campaign_id": other_campaign, "creator_id": other_creator, "code": code.lower()})
    assert taken.status_code == 409 and fields(taken) == ["body.code"], taken.text
    changed = await gateway.patch(f"{CODES}/{made['id']}", json={"usage_limit": 5})
    assert changed.status_code == 409 and fields(changed) == ["path.code_id"], changed.text


async def test_another_tenant_gets_404_for_a_code(gateway, other_gateway):
    made = await make(gateway, *(await enrolled(gateway)), code=unique_code())
    for method, path in (("GET", ""), ("PATCH", ""), ("POST", "/revoke")):
        response = await other_gateway.request(method, f"{CODES}/{made['id']}{path}", json={} if method == "PATCH" else None)
        assert response.status_code == 404, (method, response.text)
    assert made["id"] not in (await other_gateway.get(CODES, params={"limit": 200})).text
    assert (await gateway.get(f"{CODES}/{made['id']}")).json()["state"] == "active"


async def test_a_retried_create_makes_one_code(gateway):
    campaign_id, creator_id = await enrolled(gateway)
    body = {"campaign_id": campaign_id, "creator_id": creator_id, "pattern": "R{RANDOM}"}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await gateway.post(CODES, json=body, headers=key)
    second = await gateway.post(CODES, json=body, headers=key)
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert len((await gateway.get(CODES, params={"creator_id": creator_id})).json()["items"]) == 1


async def test_two_creates_racing_for_one_code_make_one_and_a_409(gateway):
    a, b = await enrolled(gateway), await enrolled(gateway)
    code = unique_code()
    answers = await asyncio.gather(
        *(gateway.post(CODES, json={"campaign_id": c, "creator_id": p, "code": v}) for (c, p), v in ((a, code), (b, code.lower())))
    )
    assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
    [refused] = [r for r in answers if r.status_code == 409]
    assert fields(refused) == ["body.code"]
