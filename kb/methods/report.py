"""Results: a JSON record and SVG figures per experiment, under results/<experiment>/, for the site."""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kb.methods import stats


@dataclass
class Claim:
    text: str
    verdict: str  # one of kb.methods.stats.VERDICTS
    evidence: str
    setting: dict | None = None  # the model, layer and pooling the verdict holds for (None: no transformer)
    rule: str = ""  # how the verdict is decided for this claim: the interval, the line, the margin


@dataclass
class Result:
    experiment: str
    title: str
    techniques: list[str]
    works: list[str]
    claims: list[Claim] = field(default_factory=list)
    tables: dict[str, list[dict]] = field(default_factory=dict)
    figures: list[dict] = field(default_factory=list)
    data: dict = field(default_factory=dict)  # what each dataset was and how big
    run: dict = field(default_factory=dict)

    def claim(self, text: str, verdict: str, evidence: str, setting: dict | None = None, rule: str = "") -> None:
        """Record a verdict (see kb.methods.stats) and the rule that gave it; with a setting, the evidence ends by
        naming it."""
        if verdict not in stats.VERDICTS:
            raise ValueError(f"unknown verdict {verdict!r}")
        if not rule:
            raise ValueError(f"a verdict needs the rule that gave it: {text[:60]!r}")
        if setting:
            evidence += f" [{setting_label(setting)}]"
        self.claims.append(Claim(text, verdict, evidence, setting, rule))


def setting_label(setting: dict) -> str:
    return f"{setting['model']}, layer {setting['layer']}, {setting['pooling']} pooling"


def code_version() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def figure(result: Result, folder: Path, name: str, caption: str, draw, panels: tuple[int, int] = (1, 1)) -> None:
    """draw(ax) plots (draw(axes), a flat array, for more than one panel: one metric to an axis); the figure is saved
    as SVG beside result.json."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "safety-kb"  # stable ids: the same run gives the same file
    rows, cols = panels
    fig, ax = plt.subplots(rows, cols, figsize=(6.4 * (1 + 0.4 * (cols - 1)), 4 * rows), squeeze=False)
    draw(ax[0, 0] if panels == (1, 1) else ax.ravel())
    with warnings.catch_warnings():  # a colour bar's axes cannot be laid out tightly; the rest still is
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / f"{name}.svg", metadata={"Date": None})
    plt.close(fig)
    result.figures.append({"path": f"{name}.svg", "caption": caption})


def write(result: Result, folder: Path, started: dt.datetime, **run) -> Path:
    result.run = {
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "seconds": round((dt.datetime.now() - started).total_seconds(), 1),
        "code_version": code_version(),
        "python": platform.python_version(),
        **run,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "result.json"
    data = {
        "experiment": result.experiment,
        "title": result.title,
        "techniques": result.techniques,
        "works": result.works,
        "claims": [c.__dict__ for c in result.claims],
        "tables": result.tables,
        "figures": result.figures,
        "data": result.data,
        "run": result.run,
    }
    path.write_text(json.dumps(data, indent=2, default=_plain) + "\n")
    return path


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
