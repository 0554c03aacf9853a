"""No user mistake and no fact about the machine ends in a traceback: one line on stderr naming the file (and line),
exit 1 (2 for a usage error), results alone on stdout. The click runner is called with catch_exceptions=False, so
any exception that escapes fails the test."""

import errno
import json
import os

import pytest


def one_error_line(result) -> str:
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert not result.stdout.strip() or "error" not in result.stdout, result.stdout  # messages on stderr only
    return errors[0]


@pytest.mark.parametrize("damage", ["header", "tables"])
def test_a_corrupted_catalogue_is_rebuilt_or_one_line_naming_it(kb, data, monkeypatch, damage):
    from kb import catalogue

    assert kb("build").exit_code == 0
    db = data.parent / "build" / "catalogue.sqlite"
    raw = bytearray(db.read_bytes())
    for at in range(0 if damage == "header" else 4096, len(raw), 97):
        raw[at] = 0xFF
    db.write_bytes(bytes(raw))
    if damage == "header":  # the staleness check cannot read it: rebuilt from data/, and the search answers
        result = kb("search", "probes")
        assert result.exit_code == 0 and "coup-probes-2023" in result.stdout
        return
    # damage the staleness check does not see (it reads one row): the query meets it
    monkeypatch.setattr(catalogue, "is_stale", lambda db_path, data_dir: False)
    for args in (("search", "probes"), ("list",), ("show", "coup-probes-2023"), ("export",)):
        result = kb(*args)
        assert result.exit_code == 1, args
        line = one_error_line(result)
        assert str(db) in line and "kb build" in line, line


def test_a_catalogue_path_that_is_a_folder_is_one_line(kb, data, tmp_path):
    folder = tmp_path / "a-folder"
    (folder / "inside").mkdir(parents=True)
    for args in (("search", "probes"), ("build",), ("show", "coup-probes-2023")):
        result = kb("--db", str(folder), *args)
        assert result.exit_code == 1, args
        assert str(folder) in one_error_line(result) and "folder" in result.stderr
    assert (folder / "inside").is_dir()


@pytest.mark.parametrize("name", ["works/papers.jsonl", "authors.jsonl", "taxonomy.toml"])
def test_a_data_file_that_is_not_utf8_is_a_problem_with_its_line_for_every_command(kb, data, name):
    path = data / name
    lines = path.read_bytes().splitlines(keepends=True)
    lines.insert(1, b'{"id": "caf\xe9"}\n' if name.endswith(".jsonl") else b"# caf\xe9\n")
    path.write_bytes(b"".join(lines))
    for args in (("validate",), ("search", "probes"), ("list",), ("build",), ("format",)):
        result = kb(*args)
        assert result.exit_code == 1, args
        assert "Traceback" not in result.output
        assert f"{name}:2: not UTF-8 text" in result.stderr, (args, result.stderr)


def test_a_works_file_that_is_a_folder_is_a_problem(kb, data):
    (data / "works" / "reports.jsonl").mkdir()
    result = kb("validate")
    assert (
        result.exit_code == 1 and "reports.jsonl:0: cannot read" in result.stderr and "Traceback" not in result.output
    )


def test_a_summary_that_is_a_symlink_loop_is_a_problem(kb, data):
    loop = data / "summaries" / "loop-2024.md"
    os.symlink(loop, loop)
    for args in (("validate",), ("search", "probes")):
        result = kb(*args)
        assert result.exit_code == 1, args
        assert "loop-2024.md:0: cannot read" in result.stderr and "Traceback" not in result.output


def test_export_into_a_missing_folder_is_one_line_naming_the_file(kb, tmp_path):
    target = tmp_path / "missing" / "dir" / "x.bib"
    result = kb("export", "-o", str(target))
    assert result.exit_code == 1
    assert str(target) in one_error_line(result) and "No such file or directory" in result.stderr


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf"])
def test_a_lock_timeout_that_is_not_seconds_is_a_usage_error(kb, monkeypatch, value):
    monkeypatch.setenv("KB_LOCK_TIMEOUT", value)
    result = kb("list")
    assert result.exit_code == 2 and "KB_LOCK_TIMEOUT" in one_error_line(result)


def test_a_lock_timeout_that_is_not_seconds_is_a_usage_error_in_the_quick_reader_too(data, monkeypatch, capsys):
    from kb.cli import launch

    monkeypatch.setenv("KB_LOCK_TIMEOUT", "abc")
    with pytest.raises(SystemExit) as ended:
        launch.main(["--data", str(data), "show", "coup-probes-2023"])
    assert ended.value.code == 2 and "KB_LOCK_TIMEOUT" in capsys.readouterr().err


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "somewhere")


def test_a_full_disk_during_an_import_is_one_line_and_data_is_unchanged(kb, data, monkeypatch):
    from importers.records import WorkRecord
    from kb.ingest import imports
    from kb.store import lock

    record = WorkRecord(source="lesswrong", kind="post", title="A new post", year=2025, ids={"lesswrong": "p" * 17})
    monkeypatch.setattr(
        imports,
        "fetch_source",
        lambda spec, transport=None, progress=None, **where: imports.Fetched("test", [record]),
        raising=False,
    )
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}

    class Full:
        def __init__(self, fd, *args, **kwargs):
            os.close(fd)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        write = _disk_full

    monkeypatch.setattr(lock.os, "fdopen", Full)
    result = kb("import", "feed", "https://lab.example/feed.xml")
    monkeypatch.undo()
    assert result.exit_code == 1 and "No space left on device" in one_error_line(result)
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == before
    assert not [p for p in data.parent.rglob("*") if lock.TEMP_MARK in p.name]


def test_a_full_disk_during_a_site_build_is_one_line_and_keeps_the_previous_site(kb, data, tmp_path, monkeypatch):
    from kb.website import render, searchindex

    monkeypatch.setattr(searchindex, "available", lambda: False)
    out = tmp_path / "_site"
    assert kb("site", "build", "--out", str(out)).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (data / "summaries" / "coup-probes-2023.md").write_text(
        (data / "summaries" / "coup-probes-2023.md").read_text() + "\nMore.\n"
    )
    monkeypatch.setattr(render, "_write", _disk_full)
    result = kb("site", "build", "--out", str(out))
    assert result.exit_code == 1 and "No space left on device" in one_error_line(result)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("._site")) == []


@pytest.mark.parametrize("value", ["!!timestamp tomorrow", "!!timestamp 2026-99-99", "!!binary '%%%'"])
def test_a_front_matter_value_yaml_cannot_build_is_a_problem_with_its_line(kb, data, value):
    path = data / "summaries" / "coup-probes-2023.md"
    path.write_text(path.read_text().replace("status: reviewed\n", f"status: reviewed\nupdated: {value}\n"))
    result = kb("validate")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "coup-probes-2023.md:4:" in result.stderr, result.stderr


def test_import_errors_and_warnings_go_to_stderr_and_results_to_stdout(kb, data, monkeypatch):
    from importers.records import Notice, WorkRecord
    from kb.ingest import imports

    record = WorkRecord(source="feed", kind="post", title="Kept", year=2025, url="https://lab.example/kept")
    fetched = imports.Fetched(
        "feed", [record], notices=[Notice("feed", "dropped a javascript: link")], error="feed: went away"
    )
    monkeypatch.setattr(
        imports, "fetch_source", lambda spec, transport=None, progress=None, **where: fetched, raising=False
    )
    result = kb("import", "feed", "https://lab.example/feed.xml")
    assert result.exit_code == 1
    assert "warning:" in result.stderr and "error:" in result.stderr
    assert "warning" not in result.stdout and "error" not in result.stdout and "added 1" in result.stdout


def test_json_output_is_still_json_on_stdout_when_data_changed(kb, data):
    assert json.loads(kb("list", "--json").stdout)
