"""What an incremental build trusts of the live site, and the journal that moves its files in: a manifest or journal
naming a file outside the site never removes it, a bad journal stops a build with one line naming it, two builds of
one site never interleave, and a page or static file removed from the live site by hand is put back."""

from __future__ import annotations

import json
import shutil
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.website import render, searchindex, staging
from tests.test_site import EDITS, build


@pytest.fixture(autouse=True)
def no_search(monkeypatch):
    monkeypatch.setattr(searchindex, "available", lambda: False)  # these tests are about files, not search


def test_a_manifest_naming_a_file_outside_the_site_makes_a_full_build_that_removes_nothing_outside(data, tmp_path):
    out = tmp_path / "_site"
    build(data, out)
    precious = tmp_path / "precious.txt"
    precious.write_text("the user's")
    manifest = json.loads((out / render.MANIFEST).read_text())
    manifest["pages"]["../precious.txt"] = "x"
    manifest["figures"] = [str(precious)]
    (out / render.MANIFEST).write_text(json.dumps(manifest))
    EDITS["a summary's text"](data)
    report = build(data, out)
    assert precious.read_text() == "the user's"
    assert len(report.rendered) == report.pages  # the manifest was not trusted: a full build


@pytest.mark.parametrize("where", ["../precious.txt", "ABSOLUTE"])
def test_a_leftover_journal_naming_a_file_outside_the_site_is_refused_naming_it(data, tmp_path, where):
    out = tmp_path / "_site"
    build(data, out)
    precious = tmp_path / "precious.txt"
    precious.write_text("the user's")
    stage = staging.make(out, "new")  # what a killed build left
    rel = str(precious) if where == "ABSOLUTE" else where
    (stage / render.JOURNAL).write_text(json.dumps({"put": [], "drop": [rel]}))
    with pytest.raises(render.JournalPending, match=f"{stage / render.JOURNAL}: .*outside.*remove {stage}"):
        build(data, out)
    assert precious.read_text() == "the user's"


def test_a_journal_through_a_link_out_of_the_site_is_refused(data, tmp_path):
    out = tmp_path / "_site"
    build(data, out)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("the user's")
    (out / "linked").symlink_to(elsewhere)
    stage = staging.make(out, "new")  # what a killed build left
    (stage / render.JOURNAL).write_text(json.dumps({"put": [], "drop": ["linked/precious.txt"]}))
    with pytest.raises(render.JournalPending, match="outside"):
        render.recover(out)
    assert (elsewhere / "precious.txt").read_text() == "the user's"


@pytest.mark.parametrize("body", ["", "[1, 2]", json.dumps({"put": []})], ids=["empty", "not-a-journal", "no-drop"])
def test_kb_site_build_names_a_bad_journal_and_the_way_out_in_one_line(kb, data, tmp_path, body):
    out = tmp_path / "_site"
    assert kb("site", "build", "--out", str(out), "--date", "2026-01-01").exit_code == 0
    stage = staging.make(out, "new")  # what a killed build left
    (stage / render.JOURNAL).write_text(body)
    stopped = kb("site", "build", "--out", str(out), "--date", "2026-01-01")
    assert stopped.exit_code == 1 and "Traceback" not in stopped.stderr
    lines = stopped.stderr.strip().splitlines()
    assert len(lines) == 1 and str(stage / render.JOURNAL) in lines[0] and f"remove {stage}" in lines[0]
    # the way out it names works
    shutil.rmtree(stage)
    assert kb("site", "build", "--out", str(out), "--date", "2026-01-01").exit_code == 0


def test_a_journal_that_cannot_be_applied_is_reported_as_pending_not_as_the_previous_site_kept(kb, data, tmp_path):
    out = tmp_path / "_site"
    assert kb("site", "build", "--out", str(out), "--date", "2026-01-01").exit_code == 0
    stage = staging.make(out, "new")  # what a killed build left
    (stage / "index.html").mkdir(parents=True)  # a folder to move where a file is: the rename fails
    (stage / "index.html" / "x").write_text("new")
    (stage / render.JOURNAL).write_text(json.dumps({"put": ["index.html/x", render.MANIFEST], "drop": []}))
    stopped = kb("site", "build", "--out", str(out), "--date", "2026-01-01")
    assert stopped.exit_code == 1
    assert "the next `kb site build` finishes it" in stopped.stderr and "previous site is kept" not in stopped.stderr
    assert f"{out / 'index.html'}" in stopped.stderr  # the file that could not be replaced


def test_a_second_build_waits_for_the_first_instead_of_sweeping_up_its_staging_folder(data, tmp_path, monkeypatch):
    out = tmp_path / "_site"
    build(data, out)
    EDITS["a summary's text"](data)
    copy_assets, second = render._copy_assets, []

    def second_build_starts(*args, **kwargs):  # the first has rendered its pages into its staging folder
        recovering = threading.Thread(target=render.recover, args=(out,))
        recovering.start()
        recovering.join(timeout=1.0)
        second.append(recovering)
        return copy_assets(*args, **kwargs)

    monkeypatch.setattr(render, "_copy_assets", second_build_starts)
    report = build(data, out)
    second[0].join()
    assert not second[0].is_alive()
    assert "works/coup-probes-2023.html" in report.rendered
    assert "<em>linear</em> monitor" in (out / "works" / "coup-probes-2023.html").read_text()


def test_pages_and_static_files_removed_from_the_live_site_are_put_back_by_an_incremental_build(data, tmp_path):
    out = tmp_path / "_site"
    build(data, out)
    pages = sorted(json.loads((out / render.MANIFEST).read_text())["pages"])
    other_work = next(p for p in pages if p.startswith("works/") and "coup-probes" not in p)
    static = next(p for p in out.rglob("*") if p.is_file() and p.relative_to(out).parts[0] == "static")
    lost = [out / other_work, out / "index.html", out / "techniques" / "probing.html", static]
    for path in lost:
        path.unlink()
    EDITS["a summary's text"](data)
    report = build(data, out)
    assert len(report.rendered) < report.pages  # incremental
    assert [path for path in lost if not path.is_file()] == []


def test_the_journal_names_only_files_inside_the_site(data, tmp_path):
    assert not any(map(render._inside, ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\0b", 3, None]))
    assert all(map(render._inside, ["index.html", "works/a.b.html", "results/my exp/fig 1.svg", render.MANIFEST]))


def test_a_build_whose_staging_folder_was_swept_up_under_it_moves_nothing_in(data, tmp_path, monkeypatch):
    # a process that ignores the site's lock (an older kb) removes the staging folder while pages are written
    out = tmp_path / "_site"
    build(data, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    EDITS["a summary's text"](data)
    copy_assets = render._copy_assets

    def swept_up(assets, figures, stage, **kwargs):
        again = tmp_path / "made-again"  # made before the old one goes: another folder, not its inode reused
        (again / "works").mkdir(parents=True)
        shutil.rmtree(stage)
        again.rename(stage)  # as a late page's write makes the folder again
        return copy_assets(assets, figures, stage, **kwargs)

    monkeypatch.setattr(render, "_copy_assets", swept_up)
    with pytest.raises(render.SiteBuildError, match="removed while this build wrote into it"):
        build(data, out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet="a./\0", max_size=8), max_size=4))
def test_the_manifests_one_scan_for_paths_outside_the_site_agrees_with_the_rule_for_one_path(rels):
    assert render._all_inside(rels) == all(render._inside(rel) for rel in rels)
