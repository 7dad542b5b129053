"""The audience vector: a creator's audience distributions (countries, age bands, genders,
languages) as one fixed-length vector, so that audience similarity is a cosine, and an HNSW
index can find a creator's audience lookalikes.

Each block holds the square roots of the shares over a fixed key list (+ "the rest" for
countries, ages and languages), scaled by the square root of the block's weight. For two
creators whose distributions sum to 1, the cosine is then the weighted mean of the blocks'
Bhattacharyya coefficients (sum of sqrt(p * q)): 1 for identical distributions, 0 for
disjoint ones, and never dominated by one big share the way a cosine of raw shares is.

`audience_vector()` here computes it: ingest writes it with every creator row it writes (and
brand fit uses it for a brief's target audience). Until migration 0017 `creators.audience_vector`
was a generated column over the PL/pgSQL function `discovery.audience_vector` (migration 0010),
which cost PostgreSQL ~70 us on every write of a creator; the function stays for loaders that
write rows without ingest. tests/discovery/test_embedding_audience.py holds what ingest stores,
the SQL function and this one to each other.
"""

import math

COUNTRIES = (
    "US", "GB", "CA", "AU", "DE", "FR", "ES", "IT", "NL", "SE", "NO", "DK", "FI", "PL", "PT", "IE",
    "BE", "CH", "AT", "BR", "MX", "AR", "CO", "CL", "IN", "ID", "PH", "TH", "VN", "JP", "KR", "CN",
    "TR", "SA", "AE", "EG", "NG", "ZA", "RU", "UA",
)
AGE_BANDS = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS = ("female", "male", "other")
LANGUAGES = (
    "en", "es", "pt", "fr", "de", "it", "nl", "sv", "pl", "ru", "uk", "tr", "ar", "hi", "id", "ja",
    "ko", "zh", "th", "vi",
)

# (name, keys, weight, with a "rest" slot). Where the audience is matters most to a brand, then
# its age and language; gender splits are coarse and similar across most creators.
BLOCKS: tuple[tuple[str, tuple[str, ...], float, bool], ...] = (
    ("countries", COUNTRIES, 0.40, True),
    ("ages", AGE_BANDS, 0.25, True),
    ("genders", GENDERS, 0.15, False),
    ("languages", LANGUAGES, 0.20, True),
)
AUDIENCE_DIMENSIONS = sum(len(keys) + rest for _, keys, _, rest in BLOCKS)  # 73


def audience_vector(
    countries: dict[str, float] | None,
    ages: dict[str, float] | None,
    genders: dict[str, float] | None,
    languages: dict[str, float] | None,
) -> list[float] | None:
    """The unit audience vector of these distributions ({key: share 0..1}); None without any."""
    values: list[float] = []
    for (_, keys, weight, rest), shares in zip(BLOCKS, (countries, ages, genders, languages), strict=True):
        shares = {k: max(float(v), 0.0) for k, v in (shares or {}).items()
                  if isinstance(v, int | float) and not isinstance(v, bool)}
        values += [math.sqrt(weight * shares.get(k, 0.0)) for k in keys]
        if rest:
            known = sum(shares.get(k, 0.0) for k in keys)
            # Summed in jsonb's key order (shorter keys first, then bytewise), as the SQL function
            # does: a float sum depends on its order, and "the rest" is often a difference near 0.
            total = sum(shares[k] for k in sorted(shares, key=_jsonb_order))
            values.append(math.sqrt(weight * max(total - known, 0.0)))
    norm = math.sqrt(sum(v * v for v in values))
    return None if norm == 0 else [v / norm for v in values]


def _jsonb_order(key: str) -> tuple[int, bytes]:
    raw = key.encode()
    return len(raw), raw
