"""Sentence embeddings of works, computed once and kept beside the catalogue.

Vectors live in build/embeddings.sqlite keyed by the model and a hash of the text, so an edited
abstract or summary is embedded again and an unchanged one never is. Reading vectors needs only
numpy; computing new ones needs the methods extra (torch, transformers, the packaged MiniLM).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    import numpy as np
except ImportError:  # the base install: anything that needs vectors raises MissingExtra (numpy_or_missing)
    # None in place of the module is what numpy_or_missing checks (and tests set); mypy's own advice for an optional
    # import is this ignore, as a module-typed name cannot otherwise hold None
    np = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from kb.methods.models import Encoder

EXTRA = "pip install -e '.[methods]' -c constraints.txt"


class MissingExtra(RuntimeError):
    pass


def numpy_or_missing():
    """numpy, or MissingExtra saying how to install it: reading vectors needs it, and the base install lacks it."""
    if np is None:
        raise MissingExtra(f"embeddings need the methods extra: {EXTRA}")
    return np


def work_text(work: Mapping[str, Any]) -> str:
    """What a work is about, for embedding and tagging: title, abstract, summary."""
    summary = (work.get("summary") or {}).get("body") or ""
    return "\n".join(x for x in (work["title"], work.get("abstract") or "", summary) if x).strip()


class Store:
    def __init__(self, path: Path, model_dir: Path | None = None, batch_size: int = 64):
        self.path = Path(path)
        self._model_dir = model_dir
        self.batch_size = batch_size
        self._encoder: Encoder | None = None

    @property
    def model_dir(self) -> Path:
        if self._model_dir is None:
            try:
                from kb.methods.models import default_model_dir

                self._model_dir = default_model_dir()
            except (ImportError, RuntimeError) as e:
                raise MissingExtra(f"embeddings need the methods extra: {EXTRA}") from e
        return self._model_dir

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{Path(self.model_dir).name}\x00{text}".encode()).hexdigest()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path)
        conn.execute("CREATE TABLE IF NOT EXISTS embedding (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        return conn

    def cached(self, texts: list[str]) -> dict[int, np.ndarray]:
        """The vectors already stored, by position in texts (no model is loaded)."""
        if not self.path.exists():
            return {}
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._connect() as conn:
            for i in range(0, len(keys), 900):
                chunk = keys[i : i + 900]
                for key, blob in conn.execute(
                    f"SELECT key, vector FROM embedding WHERE key IN ({','.join('?' * len(chunk))})", chunk
                ):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return {i: found[k] for i, k in enumerate(keys) if k in found}

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for texts: from the store where possible, computing and storing the rest."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        have = self.cached(texts)
        missing = [i for i in range(len(texts)) if i not in have]
        if missing:
            vectors = self._compute([texts[i] for i in missing])
            with self._connect() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO embedding VALUES (?, ?)",
                    [(self._key(texts[i]), v.astype(np.float32).tobytes()) for i, v in zip(missing, vectors)],
                )
            have.update(zip(missing, vectors.astype(np.float32)))
        return np.stack([have[i] for i in range(len(texts))])

    def _compute(self, texts: list[str]) -> np.ndarray:
        if self._encoder is None:
            try:
                from kb.methods.models import Encoder
            except ImportError as e:
                raise MissingExtra(f"embeddings need the methods extra: {EXTRA}") from e
            encoder = Encoder(Path(self.model_dir), cache=None, batch_size=self.batch_size)
            encoder.layer = encoder.n_layers  # the last layer, mean-pooled: the model's sentence embedding
            self._encoder = encoder
        X = self._encoder.encode(texts)
        return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)


def nearest(vectors: np.ndarray, query: np.ndarray, k: int, exclude: int | None = None) -> list[tuple[int, float]]:
    scores = vectors @ query
    if exclude is not None:
        scores[exclude] = -np.inf
    order = np.argsort(-scores, kind="stable")[:k]
    return [(int(i), float(scores[i])) for i in order if np.isfinite(scores[i])]
