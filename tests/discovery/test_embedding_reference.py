"""The numpy encoder gives the vectors sentence-transformers gives (reference vectors made once
by tools/embedding_reference/make_reference.py). No platform needed: no Kafka, no database."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from services.discovery.embedding.encoder import DIMENSIONS, _erf, _gelu_, get_encoder

REFERENCE = json.loads((Path(__file__).parent / "data" / "embedding_reference.json").read_text())
SENTENCES = [s["text"] for s in REFERENCE["sentences"]]


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return get_encoder().encode(SENTENCES)


def test_reference_covers_the_hard_cases():
    encoder = get_encoder()
    lengths = [len(ids) for ids in encoder.tokenize(SENTENCES)]
    assert max(lengths) == encoder.max_seq_length == 256  # some sentences are truncated
    assert min(lengths) == 2  # [CLS] [SEP]: empty and whitespace-only text
    assert len(SENTENCES) >= 20


@pytest.mark.parametrize("index", range(len(SENTENCES)), ids=lambda i: SENTENCES[i][:30] or "<empty>")
def test_vector_matches_sentence_transformers(vectors, index):
    reference = np.array(REFERENCE["sentences"][index]["vector"], dtype=np.float64)
    ours = vectors[index].astype(np.float64)
    cosine = ours @ reference / (np.linalg.norm(ours) * np.linalg.norm(reference))
    assert cosine >= 0.999, f"{SENTENCES[index]!r}: cosine {cosine}"


def test_vectors_are_float32_unit_length(vectors):
    assert vectors.shape == (len(SENTENCES), DIMENSIONS)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_batching_and_order_do_not_change_a_vector(vectors):
    """Texts are batched by length and padded per batch: a text's vector must not depend on its
    neighbours (the attention mask hides the padding)."""
    encoder = get_encoder()
    alone = np.stack([encoder.encode([s])[0] for s in SENTENCES[:6]])
    reversed_order = encoder.encode(SENTENCES[::-1])[::-1]
    assert np.allclose(alone, vectors[:6], atol=1e-5)
    assert np.allclose(reversed_order, vectors, atol=1e-5)


def test_no_texts_give_an_empty_matrix():
    assert get_encoder().encode([]).shape == (0, DIMENSIONS)


def test_erf_is_float32_accurate():
    x = np.linspace(-6, 6, 20001, dtype=np.float32)
    exact = np.array([math.erf(float(v)) for v in x])
    assert np.abs(_erf(x) - exact).max() < 1e-6


def test_gelu_is_the_exact_erf_form():
    x = np.linspace(-8, 8, 4001, dtype=np.float32).reshape(-1, 1).repeat(3, axis=1)
    exact = np.array([[v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in row] for row in x.astype(float)])
    assert np.abs(_gelu_(x.copy()) - exact).max() < 1e-5
