"""Activation extraction and probe fitting against their peers, measured in the same run.

- extraction: kb's Encoder (one hidden layer, mean-pooled, no cache) in sentences per second, as a
  ratio to sentence-transformers' own `encode` of the same model, sentences and batch size;
- fitting: LogisticProbe.fit against a plain scikit-learn LogisticRegression.fit on the same arrays
  (with and without limiting BLAS threads, which is what the probe does).

    python bench/methods.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median_time  # noqa: E402

from kb.methods import data  # noqa: E402
from kb.methods.models import Encoder, default_model_dir  # noqa: E402
from kb.methods.probes import LogisticProbe  # noqa: E402


def main() -> None:
    texts = data.comparisons(2000).text + data.cities().text * 4
    batch = 64
    model = default_model_dir()
    enc = Encoder(model, layer=6, cache=None, batch_size=batch)  # the last layer: what encode() pools too
    enc.encode(texts[:batch])  # load the weights outside the timing
    ours = median_time(lambda: enc.encode(texts), repeat=3)

    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(model), device="cpu")
    st.encode(texts[:batch], batch_size=batch)
    theirs = median_time(lambda: st.encode(texts, batch_size=batch, normalize_embeddings=False), repeat=3)
    agree = np.mean([np.corrcoef(a, b)[0, 1] for a, b in zip(enc.encode(texts[:50]), st.encode(texts[:50]))])
    print(f"extraction, {len(texts)} sentences, batch {batch}:")
    print(f"  sentence-transformers encode  {len(texts) / theirs:8.0f} sentences/s")
    print(
        f"  kb Encoder (hidden state)     {len(texts) / ours:8.0f} sentences/s   ratio {theirs / ours:.2f}x their speed"
        f"   (correlation of the vectors {agree:.4f})"
    )

    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 384))
    y = (X[:, 0] + 0.5 * rng.normal(size=2000) > 0).astype(int)
    plain = median_time(lambda: LogisticRegression(max_iter=2000, tol=1e-6).fit(X, y), repeat=5)

    def limited():
        with threadpool_limits(1):
            LogisticRegression(max_iter=2000, tol=1e-6).fit(X, y)

    one_thread = median_time(limited, repeat=5)
    probe = median_time(lambda: LogisticProbe().fit(X, y), repeat=5)
    print("fitting a logistic-regression probe, 2000 x 384:")
    print(f"  scikit-learn, default BLAS threads   {plain * 1000:7.1f} ms")
    print(f"  scikit-learn, one BLAS thread        {one_thread * 1000:7.1f} ms")
    print(
        f"  LogisticProbe.fit                    {probe * 1000:7.1f} ms   ratio {probe / plain:.2f}x the default fit,"
        f" {probe / one_thread:.2f}x the one-thread fit"
    )


if __name__ == "__main__":
    main()
