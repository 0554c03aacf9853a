"""The full `kb methods run all`, timed; and activation extraction and probe fitting against their peers.

- full run (the default): `kb methods run all` (10 seeds) in a subprocess, first with an empty activation cache
  (cold: every sentence encoded) and then again with the cache it left (warm), wall-clock seconds per experiment
  (from each result.json) and in all, with the machine's load average beside them; the aim is 4 minutes cold and
  2 warm on 2 quiet cores;
- `--components`: kb's Encoder (one hidden layer, mean-pooled, no cache) in sentences per second, as a ratio to
  sentence-transformers' own `encode` of the same model, sentences and batch size; and LogisticProbe.fit against a
  plain scikit-learn LogisticRegression.fit on the same arrays (with and without limiting BLAS threads, which is
  what the probe does).

    python bench/methods.py [--quick] [--components] [--keep DIR]

`--keep DIR` copies both runs' results there (DIR/cold, DIR/warm), to compare verdicts and estimates across
commits. Besides the wall clock, each run's CPU time (user + system, its worker processes included) is printed:
on a shared machine the wall clock depends on what else runs, the CPU time much less.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median_time  # noqa: E402

from kb.methods import data  # noqa: E402
from kb.methods.models import Encoder, default_model_dir  # noqa: E402
from kb.methods.probes import LogisticProbe  # noqa: E402


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def full_run(quick: bool = False, keep: Path | None = None) -> None:
    """`kb methods run all` twice in a fresh cache folder: cold, then warm."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "KB_CACHE": tmp, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        for label in ("cold cache", "warm cache"):
            results = Path(tmp) / f"results-{label.split()[0]}"
            load = os.getloadavg()[0]
            started, cpu = time.perf_counter(), _cpu_children()
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "from kb.cli.launch import main; main()",
                    "methods",
                    "run",
                    "all",
                    "--results",
                    str(results),
                ]
                + (["--quick"] if quick else []),
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            total, cpu = time.perf_counter() - started, _cpu_children() - cpu
            print(
                f"kb methods run all{' --quick' if quick else ''}, {label}: {total:.0f} s in all, CPU time "
                f"{cpu:.0f} s (user + system, workers included; load average {load:.1f} before, "
                f"{os.getloadavg()[0]:.1f} after, {os.cpu_count()} CPUs)"
            )
            for path in sorted(results.glob("*/result.json")):
                run = json.loads(path.read_text())["run"]
                print(f"  {path.parent.name:38} {run['seconds']:7.1f} s   seeds {run['seeds']}")
            if keep:
                shutil.copytree(results, keep / label.split()[0], dirs_exist_ok=True)


def components() -> None:
    texts = data.comparisons(2000).text + data.cities().text
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
    if "--components" in sys.argv:
        components()
    else:
        keep = Path(sys.argv[sys.argv.index("--keep") + 1]) if "--keep" in sys.argv else None
        full_run(quick="--quick" in sys.argv, keep=keep)
