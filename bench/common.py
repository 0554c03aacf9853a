"""A generated catalogue of any size, shaped like the real one, for the benchmarks."""

from __future__ import annotations

import json
import random
import shutil
import statistics
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORDS = (
    "probe linear representation truth latent knowledge steering vector activation pruning neuron circuit "
    "feature sparse autoencoder deception monitor control language model transformer attention layer "
    "direction contrast consistent generalization robustness interpretability causal intervention patching "
    "superposition dictionary reward agent honesty lie detector catastrophe oversight audit"
).split()
FIRST = "Ada Alan Grace Claude Edsger Barbara Donald John Leslie Frances Ken Dennis Tony Radia Shafi Yoshua".split()
LAST = (
    "Lovelace Turing Hopper Shannon Dijkstra Liskov Knuth McCarthy Lamport Allen Thompson Ritchie Hoare Perlman".split()
)


def generate(root: Path, n_works: int, n_summaries: int = 1000, seed: int = 0) -> Path:
    """Write a data/ folder with n_works works under root; reuse it if it is there already."""
    data = root / f"data-{n_works}"
    if (data / "taxonomy.toml").exists():
        return data
    rng = random.Random(seed)
    (data / "works").mkdir(parents=True)
    (data / "summaries").mkdir()
    shutil.copy(REPO / "data" / "taxonomy.toml", data / "taxonomy.toml")
    import tomllib

    taxonomy = tomllib.loads((data / "taxonomy.toml").read_text())
    techniques = [t["slug"] for t in taxonomy["technique"]]
    motivations = [m["slug"] for m in taxonomy["motivation"]]
    authors = [f"{rng.choice(FIRST)} {chr(65 + i % 26)}. {rng.choice(LAST)}-{i}" for i in range(n_works // 4 + 10)]
    lines = []
    for i in range(n_works):
        year = rng.randint(2000, 2026)
        work = {
            "id": f"work-{i:07d}-{year}",
            "kind": "paper",
            "title": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 12))).capitalize(),
            "authors": rng.sample(authors, rng.randint(1, 6)),
            "year": year,
            "venue": rng.choice(["arXiv", "ICLR", "NeurIPS"]),
            "abstract": " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 120))),
            "abstract_source": "arXiv v1",
            "url": f"https://arxiv.org/abs/{year % 100:02d}{i % 12 + 1:02d}.{i:05d}",
            "ids": {"arxiv": f"{year % 100:02d}{i % 12 + 1:02d}.{i:05d}"},
            "techniques": rng.sample(techniques, rng.randint(1, 3)),
            # a motivation carries its status and evidence (CONTRIBUTING.md): a reader's inference here
            "motivations": [
                {"slug": m, "status": "inferred", "by": "curator", "reasoning": "Generated for the benchmarks."}
                for m in rng.sample(motivations, 1)
            ],
            "provenance": [{"source": "generated", "fetched_at": "2026-11-24"}],
        }
        lines.append(json.dumps(work))
    lines.sort()
    (data / "works" / "papers.jsonl").write_text("\n".join(lines) + "\n")
    for i in range(min(n_summaries, n_works)):
        work = json.loads(lines[i])
        body = " ".join(rng.choice(WORDS) for _ in range(200))
        slugs = ", ".join(m["slug"] for m in work["motivations"])  # a summary names only the work's motivations
        (data / "summaries" / f"{work['id']}.md").write_text(
            f"---\nwork: {work['id']}\ncontributors: [bench]\nmotivations: [{slugs}]\nxrisk: generated\n---\n\n{body}\n"
        )
    return data


def median_time(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
