"""`kb show` and `kb search` in their plain forms are read without click (kb.cli.launch); anything else goes to click.
The two readers must agree: the same options, and the same output, errors and exit status for any arguments."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.cli import launch
from kb.cli.commands import cli
from kb.workspace import Workspace
from tests.conftest import REPO, write_data


@pytest.fixture(scope="module")
def where(tmp_path_factory) -> list[str]:
    """`--data D --db F` of the fixture's data/, its catalogue built once."""
    data = write_data(tmp_path_factory.mktemp("launch"))
    db = data.parent / "kb.sqlite"
    Workspace(data, db).build()
    return ["--data", str(data), "--db", str(db)]


def outcome(args: list[str], quick: bool) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `kb ARGS` in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            launch.main(args, quick=quick)
        except SystemExit as e:
            code = e.code or 0
        else:
            code = 0
    return code, out.getvalue(), err.getvalue()


_CAPTURE = {"capture_output": True, "text": True, "cwd": REPO}

PLAIN = [
    ["show", "coup-probes-2023"],
    ["show", "arXiv:2312.00000", "--json"],  # an identifier the catalogue does not hold: exit 1
    ["show", "--provenance", "coup-probes-2023", "--json"],
    ["show", "no-such-work"],
    ["search", "probe"],
    ["search", "probe", "--json", "-n", "1"],
    ["search", "--technique=probing", "probes", "--since", "2020", "--until", "2030"],
    ["search", "probe", "-t", "no-such-technique"],  # unknown slug: exit 1 with the near misses
    ["search", "probe", "--kind", "paper", "--sort", "citations", "--limit", "3"],
    ["search", "probe", "--author", "Kolter", "-m", "deceptive-alignment", "--venue", "arXiv"],
    ["search", '"unbalanced'],  # a query kb cannot read: exit 2
    ["search", "title:probe OR catch*"],
]


@pytest.mark.parametrize("args", PLAIN, ids=" ".join)
def test_a_plain_show_or_search_is_read_without_click_and_answers_as_click_does(where, args):
    assert launch.plain([*where, *args]) is not None
    quick = outcome([*where, *args], quick=True)
    assert quick == outcome([*where, *args], quick=False)
    assert quick[1] or quick[2]  # the comparison saw output, not two empty captures


NOT_PLAIN = [
    ["--help"],
    ["show", "--help"],
    ["search", "-h"],
    ["--version"],
    ["search", "probe", "--semantic"],
    ["search", "probe", "--limit", "0"],
    ["search", "probe", "--limit", " 5"],  # click's int() would take it
    ["search", "probe", "--kind", "papers"],
    ["search", "probe", "--since", "1" * 5000],  # past what int() converts: click says it is not an integer
    ["search", "probe", "--until", "10000"],
    ["search", "probe", "--limit", str(2**63)],  # past what SQLite binds
    ["search", "probe", "-n", "2", "-n", "3"],
    ["search", "probe", "--json=yes"],
    ["search", "probe", "extra"],
    ["search", "--", "-probe"],
    ["search", "probe", "--author"],
    ["show"],
    ["show", "coup-probes-2023", "--data", "elsewhere"],  # a global option after the command
    ["list"],
    [],
]


@pytest.mark.parametrize("args", NOT_PLAIN, ids=" ".join)
def test_anything_but_a_plain_form_goes_to_click(args):
    assert launch.plain(args) is None


TOO_LARGE = [(option, "1" * 5000) for option in ("--since", "--until", "--limit", "-n")] + [
    ("--since", "10000"),
    ("--until", str(2**63)),
    ("--limit", str(2**63)),
]


@pytest.mark.parametrize("option, value", TOO_LARGE, ids=lambda x: x[:20])
def test_a_number_too_large_for_the_catalogue_is_a_usage_error_not_a_traceback(where, option, value):
    args = [*where, "search", "probe", option, value]
    quick = outcome(args, quick=True)
    assert quick == outcome(args, quick=False)
    assert quick[0] == 2 and "Invalid value" in quick[2]


def test_a_catalogue_or_data_folder_that_cannot_be_read_is_click_s_to_refuse(where, monkeypatch):
    monkeypatch.setattr(launch.os, "access", lambda path, mode: False)
    assert launch.plain([*where, "show", "coup-probes-2023"]) is None


def test_shell_completion_is_click_s_to_answer(where):
    env = {**os.environ, launch.COMPLETION: "bash_source"}
    code = "from kb.cli.launch import main; main()"
    run = subprocess.run([sys.executable, "-c", code, *where, "show", "coup-probes-2023"], env=env, **_CAPTURE)
    assert "_kb_completion" in run.stdout and "coup-probes-2023" not in run.stdout  # the script, not the work


def _options(command: click.Command) -> dict[str, click.Option]:
    return {name: p for p in command.params if isinstance(p, click.Option) for name in p.opts}


@pytest.mark.parametrize(
    "name, known, args",
    [
        ("show", launch.SHOW, [["x"], ["x", "--provenance", "--json"]]),
        (
            "search",
            launch.search_options(),
            [
                ["x"],
                ["x", "-t", "a", "-m", "b", "-a", "c", "--since", "1", "--until", "2", "--kind", "post", "--json"],
                ["x", "--venue", "v", "--sort", "oldest", "-n", "7", "--technique=t", "--author=A. B"],
            ],
        ),
    ],
)
def test_the_quick_reader_knows_each_option_click_declares_and_reads_it_alike(name, known, args):
    command = cli.commands[name]
    declared = _options(command)
    assert set(known) == set(declared) - launch.LEFT_TO_CLICK
    left = {declared[option].name for option in launch.LEFT_TO_CLICK if option in declared}
    for option, (param, read) in known.items():
        assert param == declared[option].name
        assert (read is launch.FLAG) == declared[option].is_flag
        if isinstance(declared[option].type, click.Choice):
            for choice in declared[option].type.choices:
                assert launch.plain([name, "x", option, choice]) is not None
    for each in args:  # the same parameters, defaults included, as click makes of the same arguments
        by_click = command.make_context(name, list(each)).params
        assert launch.plain([name, *each])[1] == {k: v for k, v in by_click.items() if v is not None and k not in left}
    assert set(launch.GLOBAL) == set(_options(cli)) - {"--version"}


TOKENS = [
    *["show", "search", "coup-probes-2023", "probe", "probes", "nothing-here", "", "-", "--", "x y", '"unbalanced'],
    *["--json", "--provenance", "-t", "--technique", "probing", "--technique=probing", "-m", "-a", "Kolter"],
    *["-n", "--limit", "--limit=2", "0", "1", "2", "-1", "+2", " 3", "--since", "2023", "--until", "--venue"],
    *["--kind", "paper", "posts", "--sort", "year", "citations", "--sort=title", "-h", "--db", "--bogus"],
    *["10000", "9999", "9223372036854775807", "9223372036854775808", "007"],
]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.sampled_from(["show", "search"]), st.lists(st.sampled_from(TOKENS), max_size=6))
def test_for_any_arguments_the_quick_reader_and_click_give_the_same_answer(where, command, rest):
    args = [*where, command, *rest]
    assert outcome(args, quick=True) == outcome(args, quick=False)


PROBE = """
import json, sys
from kb.cli.launch import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps("click" in sys.modules), file=sys.stderr)
"""


def _imports_click(*args: str) -> bool:
    run = subprocess.run([sys.executable, "-c", PROBE, *args], check=True, **_CAPTURE)
    return json.loads(run.stderr.splitlines()[-1])


def test_a_plain_show_or_search_starts_without_importing_click(where):
    assert not _imports_click(*where, "show", "coup-probes-2023")
    assert not _imports_click(*where, "search", "probe", "--json", "-t", "probing")
    assert _imports_click(*where, "search", "probe", "--limit", "0")  # click says what is wrong
    assert _imports_click("--help")
