"""Results: a JSON record and SVG figures per experiment, under results/<experiment>/, for the site."""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.methods import stats

if TYPE_CHECKING:  # matplotlib is imported only when a figure is drawn
    from matplotlib.artist import Artist
    from matplotlib.typing import RcKeyType


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


# Figures are drawn for both of the site's colour schemes: lines and text in INK, which the SVG's own style sheet
# turns to DARK_INK when the reader's system is dark (an <img> of an SVG follows prefers-color-scheme), on a
# transparent background. They are drawn small with large type, so that the legend stays legible on a phone: at
# 390 px the figure is shown about 320 px wide, about 0.9 of its natural size, and 11 pt type is about 10 px.
INK, DARK_INK = "#1b1d21", "#e7e9ee"  # the site's text colours, light and dark
BLACK = "#000000"  # matplotlib's 'k' lines
FIGURE_SIZE = (4.8, 3.6)  # inches
TYPE_SIZE = 11  # points, legends and tick labels too
LINE_HEIGHT = 1.5  # a legend row's height, in type sizes
POINTS_PER_INCH = 72
SHORT_LABEL = 22  # characters: a legend of labels no longer than this goes in two columns, else in one
_STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text stays text: sharp at any size, and its size can be measured
    "svg.hashsalt": "safety-kb",  # stable ids: the same run gives the same file
    "font.size": TYPE_SIZE,
    "legend.fontsize": TYPE_SIZE,
    "xtick.labelsize": TYPE_SIZE,
    "ytick.labelsize": TYPE_SIZE,
    "text.color": INK,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "savefig.transparent": True,
}
_DARK = (
    "<style>@media (prefers-color-scheme: dark) {"
    + " ".join(
        f'[style*="{prop}: {colour}"] {{ {prop}: {DARK_INK} !important; }}'
        for colour in (INK, BLACK)
        for prop in ("fill", "stroke")
    )
    + "}</style>"
)


def figure(result: Result, folder: Path, name: str, caption: str, draw, panels: tuple[int, int] = (1, 1)) -> None:
    """draw(ax) plots (draw(axes), a flat array, for more than one panel: one metric to an axis); the figure is saved
    as SVG beside result.json, one legend (the panels share their series) below the axes (in two columns when its
    labels are short), readable in light and dark."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, cols = panels
    with matplotlib.rc_context(_STYLE):
        width, height = FIGURE_SIZE[0] * cols, FIGURE_SIZE[1] * rows
        fig, axes = plt.subplots(rows, cols, figsize=(width, height), layout="constrained", squeeze=False)
        draw(axes[0, 0] if panels == (1, 1) else axes.ravel())
        legends = [ax for ax in axes.ravel() if ax.get_legend() is not None]
        if legends:  # below the plots, where it covers nothing and has the figure's width
            series: dict[str, Artist] = {}  # label -> handle, each series once however many panels show it
            for ax in legends:
                for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                    series.setdefault(label, handle)
                ax.get_legend().remove()
            handles, labels = list(series.values()), list(series)
            columns = 2 if max(map(len, labels)) <= SHORT_LABEL and len(labels) > 1 else 1  # two fit only then
            fig.legend(handles, labels, loc="outside lower center", ncol=columns, frameon=False)
            lines = -(-len(labels) // columns)
            # the figure grows by the legend's height, so that the plots keep their own
            fig.set_size_inches(width, height + lines * LINE_HEIGHT * TYPE_SIZE / POINTS_PER_INCH)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.svg"
        fig.savefig(path, metadata={"Date": None})
        plt.close(fig)
    svg = path.read_text()
    start = svg.index(">", svg.index("<svg")) + 1
    path.write_text(svg[:start] + "\n" + _DARK + svg[start:])
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
