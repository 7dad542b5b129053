"""Brand safety through the gateway, real Kafka and PostgreSQL: a creator ingested in discovery,
comments sent to audit's bulk API, a tenant's own list, and the check over all of it."""

import uuid

import pytest

from tests.audit.flow import creator_body, ingest_creator, post_comments

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

LISTS = "/v1/audit/brand-safety/lists"


def unique_word(prefix: str = "brand") -> str:
    """A brand name no other test's list or text holds: the suite's tenant keeps its lists."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def check_url(creator_id: str) -> str:
    return f"/v1/audit/creators/{creator_id}/brand-safety"


def fields(response) -> set[str]:
    return {d["field"] for d in response.json()["detail"]}


async def new_list(gateway, terms: list[str], category: str = "competitor_brands") -> dict:
    response = await gateway.post(LISTS, json={"name": unique_word("list"), "category": category, "terms": terms})
    assert response.status_code == 201, response.text
    return response.json()


async def flagged_creator(gateway, brand: str) -> tuple[dict, dict[str, dict]]:
    """A creator whose bio, captions and a comment hold terms; its posts by their position (p0
    newest). Its posts' platform ids are its own: other tests find posts by `p<i>` on instagram."""
    body = creator_body(posts=3)
    for i, post in enumerate(body["posts"]):
        post["external_id"] = f"{brand}-p{i}"
    body["bio"] = "Coffee, vodka and good vibes. Berlin."
    body["posts"][0]["caption"] = f"New drop with {brand.upper()} today, so good"
    body["posts"][1]["caption"] = "Out at the #GunControl march with friends"
    creator = await ingest_creator(gateway, body)
    posts = (await gateway.get(f"/v1/discovery/creators/{creator['id']}/posts")).json()["items"]
    by_external = {p["external_id"].rpartition("-")[2]: p for p in posts}
    comments = await post_comments(gateway, [
        {"post_id": by_external["p1"]["id"], "author": "fan_1", "text": "what the fuuuck is this",
         "commented_at": "2026-11-20T10:15:00Z"},
        {"post_id": by_external["p2"]["id"], "author": "fan_2", "text": "a first class day, it has begun"},
    ])
    assert comments["created"] == 2, comments
    return creator, by_external


def by_where(hits: list[dict], where: str) -> list[dict]:
    return [h for h in hits if h["where"] == where]


async def test_a_check_reports_the_default_lists_and_the_tenants_hits_with_their_posts(gateway):
    brand = unique_word()
    own = await new_list(gateway, [brand])
    creator, posts = await flagged_creator(gateway, brand)

    response = await gateway.get(check_url(creator["id"]))

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["checked"] == {"bio": True, "posts": 3, "comments": 2}
    [bio] = by_where(result["hits"], "bio")
    assert {k: bio[k] for k in ("category", "term", "matched", "list", "list_id", "post_id", "external_id",
                                "posted_at", "comment_author")} == {
        "category": "alcohol", "term": "vodka", "matched": "vodka", "list": "brand-safety-v1", "list_id": None,
        "post_id": None, "external_id": None, "posted_at": None, "comment_author": None}
    assert bio["excerpt"] == "Coffee, vodka and good vibes. Berlin."
    captions = {h["category"]: h for h in by_where(result["hits"], "caption")}
    assert set(captions) == {"politics", "competitor_brands"}
    politics = captions["politics"]
    assert (politics["term"], politics["matched"], politics["list"]) == ("gun control", "GunControl", "brand-safety-v1")
    assert (politics["post_id"], politics["external_id"]) == (posts["p1"]["id"], posts["p1"]["external_id"])
    assert politics["posted_at"].startswith(posts["p1"]["posted_at"][:19])
    mine = captions["competitor_brands"]
    assert (mine["term"], mine["matched"], mine["list"], mine["list_id"]) == (brand, brand.upper(), own["name"], own["id"])
    assert mine["external_id"] == f"{brand}-p0"
    # "class" and "begun" hold no term: only the stretched profanity is a comment's hit.
    [comment] = by_where(result["hits"], "comment")
    assert (comment["category"], comment["term"], comment["matched"], comment["comment_author"], comment["external_id"]) == (
        "profanity", "fuck", "fuuuck", "fan_1", posts["p1"]["external_id"])
    assert comment["excerpt"] == "what the fuuuck is this"
    summary = {s["category"]: s["hits"] for s in result["summary"]}
    assert {c: n for c, n in summary.items() if n} == {"alcohol": 1, "politics": 1, "competitor_brands": 1, "profanity": 1}
    assert summary["violence"] == 0 and result["hits_total"] == 4 and not result["truncated"]
    assert result["versions"][0] == {"list": "brand-safety-v1", "list_id": None, "version": "brand-safety-v1",
                                     "terms": result["versions"][0]["terms"]}
    assert {"list": own["name"], "list_id": own["id"], "version": "r1", "terms": 1} in result["versions"]


async def test_another_tenant_gets_the_default_hits_but_nothing_of_the_first_tenants_lists(gateway, other_gateway):
    brand = unique_word()
    own = await new_list(gateway, [brand])
    creator, _ = await flagged_creator(gateway, brand)
    mine = (await gateway.get(check_url(creator["id"]))).json()
    assert any(h["list_id"] == own["id"] for h in mine["hits"])

    theirs = await other_gateway.get(check_url(creator["id"]))

    assert theirs.status_code == 200, theirs.text
    assert own["id"] not in theirs.text and own["name"] not in theirs.text
    assert all(h["category"] != "competitor_brands" for h in theirs.json()["hits"])
    default_hits = [(h["where"], h["term"]) for h in mine["hits"] if h["list_id"] is None]
    assert [(h["where"], h["term"]) for h in theirs.json()["hits"] if h["list_id"] is None] == default_hits


async def test_a_changed_list_applies_to_the_next_check_under_its_new_revision(gateway):
    brand, renamed = unique_word(), unique_word()
    own = await new_list(gateway, [brand])
    creator, _ = await flagged_creator(gateway, renamed)

    change = {"terms": [renamed, "Berlin"], "category": "rivals"}
    changed = await gateway.patch(f"{LISTS}/{own['id']}", json=change)
    again = await gateway.patch(f"{LISTS}/{own['id']}", json=change)

    assert changed.status_code == 200 and changed.json()["revision"] == 2, changed.text
    assert again.json()["revision"] == 2  # the same change again changes nothing
    result = (await gateway.get(check_url(creator["id"]))).json()
    mine = [(h["category"], h["term"], h["where"]) for h in result["hits"] if h["list_id"] == own["id"]]
    assert mine == [("rivals", "Berlin", "bio"), ("rivals", renamed, "caption")]
    assert {"list": own["name"], "list_id": own["id"], "version": "r2", "terms": 2} in result["versions"]
    assert {"category": "rivals", "hits": 2} in result["summary"]
    # The suite's tenant keeps its lists: this one would hit the other tests' creators' bios.
    assert (await gateway.delete(f"{LISTS}/{own['id']}")).status_code == 204


async def test_a_list_can_exclude_default_categories_from_its_tenants_checks(gateway, other_gateway):
    creator, _ = await flagged_creator(gateway, unique_word())
    response = await gateway.post(LISTS, json={
        "name": unique_word("spirits"), "category": "alcohol", "terms": ["good vibes"],
        "exclude_default_categories": ["alcohol", "politics", "alcohol"]})
    assert response.status_code == 201, response.text
    own = response.json()
    try:
        assert own["exclude_default_categories"] == ["alcohol", "politics"]
        result = (await gateway.get(check_url(creator["id"]))).json()
        theirs = (await other_gateway.get(check_url(creator["id"]))).json()
    finally:  # the suite's tenant keeps its lists: this one would change the other tests' checks
        assert (await gateway.delete(f"{LISTS}/{own['id']}")).status_code == 204
    assert result["excluded_default_categories"] == ["alcohol", "politics"]
    # No default hit of either category (vodka, #GunControl); the list's own alcohol term still hits.
    assert [(h["category"], h["term"], h["list"]) for h in result["hits"] if h["category"] in ("alcohol", "politics")] == [
        ("alcohol", "good vibes", own["name"])]
    summary = {s["category"]: s["hits"] for s in result["summary"]}
    assert summary["alcohol"] == 1 and "politics" not in summary
    # Another tenant's checks are not affected.
    assert theirs["excluded_default_categories"] == []
    assert {(h["category"], h["term"]) for h in theirs["hits"]} >= {("alcohol", "vodka"), ("politics", "gun control")}


async def test_a_deleted_list_is_gone_and_no_longer_applied(gateway):
    brand = unique_word()
    own = await new_list(gateway, [brand])
    creator, _ = await flagged_creator(gateway, brand)

    deleted = await gateway.delete(f"{LISTS}/{own['id']}")

    assert deleted.status_code == 204
    assert (await gateway.get(f"{LISTS}/{own['id']}")).status_code == 404
    assert (await gateway.delete(f"{LISTS}/{own['id']}")).status_code == 404
    result = (await gateway.get(check_url(creator["id"]))).json()
    assert own["id"] not in str(result)


async def test_a_list_is_read_back_and_listed_for_its_tenant_only(gateway, other_gateway):
    own = await new_list(gateway, ["Acme Cola", "acme cola", "ACME  Cola", "Zeta"])
    assert own["terms"] == ["Acme Cola", "Zeta"]  # terms that fold alike are one, the first kept
    assert (await gateway.get(f"{LISTS}/{own['id']}")).json() == own
    assert (await other_gateway.get(f"{LISTS}/{own['id']}")).status_code == 404
    listed, cursor = [], None
    for _ in range(50):
        page = (await gateway.get(LISTS, params={"limit": 200, **({"cursor": cursor} if cursor else {})})).json()
        listed += [item["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert own["id"] in listed
    assert own["id"] not in (await other_gateway.get(LISTS, params={"limit": 200})).text


async def test_a_second_list_of_the_same_name_is_a_conflict(gateway):
    own = await new_list(gateway, [unique_word()])
    again = await gateway.post(LISTS, json={"name": own["name"], "category": "competitor_brands", "terms": ["x"]})
    assert again.status_code == 409 and again.json()["detail"][0]["field"] == "body.name", again.text


@pytest.mark.parametrize(
    "body, field",
    [
        ({"category": "drugs", "terms": ["x"]}, "body.name"),
        ({"name": "  ", "category": "drugs", "terms": ["x"]}, "body.name"),
        ({"name": "n", "category": "Bad Category", "terms": ["x"]}, "body.category"),
        ({"name": "n", "category": "drugs", "terms": []}, "body.terms"),
        ({"name": "n", "category": "drugs", "terms": ["x"] * 501}, "body.terms"),
        ({"name": "n", "category": "drugs", "terms": ["ok", "y" * 101]}, "body.terms.1"),
        ({"name": "n", "category": "drugs", "terms": ["ok", " "]}, "body.terms.1"),
        ({"name": "n", "category": "drugs", "terms": ["x"], "exclude": True}, "body.exclude"),
        ({"name": "n", "category": "drugs", "terms": ["x"], "exclude_default_categories": ["beer"]},
         "body.exclude_default_categories.0"),
    ],
)
async def test_a_bad_list_is_refused_naming_the_field(gateway, body, field):
    response = await gateway.post(LISTS, json=body)
    assert response.status_code == 422 and field in fields(response), response.text


async def test_a_list_cannot_be_changed_to_nothing(gateway):
    own = await new_list(gateway, [unique_word()])
    for body, field in (({"terms": None}, "body.terms"), ({"name": None}, "body.name"), ({"terms": []}, "body.terms"),
                        ({"exclude_default_categories": None}, "body.exclude_default_categories")):
        response = await gateway.patch(f"{LISTS}/{own['id']}", json=body)
        assert response.status_code == 422 and field in fields(response), response.text


async def test_checking_a_creator_audit_does_not_hold_is_404(gateway):
    response = await gateway.get(check_url(str(uuid.uuid4())))
    assert response.status_code == 404, response.text


async def test_the_default_list_is_published_with_its_version_and_framework(gateway):
    response = await gateway.get("/v1/audit/brand-safety/default")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == "brand-safety-v1" and "GARM" in body["source"]
    categories = {c["category"]: c for c in body["categories"]}
    assert categories["competitor_brands"]["terms"] == []
    assert "vodka" in categories["alcohol"]["terms"] and categories["gambling"]["exceptions"] == {"poker": ["poker face"]}



async def test_a_tenants_terms_are_bounded_in_characters_across_its_lists(other_gateway):
    # The other tenant: this test fills its budget, and the suite's tenant keeps making lists.
    listed = (await other_gateway.get(LISTS, params={"limit": 200})).json()["items"]
    used = sum(len(t) for item in listed for t in item["terms"])
    words = [f"w{i:03d}{'x' * 90}" for i in range((10_000 - used) // 94)]  # 94 characters each
    first = await other_gateway.post(LISTS, json={"name": unique_word("big"), "category": "rivals", "terms": words})
    assert first.status_code == 201, first.text
    try:
        over = await other_gateway.post(
            LISTS, json={"name": unique_word("big"), "category": "rivals", "terms": ["y" * 95]})
        assert over.status_code == 409 and over.json()["detail"][0]["field"] == "body.terms", over.text
        grown = await other_gateway.patch(f"{LISTS}/{first.json()['id']}", json={"terms": [*words, "z" * 95]})
        assert grown.status_code == 409 and grown.json()["detail"][0]["field"] == "body.terms", grown.text
        # Replacing the list's own terms counts them once, not twice.
        same_size = await other_gateway.patch(f"{LISTS}/{first.json()['id']}", json={"terms": [*words[1:], "v" * 94]})
        assert same_size.status_code == 200, same_size.text
    finally:
        assert (await other_gateway.delete(f"{LISTS}/{first.json()['id']}")).status_code == 204


async def test_concurrent_lists_cannot_pass_the_budget_together(other_gateway):
    """Four lists, each within what is left of the budget alone and over it together, sent at once:
    the tenant's writes are serialised, so the ones that would exceed it are refused."""
    import asyncio

    listed = (await other_gateway.get(LISTS, params={"limit": 200})).json()["items"]
    left = 10_000 - sum(len(t) for item in listed for t in item["terms"])
    each = [f"c{i:03d}{'q' * 90}" for i in range(left // 94 // 2 + 1)]  # over half of what is left
    answers = await asyncio.gather(*(other_gateway.post(
        LISTS, json={"name": unique_word("race"), "category": "rivals", "terms": each}) for _ in range(4)))
    made = [a for a in answers if a.status_code == 201]
    try:
        assert len(made) == 1, [a.status_code for a in answers]
        assert all(a.status_code == 409 and a.json()["detail"][0]["field"] == "body.terms"
                   for a in answers if a.status_code != 201)
    finally:
        for a in made:
            assert (await other_gateway.delete(f"{LISTS}/{a.json()['id']}")).status_code == 204
