"""The CLI starts fast: reading commands never import the ORM or the validation layer."""

import json
import subprocess
import sys

from tests.conftest import REPO

PROBE = """
import sys, json
from click.testing import CliRunner
from kb.cli.commands import cli as app
result = CliRunner().invoke(app, sys.argv[1:])
assert result.exit_code == 0, result.output
HEAVY = ("sqlmodel", "sqlalchemy", "pydantic", "torch", "sklearn", "scholarly", "transformers")
heavy = sorted(m for m in HEAVY if m in sys.modules)
print(json.dumps(heavy))
"""


def imported(*args: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=REPO, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def test_help_and_searches_import_nothing_heavy(data, tmp_path):
    db = str(tmp_path / "kb.sqlite")
    common = ["--data", str(data), "--db", db]
    assert "sqlmodel" in imported(*common, "build")  # the build is what pays for the schema
    assert imported("--help") == []
    assert imported(*common, "search", "probe", "--json") == []
    assert imported(*common, "search", "probe") == []
    assert imported(*common, "show", "coup-probes-2023") == []
    assert imported(*common, "techniques") == []
