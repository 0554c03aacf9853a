"""What `kb show` and `kb search` write for a person at a terminal (kb.cli.terminal): wrapped to its width, coloured
only where colour is wanted, a summary's Markdown laid out, and no import of rich on the way."""

from __future__ import annotations

import contextlib
import io
import os
import pty
import re
import subprocess
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kb.cli import terminal
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
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, True),  # no-color.org: set to an empty string, it says nothing
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


ALPHABET = st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(
    ["\n", " ", "\t", "-", "*", "#", "|", "`", ">", "1.", "**", "語", "é", "\u0301", "```", "---", "https://x.org/"]
)


@settings(max_examples=300, deadline=None)
@given(text=st.lists(ALPHABET, max_size=120).map("".join), cols=st.integers(20, 120))
@example(text="1234567890123456789012345678901234. an item", cols=30)
@example(text="```\n\t\t\tx\n```", cols=20)
@example(text="語" * 50, cols=21)
@example(text="語語語 " * 20, cols=21)
def test_no_laid_out_line_is_wider_than_the_terminal_but_one_long_word(text, cols):
    for line in terminal.markdown(text, cols, PLAIN) + terminal.wrap(text, cols, "  ", "    "):
        assert "\t" not in line
        assert terminal.cells(line) <= cols or re.fullmatch(r"[ >]*\S+", line), (line, cols)  # one word, whole


def test_wide_characters_take_two_cells_and_accents_none():
    assert terminal.cells("語") == 2 and terminal.cells("e\u0301") == 1 and terminal.cells("abc") == 3
    assert [terminal.cells(line) for line in terminal.wrap("語語語 語語語 語語語", 14)] == [13, 6]


def test_a_url_or_an_id_longer_than_a_line_is_never_cut():
    url = "https://www.lesswrong.com/posts/WCj7WgFSLmyKaMwPR/coup-probes-catching-catastrophes-with-probes"
    assert terminal.wrap(f"see {url} here", 40, "  ") == ["  see", f"  {url}", "  here"]
    assert terminal.wrap("a activation-steering-mean-centring-2023", 20) == [
        "a",
        "activation-steering-mean-centring-2023",
    ]


def test_quotes_setext_headings_tables_and_code_keep_their_shape():
    body = (
        "Title\n=====\n\n> one\n> two\n\na | b\n--|--\n1 | 2\n\n"
        "````\n```\ninner   code\n```\n````\n\nafter the code\n\n"
        "- item\n\n  a second paragraph of the item\n\n    indented code\n"
    )
    lines = terminal.markdown(body, 60, PLAIN)
    assert lines[:4] == ["  Title", "", "  > one two", ""]
    assert ["  a | b", "  --|--", "  1 | 2"] == lines[4:7]
    assert "  inner   code" in lines and "  after the code" in lines
    assert "    a second paragraph of the item" in lines
    assert "      indented code" not in lines and "    indented code" in lines


def test_strong_text_wrapped_across_lines_is_bold_on_both_and_its_stars_gone():
    lines = terminal.markdown("A **very strong claim** here", 14, COLOUR)
    assert lines == ["  A \x1b[1mvery\x1b[0m", "  \x1b[1mstrong claim\x1b[0m", "  here"]


def test_an_abstract_is_plain_text_not_markdown():
    assert terminal.paragraphs("Uses __init__ and x**2 + y**2.\n\nSecond.", 80) == [
        "  Uses __init__ and x**2 + y**2.",
        "",
        "  Second.",
    ]


def test_show_and_search_on_a_terminal_are_coloured_and_never_import_rich(tmp_path):
    data = write_data(tmp_path)
    db = tmp_path / "kb.sqlite"
    Workspace(data, db).build()
    probe = (
        "import sys\nfrom kb.cli.launch import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('rich' in sys.modules, file=sys.stderr)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")} | {
        "COLUMNS": "60",
        "TERM": "xterm",
    }
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
        assert max(terminal.cells(ESCAPE.sub("", line)) for line in text.splitlines()) <= 60, args


@pytest.mark.parametrize(("columns", "size", "expected"), [("100", 50, 100), ("", 50, 50), ("", 0, 80), ("x", 0, 80)])
def test_the_width_is_columns_else_the_terminal_s_else_80(monkeypatch, columns, size, expected):
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((size, 24)))
    monkeypatch.setattr(sys.stdout, "fileno", lambda: 1, raising=False)
    assert terminal.width() == expected


def test_every_word_a_pipe_gets_of_a_shipped_work_is_on_a_narrow_terminal_too(tmp_path, monkeypatch):
    from kb import catalogue
    from kb.cli import output

    ws = Workspace(REPO / "data", tmp_path / "kb.sqlite")
    ws.build()
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.delenv("FORCE_COLOR", raising=False)

    def words(record: dict, on_a_terminal: bool) -> set[str]:
        monkeypatch.setattr(output, "_terminal", lambda: on_a_terminal)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            output.work(record, as_json=False, provenance=True)
        # the pipe writes 'id: title', 'abstract:' and Markdown's '##'; the terminal lays those out instead
        return {w.rstrip(":") for w in out.getvalue().split() if w.strip("#")}

    with ws.connect() as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM work")]
        for work_id in ids:
            record = catalogue.get_work(conn, work_id)
            missing = words(record, False) - words(record, True)
            assert not missing, (work_id, missing)


@pytest.mark.parametrize("on_a_terminal", [True, False])
def test_a_work_without_authors_gets_no_empty_line(kb, data, monkeypatch, on_a_terminal):
    from kb.cli import output

    monkeypatch.setattr(output, "_terminal", lambda: on_a_terminal)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    with (data / "works" / "posts.jsonl").open("a") as f:
        f.write(
            '{"id": "project-vend-2025", "kind": "post", "title": "Project Vend", "year": 2025,'
            ' "url": "https://red.anthropic.com/2025/project-vend/index.html"}\n'
        )
    for args in (("show", "project-vend-2025"), ("search", "vend")):
        lines = kb(*args).stdout.splitlines()
        assert "Project Vend" in " ".join(lines), args
        assert not [line for line in lines[: lines.index("") if "" in lines else None] if not line.strip()], args
