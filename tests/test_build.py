"""`kb build` turns data/ into the SQLite catalogue: all or nothing, the same every time."""

import sqlite3

import pytest

from kb.store.problems import DataProblems
from kb.workspace import Workspace


def dump(db):
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def test_build_counts_and_links_authors_through_aliases(data, tmp_path):
    ws = Workspace(data, tmp_path / "kb.sqlite")
    counts = ws.build()
    assert counts["works"] == 4 and counts["summaries"] == 1
    with sqlite3.connect(ws.db_path) as conn:
        # 'Zico Kolter' (a post) and 'J. Zico Kolter' (a paper) are one author, as data/authors.jsonl says.
        rows = conn.execute(
            "SELECT a.id, count(*) FROM work_author wa JOIN author a ON a.pk = wa.author_pk GROUP BY a.id ORDER BY a.id"
        ).fetchall()
    assert ("j-zico-kolter", 2) in rows
    assert counts["authors"] == 4


def test_build_is_deterministic(data, tmp_path):
    first, second = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    Workspace(data, first).build()
    Workspace(data, second).build()
    assert dump(first) == dump(second)


def test_a_failed_build_keeps_the_previous_catalogue(data, tmp_path):
    ws = Workspace(data, tmp_path / "kb.sqlite")
    ws.build()
    before = dump(ws.db_path)
    path = data / "works" / "papers.jsonl"
    path.write_text(path.read_text() + "not json\n")
    with pytest.raises(DataProblems) as e:
        ws.build()
    assert "data/works/papers.jsonl:4" in str(e.value.problems[0])
    assert dump(ws.db_path) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".kb")] == []  # no temp file left


def test_a_summary_never_changes_a_works_motivation_tags(data, tmp_path):
    ws = Workspace(data, tmp_path / "kb.sqlite")
    ws.build()
    with sqlite3.connect(ws.db_path) as conn:
        row = conn.execute(
            "SELECT by, status, quote, location FROM work_motivation JOIN work ON pk = work_pk"
            " WHERE id = 'coup-probes-2023'"
        ).fetchone()
    # the work's own tag, as data/works has it: the summary (motivation_stated_by: authors) adds nothing
    assert row == ("curator", "stated", "Probes trained off-policy detect takeover attempts.", "abstract")


def test_reading_commands_rebuild_when_data_changes(data, kb):
    assert "Coup probes" in kb("show", "coup-probes-2023").stdout
    summary = data / "summaries" / "coup-probes-2023.md"
    summary.write_text(summary.read_text().replace("*linear* classifier", "*linear* detector"))
    result = kb("show", "coup-probes-2023", "--json")
    assert "rebuilding" in result.stderr
    assert "detector" in result.stdout


def test_a_deleted_summary_is_noticed(data, kb):
    kb("build")
    (data / "summaries" / "coup-probes-2023.md").unlink()
    assert '"summary": null' in kb("show", "coup-probes-2023", "--json").stdout


def _keys(record_type) -> tuple[set[str], set[str]]:
    """(the keys a TypedDict requires, those it may hold)."""
    return set(record_type.__required_keys__), set(record_type.__annotations__)


def test_every_work_the_catalogue_gives_holds_the_keys_its_record_type_names(data, tmp_path):
    """The work records are typed for the CLI, the site and the exports (kb.catalogue.workrecord): a
    column added to the schema, or a key dropped, must show up here, not as a KeyError in a template."""
    from kb import catalogue
    from kb.catalogue import workrecord as typed

    ws = Workspace(data, tmp_path / "kb.sqlite")
    ws.build()
    with ws.connect() as conn:
        records = catalogue.export(conn)["works"]
        details = [catalogue.get_work(conn, w["id"]) for w in records]
    tag_types = {
        "authors": typed.AuthorRef,
        "techniques": typed.TechniqueTag,
        "motivations": typed.MotivationTag,
        "relations": typed.RelationRef,
        "cited_by": typed.RelationRef,
    }
    for record_type, works in ((typed.ExportedWork, records), (typed.WorkDetail, details)):
        required, allowed = _keys(record_type)
        for work in works:
            assert required <= set(work) <= allowed, (work["id"], set(work) ^ required)
            for field, tag_type in tag_types.items():
                required_tag, allowed_tag = _keys(tag_type)
                for tag in work[field]:
                    assert required_tag <= set(tag) <= allowed_tag, (work["id"], field, set(tag) ^ required_tag)
            if work["summary"] is not None:
                assert set(work["summary"]) == set(typed.SummaryRecord.__annotations__), work["id"]
    assert any(w["techniques"] for w in records) and any(w["motivations"] for w in records)
    assert any(w["summary"] for w in records) and any(w["relations"] for w in details)
