"""What `kb show` and `kb search` write for a person at a terminal (kb.terminal): wrapped to its width, coloured
only where colour is wanted, a summary's Markdown laid out, and no import of rich on the way."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kb import terminal
from kb.workspace import Workspace
from tests.conftest import REPO, write_data

PLAIN, COLOUR = terminal.Styler(False), terminal.Styler(True)
ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

SUMMARY = """## What it does

Trains a probe
on the residual stream and **tests it** on held-out prompts.

- first point, long enough that it has to be wrapped onto a second line at this width
- second point
  continued here

```
code  stays   as written
```
"""


def test_a_summary_is_re_wrapped_with_its_lists_headings_and_code_kept():
    lines = terminal.markdown(SUMMARY, 40, PLAIN)
    assert lines[0] == "  What it does"
    assert "  Trains a probe on the residual stream" in lines
    assert "  - first point, long enough that it has" in lines
    assert "    to be wrapped onto a second line at" in lines  # the item's words hang under its first word
    assert "  - second point continued here" in lines
    assert "  code  stays   as written" in lines
    assert all(len(line) <= 40 for line in lines)


def test_headings_and_strong_text_are_bold_only_in_colour():
    plain = terminal.markdown(SUMMARY, 80, PLAIN)
    coloured = terminal.markdown(SUMMARY, 80, COLOUR)
    assert "**tests it**" in " ".join(plain) and not any(ESCAPE.search(line) for line in plain)
    assert "\x1b[1mtests it\x1b[0m" in " ".join(coloured)
    assert coloured[0] == "\x1b[1m  What it does\x1b[0m"
    assert [ESCAPE.sub("", line) for line in coloured] == [line.replace("**tests it**", "tests it") for line in plain]


def test_matched_words_are_marked_even_across_a_wrapped_line():
    lines = terminal.wrap("the «linear probe» finds it", 15)
    assert lines == ["the «linear", "probe» finds it"]
    assert terminal.highlight(lines, PLAIN) == ["the linear", "probe finds it"]
    assert terminal.highlight(lines, COLOUR) == ["the \x1b[1;33mlinear\x1b[0m", "\x1b[1;33mprobe\x1b[0m finds it"]


@pytest.mark.parametrize(
    ("env", "tty", "expected"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": ""}, True, False),
        ({"TERM": "dumb"}, True, False),
        ({"FORCE_COLOR": "1"}, False, True),
    ],
)
def test_colour_follows_the_terminal_and_the_usual_variables(monkeypatch, env, tty, expected):
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    assert terminal.colour() is expected


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n -*#|`>1."), max_size=300),
    cols=st.integers(20, 120),
)
@example(text="1234567890123456789012345678901234. an item", cols=30)
def test_no_laid_out_line_is_wider_than_the_terminal(text, cols):
    for line in terminal.markdown(text, cols, PLAIN) + terminal.wrap(text, cols, "  ", "    "):
        assert len(line) <= cols, (line, cols)


def test_show_and_search_on_a_terminal_are_coloured_and_never_import_rich(tmp_path):
    data = write_data(tmp_path)
    db = tmp_path / "kb.sqlite"
    Workspace(data, db).build()
    probe = (
        "import sys\nfrom kb.launch import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('rich' in sys.modules, file=sys.stderr)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")} | {"COLUMNS": "60"}
    for args in (["show", "coup-probes-2023"], ["search", "probes"]):
        controller, tty = pty.openpty()
        run = subprocess.Popen(
            [sys.executable, "-c", probe, "--data", str(data), "--db", str(db), *args],
            stdout=tty,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env=env,
            text=True,
        )
        os.close(tty)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed: everything was read
                break
            if not chunk:
                break
            shown += chunk
        assert run.stderr.read().strip().splitlines()[-1] == "False", args
        run.wait()
        os.close(controller)
        text = shown.decode()
        assert "\x1b[36mcoup-probes-2023\x1b[0m" in text, args
        assert max(len(ESCAPE.sub("", line)) for line in text.splitlines()) <= 60, args
