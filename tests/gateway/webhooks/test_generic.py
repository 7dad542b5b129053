"""Generic partner deliveries (`Limelight-Signature`) through the running gateway."""

import hashlib
import re
import time

import pytest

from runtime.config import ROOT
from services.gateway.webhooks.ingress import GENERIC_DOC
from services.gateway.webhooks.signatures import generic_signature
from tests.gateway.webhooks.conftest import create_generic_source, generic_headers, published

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

BODY = b'{"event":"order.created","order_id":"A-77","total":"120.00","currency":"USD","code":"MAYA10"}'


async def test_signed_generic_delivery_is_published_with_its_event_name(platform, gateway, anonymous, tenant):
    source = await create_generic_source(gateway)
    headers = generic_headers(source.secret, BODY, event="order.created")

    response = await anonymous.post(source.url, content=BODY, headers=headers)

    assert response.status_code == 200, response.text
    [event] = await published(platform, source.id)
    assert event["tenant_id"] == str(tenant.tenant_id)
    assert event["payload"]["body"].encode() == BODY
    assert event["payload"]["topic"] == "order.created"
    assert event["payload"]["delivery_id"] == headers["Limelight-Delivery-Id"]
    assert event["payload"]["source"] == "generic"


# +305, not +301: the gateway reads its clock after the test does, which brings a future t closer.
@pytest.mark.parametrize("skew", [-301, 305, -3600, 86400], ids=["stale", "future", "hour-old", "next-day"])
async def test_timestamp_outside_five_minutes_is_refused(platform, gateway, anonymous, skew):
    source = await create_generic_source(gateway)
    headers = generic_headers(source.secret, BODY, t=int(time.time()) + skew)

    response = await anonymous.post(source.url, content=BODY, headers=headers)

    assert response.status_code == 401
    assert "300 s" in response.json()["detail"]
    assert await published(platform, source.id) == []


async def test_timestamp_just_inside_the_window_is_accepted(platform, gateway, anonymous):
    source = await create_generic_source(gateway)

    response = await anonymous.post(source.url, content=BODY, headers=generic_headers(source.secret, BODY, t=int(time.time()) - 280))

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "v1=" + "0" * 64,
        "t=notanumber,v1=" + "0" * 64,
        "t={t}",
        "t={t},v1=zz",
        "t={t},v1=" + "0" * 64,
        "t={t},v0={good}",
        "t={t},t={t},v1={good}",
    ],
    ids=["absent", "empty", "no-t", "bad-t", "no-v1", "not-hex", "forged", "wrong-scheme", "two-t"],
)
async def test_missing_or_malformed_signature_is_401_and_nothing_published(platform, gateway, anonymous, signature):
    source = await create_generic_source(gateway)
    t = int(time.time())
    headers = {"Limelight-Delivery-Id": "d-1"}
    if signature is not None:
        headers["Limelight-Signature"] = signature.format(t=t, good=generic_signature(source.secret, t, BODY))

    response = await anonymous.post(source.url, content=BODY, headers=headers)

    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthorized"
    assert await published(platform, source.id) == []


async def test_another_sources_secret_is_refused(platform, gateway, anonymous):
    source, other = await create_generic_source(gateway), await create_generic_source(gateway)

    response = await anonymous.post(source.url, content=BODY, headers=generic_headers(other.secret, BODY))

    assert response.status_code == 401
    assert await published(platform, source.id) == []


async def test_several_v1_signatures_pass_when_one_matches(platform, gateway, anonymous):
    source = await create_generic_source(gateway)

    response = await anonymous.post(source.url, content=BODY, headers=generic_headers(["whsec_old_one", source.secret], BODY))

    assert response.status_code == 200, response.text


async def test_without_a_delivery_id_the_id_is_the_hash_of_timestamp_and_body(platform, gateway, anonymous):
    source = await create_generic_source(gateway)
    t = int(time.time())
    headers = generic_headers(source.secret, BODY, t=t, delivery_id=None)

    first = await anonymous.post(source.url, content=BODY, headers=headers)
    replay = await anonymous.post(source.url, content=BODY, headers=headers)

    expected = "sha256:" + hashlib.sha256(f"{t}.".encode() + BODY).hexdigest()
    assert first.json()["delivery_id"] == expected
    assert replay.json()["status"] == "duplicate"
    assert len(await published(platform, source.id)) == 1


async def test_body_that_is_not_utf8_is_422(platform, gateway, anonymous):
    source = await create_generic_source(gateway)
    body = b"\xff\xfe binary"

    response = await anonymous.post(source.url, content=body, headers=generic_headers(source.secret, body))

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "body"
    assert await published(platform, source.id) == []


@pytest.mark.parametrize("body", [b"garbage", b"[1, 2]", b'"an order"', b"", b'\xef\xbb\xbf{"type": "order"}', b"[" * 100_000],
                         ids=["text", "array", "string", "empty", "byte-order-mark", "nested-too-deep"])
async def test_a_signed_body_that_is_not_a_json_object_is_422_and_nothing_published(platform, gateway, anonymous, body):
    """Found by an outside probe: it was accepted (200) and then dead-lettered by its consumer, so
    the partner never learnt of the mistake."""
    source = await create_generic_source(gateway)
    response = await anonymous.post(source.url, content=body, headers=generic_headers(source.secret, body))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "body"
    assert await published(platform, source.id) == []


async def test_worked_example_in_the_openapi_description_is_the_real_signature(anonymous):
    """The example partners copy from /docs: recomputed here, so the text can never drift."""
    document = (await anonymous.get("/openapi.json")).json()
    text = document["paths"]["/webhooks/generic/{source_id}"]["post"]["description"]
    secret = re.search(r"- secret: `([^`]+)`", text).group(1)
    t = int(re.search(r"- t: `(\d+)`", text).group(1))
    body = re.search(r"- body: `([^`]+)`", text).group(1).encode()
    v1 = re.search(r"- v1: `([0-9a-f]{64})`", text).group(1)

    assert generic_signature(secret, t, body) == v1
    assert f"t={t},v1={v1}" in text
    assert f"- signed string: `{t}.{body.decode()}`" in text


async def test_worked_example_in_the_guide_matches_the_openapi_description():
    v1 = re.search(r"- v1: `([0-9a-f]{64})`", GENERIC_DOC).group(1)
    guide = (ROOT / "docs" / "guide" / "gateway.md").read_text()
    assert v1 in guide


async def test_an_event_name_over_its_limit_is_refused_naming_the_header(platform, gateway, anonymous):
    """The receivers are answered at the gateway's edge (ingress.py `WebhookReceiver`); a request the
    route's own validation refuses goes through FastAPI as before: 422 naming the header, nothing
    published. 200 characters pass."""
    source = await create_generic_source(gateway)
    refused = await anonymous.post(source.url, content=BODY, headers=generic_headers(source.secret, BODY, event="e" * 201))
    assert refused.status_code == 422, refused.text
    assert [d["field"] for d in refused.json()["detail"]] == ["header.limelight-event"]
    assert await published(platform, source.id) == []
    accepted = await anonymous.post(source.url, content=BODY, headers=generic_headers(source.secret, BODY, event="e" * 200))
    assert accepted.status_code == 200, accepted.text
    [event] = await published(platform, source.id)
    assert event["payload"]["topic"] == "e" * 200


async def test_a_receiver_path_with_more_segments_is_not_a_receiver(gateway, anonymous):
    source = await create_generic_source(gateway)
    response = await anonymous.post(source.url + "/extra", content=BODY, headers=generic_headers(source.secret, BODY))
    assert response.status_code in (404, 405), response.text
