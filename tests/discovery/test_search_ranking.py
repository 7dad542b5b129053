"""POST /v1/discovery/search through the gateway: sort orders with NULLs last, full-text ranking
and stemming, facet counts, and cursor pages that neither repeat nor skip under writes."""

import pytest

from services.discovery.search.repository import RANKED_MATCHES
from tests.discovery.factory import insert_creator
from tests.discovery.search_helpers import ids, own_niche, search

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# sort name -> the factory's argument it reads, and four values (one missing)
SORTED = {
    "followers": ("followers", [5_000, None, 250_000, 40_000]),
    "engagement": ("engagement_rate", [0.02, 0.08, None, 0.05]),
    "authenticity": ("audit_score", [None, 55.0, 91.0, 72.0]),
    "growth_30d": ("growth_30d", [0.1, -0.05, 0.0, None]),
    "growth_90d": ("growth_90d", [None, 0.3, -0.2, 0.1]),
}


@pytest.mark.parametrize("name", SORTED)
@pytest.mark.parametrize("descending", [False, True])
async def test_each_sort_orders_by_its_figure_with_missing_values_last(gateway, discovery_db, name, descending):
    argument, values = SORTED[name]
    niche = own_niche()
    made = {await insert_creator(discovery_db, niches=[niche], **{argument: v}): v for v in values}
    result = await search(gateway, filters={"niche": [niche]}, sort=f"-{name}" if descending else name)
    present = sorted((v for v in made.values() if v is not None), reverse=descending)
    assert [made[i] for i in ids(result)] == [*present, None]


async def test_without_a_query_the_default_sort_is_most_followers_first(gateway, discovery_db):
    niche = own_niche()
    small = await insert_creator(discovery_db, niches=[niche], followers=1_000)
    big = await insert_creator(discovery_db, niches=[niche], followers=900_000)
    result = await search(gateway, filters={"niche": [niche]})
    assert ids(result) == [big, small]
    assert all(item["score"] is None for item in result["items"])


async def test_a_word_in_the_bio_outranks_the_same_word_in_a_caption(gateway, discovery_db):
    niche = own_niche()
    in_caption = await insert_creator(
        discovery_db, niches=[niche], bio="Daily life", posts=[{"caption": "Finished my first ultramarathon"}]
    )
    in_bio = await insert_creator(discovery_db, niches=[niche], bio="Ultramarathon coach", followers=10)
    await insert_creator(discovery_db, niches=[niche], bio="Pastry chef")
    result = await search(gateway, filters={"niche": [niche]}, q="ultramarathon")
    assert ids(result) == [in_bio, in_caption]
    scores = [item["score"] for item in result["items"]]
    assert scores[0] > scores[1] > 0


async def test_english_words_match_their_inflections(gateway, discovery_db):
    niche = own_niche()
    baker = await insert_creator(discovery_db, niches=[niche], bio="I love baking sourdough loaves", languages=["en"])
    await insert_creator(discovery_db, niches=[niche], bio="I love cycling", languages=["en"])
    assert ids(await search(gateway, filters={"niche": [niche]}, q="baked sourdough")) == [baker]


async def test_german_words_match_their_inflections_in_a_german_document(gateway, discovery_db):
    niche = own_niche()
    german = await insert_creator(discovery_db, niches=[niche], bio="Ich backe die besten Kuchen", languages=["de"])
    await insert_creator(discovery_db, niches=[niche], bio="Ich fahre Fahrrad", languages=["de"])
    # "Kuchens" is stemmed to the document's "kuch" by the german configuration, with or
    # without the language filter naming it.
    assert ids(await search(gateway, filters={"niche": [niche]}, q="Kuchens")) == [german]
    assert ids(await search(gateway, filters={"niche": [niche], "language": ["de"]}, q="Kuchens")) == [german]


async def test_an_or_with_no_word_beside_it_does_not_drop_other_languages(gateway, discovery_db):
    """German keeps "or" as a word (English drops it as a stop word): a dangling one must not
    become a word every German document has to hold."""
    niche = own_niche()
    german = await insert_creator(discovery_db, niches=[niche], bio="Ich backe die besten Kuchen", languages=["de"])
    english = await insert_creator(discovery_db, niches=[niche], bio="The best cakes, baked at home")
    for q in ("Kuchen", "Kuchen or", "or Kuchen", "OR Kuchen or or"):
        assert ids(await search(gateway, filters={"niche": [niche]}, q=q)) == [german], q
    assert set(ids(await search(gateway, filters={"niche": [niche]}, q="Kuchen or or cakes"))) == {german, english}


async def test_web_search_syntax_excludes_and_requires_phrases(gateway, discovery_db):
    niche = own_niche()
    vegan = await insert_creator(discovery_db, niches=[niche], bio="Vegan baking for busy parents")
    await insert_creator(discovery_db, niches=[niche], bio="Baking with butter and cream, not vegan at all")
    assert ids(await search(gateway, filters={"niche": [niche]}, q='"vegan baking"')) == [vegan]
    assert ids(await search(gateway, filters={"niche": [niche]}, q="baking -butter")) == [vegan]


async def test_an_excluded_word_is_excluded_in_every_stemming(gateway, discovery_db):
    """An English document holds "kayak" for "kayaking": the query's `simple` stemming ("not
    kayaking") was true of it, and the branches ORed let it through (an outside probe)."""
    niche = own_niche()
    paddler = await insert_creator(discovery_db, niches=[niche], bio="Weekend kayaking and vegan camping", languages=["en"])
    camper = await insert_creator(discovery_db, niches=[niche], bio="Vegan camping with kids", languages=["en"])
    for filters in ({"niche": [niche]}, {"niche": [niche], "language": ["en"]}):
        assert ids(await search(gateway, filters=filters, q="vegan -kayaking")) == [camper]
        assert ids(await search(gateway, filters=filters, q='camping -"weekend kayaking"')) == [camper]
        assert set(ids(await search(gateway, filters=filters, q="vegan"))) == {paddler, camper}
        assert ids(await search(gateway, filters=filters, q="-kayaking")) == [camper]


async def test_facets_count_the_filtered_matches_by_tier_platform_country_and_language(gateway, discovery_db):
    niche = own_niche()
    await insert_creator(discovery_db, niches=[niche], followers=5_000, country="DE", languages=["de"])
    await insert_creator(
        discovery_db, niches=[niche], followers=50_000, country="DE", languages=["de", "en"], platform="tiktok",
        extra_accounts=[{"platform": "youtube", "followers": 10}],
    )
    await insert_creator(discovery_db, niches=[niche], followers=60_000, country="AT", languages=["de"])
    await insert_creator(discovery_db, niches=[own_niche()], followers=60_000, country="AT")  # not in the niche
    result = await search(gateway, filters={"niche": [niche]}, facets=True, limit=1)
    assert result["facets"] == {
        "exact": True,
        "counted": 3,
        "tier": {"nano": 1, "micro": 2},
        "platform": {"instagram": 2, "tiktok": 1, "youtube": 1},
        "country": {"DE": 2, "AT": 1},
        "language": {"de": 3, "en": 1},
    }
    assert len(result["items"]) == 1
    assert (await search(gateway, filters={"niche": [niche]}))["facets"] is None


async def page_through(gateway, body: dict, limit: int, between_pages=None) -> list[str]:
    seen, cursor = [], None
    while True:
        result = await search(gateway, **body, limit=limit, **({"cursor": cursor} if cursor else {}))
        seen += [item["id"] for item in result["items"]]
        cursor = result["next_cursor"]
        if cursor is None:
            return seen
        if between_pages:
            await between_pages()


@pytest.mark.parametrize("sort", ["-followers", "engagement", "relevance"])
async def test_pages_neither_repeat_nor_skip_creators_while_others_are_added(gateway, discovery_db, sort):
    niche = own_niche()
    existing = {
        str(await insert_creator(discovery_db, niches=[niche], followers=f, engagement_rate=f / 1e7, bio="yoga " * (i + 1)))
        for i, f in enumerate([10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000])
    }
    added = iter(range(1, 100))

    async def two_more():  # one ahead of any cursor, one behind
        n = next(added)
        await insert_creator(discovery_db, niches=[niche], followers=n, engagement_rate=0.5, bio="yoga " * 20)
        await insert_creator(discovery_db, niches=[niche], followers=10**7 + n, engagement_rate=1e-9, bio="yoga")

    body = {"filters": {"niche": [niche]}, "sort": sort, **({"q": "yoga"} if sort == "relevance" else {})}
    seen = await page_through(gateway, body, limit=2, between_pages=two_more)
    assert len(seen) == len(set(seen))
    assert existing <= set(seen)


async def test_a_broad_query_ranks_its_most_followed_matches_and_a_narrow_one_all(gateway, discovery_db):
    # More than RANKED_MATCHES matches: relevance orders the RANKED_MATCHES most followed of them
    # (ADR 0025). The best match by rank, with the fewest followers, is then not among them; once
    # a filter leaves fewer matches, every match is ranked and it comes first.
    niche = own_niche()
    word = f"w{niche}"
    await discovery_db.execute(
        "INSERT INTO discovery.creators (id, platform, handle, follower_count, niches, country, text_config, document,"
        " embedding_stale)"
        " SELECT gen_random_uuid(), 'instagram', $1 || i, 100000 + i, ARRAY[$2], 'FR', 'simple',"
        "  setweight(to_tsvector('simple', $3), 'C'), false"
        " FROM generate_series(1, $4) AS i",
        f"{niche}-", niche, f"my {word} trip", RANKED_MATCHES,
    )
    best = await insert_creator(discovery_db, niches=[niche], country="DE", followers=10, bio=f"{word} {word} guide")
    broad = await search(gateway, filters={"niche": [niche]}, q=word, limit=100)
    assert best not in ids(broad) and len(ids(broad)) == 100
    assert all(item["follower_count"] > 100_000 for item in broad["items"])
    few = {"niche": [niche], "country": ["DE", "FR"], "followers_max": 100_000 + RANKED_MATCHES // 2}
    narrow = await search(gateway, filters=few, q=word)
    assert ids(narrow)[0] == best
