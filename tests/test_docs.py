"""The docs cannot drift: every command documented and helped, every module named exists, tables agree."""

import re
from pathlib import Path

import click

from kb.cli.commands import cli

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
ARCHITECTURE = (REPO / "ARCHITECTURE.md").read_text()


def commands(group: click.Group = cli, prefix: str = ""):
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}".strip()
        yield path, command
        if isinstance(command, click.Group):
            yield from commands(command, path)


def test_every_command_is_shown_in_the_readme_and_has_help_text():
    missing = [path for path, _ in commands() if f"kb {path}" not in README]
    unhelped = [path for path, command in commands() if not (command.help or "").strip()]
    assert missing == [] and unhelped == []


def test_every_option_has_help_text():
    bare = [
        f"kb {path} {param.opts[0]}"
        for path, command in commands()
        for param in command.params
        if isinstance(param, click.Option) and not param.help and param.name not in ("help",)
    ]
    assert bare == []


def test_every_module_the_architecture_page_names_exists():
    named = set(re.findall(r"`((?:kb|importers|site)/[\w/]*?(?:\.py|/))`", ARCHITECTURE))
    assert len(named) > 30
    assert [m for m in sorted(named) if not (REPO / m).exists()] == []


def test_every_module_of_the_package_is_on_the_architecture_page():
    modules = {str(p.relative_to(REPO)) for p in (REPO / "kb").rglob("*.py") if p.name != "__init__.py"}
    modules |= {str(p.relative_to(REPO)) for p in (REPO / "importers").glob("*.py") if p.name != "__init__.py"}
    assert sorted(m for m in modules if f"`{m}`" not in ARCHITECTURE) == []


def test_the_readme_module_table_names_modules_that_exist():
    row = next(line for line in README.splitlines() if line.startswith("| `kb/` |"))
    for name in re.findall(r"`(\w+)/?`", row.split("|")[2]):
        assert (REPO / "kb" / f"{name}.py").exists() or (REPO / "kb" / name).is_dir(), name


def test_every_registered_experiment_has_a_runner_and_every_runner_an_entry():
    from kb.methods.experiments import RUNNERS
    from kb.methods.registry import EXPERIMENTS

    assert set(RUNNERS) == set(EXPERIMENTS)


def test_every_claim_is_given_its_verdict_by_name_in_the_runners():
    from kb.methods.registry import EXPERIMENTS

    runners = (REPO / "kb" / "methods" / "experiments.py").read_text()
    named = {name for e in EXPERIMENTS.values() for name in e.claims}
    assert named and {n for n in named if f'claims["{n}"]' not in runners} == set()
    assert "claims[0]" not in runners  # claims are never matched to their checks by position


def test_the_readme_gives_exactly_the_two_setup_commands_on_its_first_screen():
    first_screen = "\n".join(README.splitlines()[:20])
    assert re.findall(r"^scripts/\w+", first_screen, re.M) == ["scripts/main", "scripts/test"]
    assert all((REPO / s).is_file() for s in ("scripts/main", "scripts/test"))


# Which packages of kb each layer may import (besides the shared modules at kb/'s top and importers/): data flows
# importers -> kb.ingest -> kb.store -> kb.catalogue -> kb.cli | kb.website, and a layer never imports one below it.
LAYERS = {
    "kb/store": {"kb.store"},
    "kb/catalogue": {"kb.store", "kb.catalogue"},
    "kb/ingest": {"kb.store", "kb.ingest", "kb.catalogue"},
    "kb/website": {"kb.store", "kb.catalogue", "kb.website"},
    "kb/methods": {"kb.methods"},
}


def _kb_imports(path: Path) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n == "kb" or n.startswith("kb.")}


def test_each_layer_imports_only_the_layers_above_it():
    wrong = []
    for layer, allowed in LAYERS.items():
        for path in (REPO / layer).rglob("*.py"):
            for name in _kb_imports(path):
                package = ".".join(name.split(".")[:2])
                is_shared = (REPO / Path(*package.split("."))).with_suffix(".py").exists() or package == "kb"
                if layer == "kb/methods" and package not in allowed:
                    wrong.append(f"{path.relative_to(REPO)} imports {name}")
                elif not is_shared and package not in allowed:
                    wrong.append(f"{path.relative_to(REPO)} imports {name}")
    assert wrong == []


def test_the_importers_never_import_kb():
    assert [str(p.relative_to(REPO)) for p in (REPO / "importers").glob("*.py") if _kb_imports(p)] == []


def test_every_setting_is_read_by_the_workspace_alone():
    # the terminal's conventions (NO_COLOR, COLUMNS, click's completion) are the terminal's, not settings of kb's;
    # kb.methods may not import kb, so `kb methods run` hands it what it needs
    readers = {"kb/workspace.py", "kb/cli/terminal.py", "kb/cli/launch.py"}
    found = [
        str(p.relative_to(REPO))
        for folder in ("kb", "importers")
        for p in (REPO / folder).rglob("*.py")
        if re.search(r"os\.environ|getenv", p.read_text()) and "kb/methods/" not in str(p)
    ]
    assert sorted(set(found) - readers) == []
