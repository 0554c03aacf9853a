"""The library's public API: every name in kb.__all__ is there, and `import kb` stays light."""

import json
import subprocess
import sys

import kb


def test_every_public_name_resolves_to_what_its_module_defines():
    for name in kb.__all__:
        value = getattr(kb, name)
        assert value is not None, name
        if name != "__version__":
            assert getattr(value, "__name__", name) == name or not callable(value), name


def test_an_unknown_name_is_an_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        kb.nope  # noqa: B018


def test_importing_kb_imports_none_of_the_heavy_modules():
    probe = "import sys, json, kb; print(json.dumps([m for m in ('pydantic', 'sqlmodel', 'rich') if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_the_readme_example_runs(data):
    ws = kb.Workspace(data, data.parent / "api.sqlite")
    with ws.connect() as conn:
        rows = kb.search(conn, kb.Query(text="probes", limit=5))
    assert rows and all({"id", "title"} <= set(r) for r in rows)
