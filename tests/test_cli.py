"""The kb command as a user meets it: show, techniques, stats, summary new, format."""

import json

import pytest

from kb.store import datadir, frontmatter


def test_show_by_id_arxiv_id_or_near_miss(kb):
    record = json.loads(kb("show", "2311.00001", "--json").stdout)
    assert record["id"] == "coup-probes-2023"
    assert "motivation_stated_by" not in record["summary"]  # superseded by the tags' statuses
    assert record["cited_by"] == [
        {"type": "discusses", "id": "lat-paper-2023", "title": "Reading vectors with tomography", "year": 2023}
    ]
    missing = kb("show", "coup")
    assert missing.exit_code == 1 and "did you mean coup-probes-2023?" in missing.stderr


def test_show_prints_the_summary_and_who_said_what(kb):
    out = kb("show", "coup-probes-2023", "--provenance").stdout
    assert "Coup probes catch catastrophes" in out
    assert "x-risk motivation: stated by the authors" in out
    assert "monitoring: stated (abstract)" in out
    assert "tag monitoring:" not in out  # a motivation's evidence is its quote above, not a provenance line


def test_techniques_counts_each_subtree(kb):
    tree = {t["slug"]: t for t in json.loads(kb("techniques", "--json").stdout)}
    assert tree["representation-engineering"]["total"] == 3
    assert tree["representation-reading"]["direct"] == 0
    assert tree["probing"]["direct"] == 2
    assert [t["slug"] for t in tree.values()][:4] == [
        "representation-engineering",
        "representation-reading",
        "probing",
        "lat",
    ]
    assert "Linear probing" in kb("techniques").stdout


def test_stats(kb):
    stats = json.loads(kb("stats", "--json").stdout)
    assert stats["works"] == 4 and stats["by_kind"] == {"paper": 3, "post": 1}
    assert stats["summaries"] == {"reviewed": 1} and stats["without_technique"] == 0
    assert "4 works" in kb("stats").stdout


def test_motivations_count_what_the_authors_state(kb):
    rows = {m["slug"]: m for m in json.loads(kb("motivations", "--json").stdout)}
    assert rows["monitoring"]["works"] == 1 and rows["monitoring"]["stated"] == 1


def test_summary_new_scaffolds_a_file_that_validate_asks_to_finish(kb, data):
    result = kb("summary", "new", "lat-paper-2023")
    assert result.exit_code == 0
    path = data / "summaries" / "lat-paper-2023.md"
    assert path.exists() and "Reading vectors with tomography (2023)" in path.read_text()
    problems = kb("validate")
    assert problems.exit_code == 1
    assert "data/summaries/lat-paper-2023.md:" in problems.stderr and "TODO placeholder" in problems.stderr
    doc = frontmatter.parse(path.read_text())
    meta = {**doc.meta, "contributors": ["Me"], "xrisk": "Inferred from the method."}
    path.write_text(frontmatter.render(meta, "It reads vectors."))
    assert kb("validate").exit_code == 0, kb("validate").stderr
    assert kb("summary", "new", "lat-paper-2023").exit_code == 1  # never overwrites
    assert kb("summary", "new", "no-such-work").exit_code == 1


def test_format_sorts_and_refuses_to_lose_lines(kb, data):
    path = data / "works" / "papers.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(reversed(lines)) + "\n")
    assert kb("validate").exit_code == 1
    assert kb("format").exit_code == 0
    assert path.read_text().splitlines() == lines
    path.write_text(path.read_text() + "{oops\n")
    assert kb("format").exit_code == 1
    assert "{oops" in path.read_text()


def test_writing_back_is_lossless(data):
    ds = datadir.load(data)
    before = {p: p.read_text() for p in (data / "works").glob("*.jsonl")}
    datadir.write_dataset(data, ds.works)
    assert {p: p.read_text() for p in (data / "works").glob("*.jsonl")} == before
    assert datadir.load(data).works == ds.works


def test_a_build_problem_exits_nonzero(kb, data):
    (data / "taxonomy.toml").write_text("[[technique]\n")
    result = kb("build")
    assert result.exit_code == 1
    assert "data/taxonomy.toml:1: not valid TOML" in result.stderr


def test_serving_on_a_busy_port_is_a_one_line_error_not_a_traceback(kb, tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = kb("site", "serve", "--port", str(port), "--out", str(tmp_path / "site"))
    assert result.exit_code == 1
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("terminal", [True, False], ids=["laid-out-for-a-terminal", "plain-into-a-pipe"])
def test_show_gives_the_same_facts_on_a_terminal_and_into_a_pipe(kb, monkeypatch, terminal):
    from kb.cli import output

    monkeypatch.setattr(output, "_terminal", lambda: terminal)
    monkeypatch.delenv("FORCE_COLOR", raising=False)  # colour would split a fact by its codes
    shown = " ".join(kb("show", "coup-probes-2023", "--provenance").stdout.split())
    for fact in ("Coup probes", "Fabien Roger", "arxiv: 2311.00001", "probing (curator)", "lat-paper-2023"):
        assert fact in shown
    for heading in (
        "summary (",
        "why it matters for catastrophic risk (reviewed summary)",
        "x-risk motivations",
        "provenance",
    ):
        assert heading in shown
    found = " ".join(kb("search", "probes").stdout.split())
    assert "coup-probes-2023" in found and "work(s)" in found
