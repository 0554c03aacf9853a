"""Nothing a user does destroys data: an output folder that is not a site is refused, a file added to a site by
hand outlives any build, paths from data/ and from answers stay where they belong, files keep their modes, a killed
build's temporary files are swept up and nothing that merely looks like one."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.website import render
from tests.conftest import REPO


@pytest.fixture(autouse=True)
def no_pagefind(monkeypatch):
    from kb.website import searchindex

    monkeypatch.setattr(searchindex, "available", lambda: False)  # these tests are about folders, not search


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("where", ["data", "the checkout", "inside data"])
def test_site_build_never_replaces_data_nor_a_folder_that_holds_it(kb, data, where):
    before = tree(data)
    out = {"data": data, "the checkout": data.parent, "inside data": data / "site"}[where]
    result = kb("site", "build", "--out", str(out))
    assert result.exit_code == 2
    assert str(data) in one_error_line(result)
    assert tree(data) == before and not (data / "site").exists()


def test_site_build_refuses_a_file_and_keeps_it(kb, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    result = kb("site", "build", "--out", str(notes))
    assert result.exit_code == 2 and "is a file" in one_error_line(result)
    assert notes.read_text() == "my notes\n"


def test_site_build_refuses_a_folder_it_did_not_make_and_keeps_every_file(kb, tmp_path):
    mine = tmp_path / "thesis"
    (mine / "chapters").mkdir(parents=True)
    (mine / "chapters" / "one.tex").write_text("\\chapter{One}\n")
    (mine / "index.html").write_text("<p>mine</p>\n")  # looks like a site, was not made by kb
    result = kb("site", "build", "--out", str(mine))
    assert result.exit_code == 2 and "did not make" in one_error_line(result)
    assert tree(mine) == {"chapters/one.tex": b"\\chapter{One}\n", "index.html": b"<p>mine</p>\n"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".thesis")] == []


def test_site_build_fills_an_empty_folder_and_replaces_only_its_own_site(kb, tmp_path):
    out = tmp_path / "public"
    out.mkdir()
    assert kb("site", "build", "--out", str(out)).exit_code == 0
    assert (out / render.MANIFEST).is_file() and (out / "index.html").is_file()
    (out / "stray.txt").write_text("left by hand in the built site")
    # its own site, updated where it is (an incremental build: the same templates and code): a file it did not make
    # stays (a full build keeps it too: test_a_full_build_keeps_what_was_added_to_the_site_by_hand)
    assert kb("site", "build", "--out", str(out)).exit_code == 0
    assert (out / "stray.txt").read_text() == "left by hand in the built site" and (out / "index.html").is_file()


def _other_templates(out: Path) -> None:
    """The live site as if made by other templates or code: the next build is a full one, a whole new site."""
    manifest = json.loads((out / render.MANIFEST).read_text())
    (out / render.MANIFEST).write_text(json.dumps(manifest | {"assets": "other templates"}))


def test_a_full_build_keeps_what_was_added_to_the_site_by_hand_and_drops_only_its_own_old_pages(kb, tmp_path):
    out = tmp_path / "public"
    assert kb("site", "build", "--out", str(out)).exit_code == 0
    (out / "CNAME").write_text("kb.example.org\n")  # how GitHub Pages is told the domain
    (out / ".git" / "refs").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")
    (out / "works" / "my-notes.html").write_text("<p>mine</p>")
    (out / "latest").symlink_to("index.html")
    (out / "works" / "a-work-since-removed.html").write_text("<p>old</p>")  # a page the last build made
    _other_templates(out)
    manifest = json.loads((out / render.MANIFEST).read_text())
    manifest["pages"]["works/a-work-since-removed.html"] = "fingerprint"
    (out / render.MANIFEST).write_text(json.dumps(manifest))
    assert kb("site", "build", "--out", str(out)).exit_code == 0
    assert json.loads((out / render.MANIFEST).read_text())["assets"] != "other templates"  # it was a full build
    assert (out / "CNAME").read_text() == "kb.example.org\n"
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/gh-pages\n" and (out / ".git" / "refs").is_dir()
    assert (out / "works" / "my-notes.html").read_text() == "<p>mine</p>"
    assert os.readlink(out / "latest") == "index.html"
    assert not (out / "works" / "a-work-since-removed.html").exists()


def test_an_output_folder_given_as_a_link_stays_a_link_and_the_site_is_built_where_it_points(kb, tmp_path):
    real = tmp_path / "real"
    assert kb("site", "build", "--out", str(real)).exit_code == 0
    link = tmp_path / "public"
    link.symlink_to(real)
    _other_templates(real)
    assert kb("site", "build", "--out", str(link)).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads((real / render.MANIFEST).read_text())["assets"] != "other templates"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [".kb.real.lock"]


def test_a_folder_of_the_users_named_like_a_staging_folder_is_never_moved_nor_removed(kb, tmp_path):
    out = tmp_path / "public"
    backup = tmp_path / ".public.old-backup"
    (backup / "site").mkdir(parents=True)
    (backup / "site" / "notes.txt").write_text("precious")
    (tmp_path / ".public.new-draft").mkdir()
    (tmp_path / ".public.new-draft" / "draft.md").write_text("mine too")
    assert kb("site", "build", "--out", str(out)).exit_code == 0  # no site yet: a killed swap would be put back
    assert kb("site", "build", "--out", str(out)).exit_code == 0
    assert (backup / "site" / "notes.txt").read_text() == "precious" and not (out / "notes.txt").exists()
    assert (tmp_path / ".public.new-draft" / "draft.md").read_text() == "mine too"


@pytest.mark.parametrize("where", ["under a file", "inside the templates", "a mount point"])
def test_site_build_refuses_an_output_folder_it_cannot_build_in_with_one_line(kb, tmp_path, monkeypatch, where):
    from kb.website import assets_dir

    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    out = {
        "under a file": notes / "site",
        "inside the templates": assets_dir() / "static" / "preview",
        "a mount point": tmp_path / "volume",
    }[where]
    if where == "a mount point":
        out.mkdir()
        real = os.path.ismount
        monkeypatch.setattr(os.path, "ismount", lambda p: str(p) == str(out) or real(p))
    result = kb("site", "build", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert {"under a file": "is a file", "inside the templates": "lies inside", "a mount point": "mount point"}[
        where
    ] in one_error_line(result)
    assert notes.read_text() == "my notes\n" and not (assets_dir() / "static" / "preview").exists()


def test_a_new_site_can_be_read_by_others_as_any_new_folder_can(kb, tmp_path):
    out = tmp_path / "public"
    umask = os.umask(0o022)
    try:
        assert kb("site", "build", "--out", str(out)).exit_code == 0
    finally:
        os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o755  # a web server running as another user can serve it


def test_a_manifest_whose_table_of_works_was_edited_into_a_list_makes_a_full_build_not_a_traceback(kb, tmp_path):
    out = tmp_path / "public"
    assert kb("site", "build", "--out", str(out)).exit_code == 0
    manifest = json.loads((out / render.MANIFEST).read_text())
    (out / render.MANIFEST).write_text(json.dumps(manifest | {"works": []}))
    result = kb("site", "build", "--out", str(out))
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert isinstance(json.loads((out / render.MANIFEST).read_text())["works"], dict)


def test_a_staging_folder_is_removed_even_when_closing_the_search_index_fails_for_a_full_disk(tmp_path):
    import errno

    class FullDisk:
        def close(self):
            raise OSError(errno.ENOSPC, "No space left on device")

    stage = tmp_path / ".public.new-x"
    (stage / "works").mkdir(parents=True)
    (stage / "works" / "a.html").write_text("x" * 1000)
    with pytest.raises(OSError, match="No space"):
        render._remove_stage(stage, FullDisk())  # type: ignore[arg-type]
    assert not stage.exists()


def test_site_serve_refuses_the_same_folders_as_build(kb, data):
    result = kb("site", "serve", "--out", str(data), "--port", "0")
    assert result.exit_code == 2 and str(data) in one_error_line(result)


def test_a_page_path_that_leaves_the_site_stops_the_build_before_anything_is_written(tmp_path):
    from kb.website import assets_dir
    from kb.website.context import Page

    out = tmp_path / "_site"
    with pytest.raises(render.SiteBuildError, match="outside the site"):
        render.write_site([Page("../../escaped.html", "404.html", {"site": {}})], out, assets_dir())
    assert not (tmp_path / "escaped.html").exists() and not (tmp_path.parent / "escaped.html").exists()
    assert [p.name for p in tmp_path.iterdir()] == [".kb._site.lock"]  # no staging folder left; the builds' lock


def test_a_work_id_that_is_a_path_never_becomes_a_summary_file():
    from kb.store.layout import summary_file

    assert summary_file("coup-probes-2023") == "summaries/coup-probes-2023.md"
    for bad in ("../../etc/x", "/tmp/x", "a/b", "a\x00b", "", ".."):
        with pytest.raises(ValueError, match="not a work id"):
            summary_file(bad)


def test_sources_toml_cannot_name_a_folder_for_resume_files(kb, data):
    (data / "sources.toml").write_text('[[source]]\ntype = "scholar"\nid = "AbC"\nresume_dir = "/etc"\n')
    result = kb("validate")
    assert result.exit_code == 1
    assert any("sources.toml:" in line and "resume_dir" in line for line in result.stderr.splitlines()), result.stderr
    result = kb("sync")
    assert result.exit_code == 1 and "resume_dir" in result.stderr


def test_the_scholar_resume_file_stays_in_the_cache_whatever_the_id(tmp_path, monkeypatch):
    from importers import scholar

    for hostile in ("../../../etc/passwd", "/abs/x", "a/../../b", "..", "\x1b[2J"):
        spec = {"id": hostile, "cache_dir": str(tmp_path / "cache")}  # as kb gives it, from $KB_CACHE
        path = scholar.resume_path(hostile, scholar._resume_dir(spec))
        assert path.parent == tmp_path / "cache" / "scholar" and "/" not in path.name, hostile


# -- file modes, and what a killed build leaves -------------------------------------------------------------


def test_a_rewrite_of_data_keeps_each_file_mode_whatever_the_umask(data):
    from kb.store import lock

    works = data / "works" / "posts.jsonl"
    works.chmod(0o644)
    (data / "authors.jsonl").chmod(0o664)
    old = os.umask(0o077)
    try:
        lock.write_files(data, {works: "{}\n", data / "authors.jsonl": "{}\n", data / "works" / "new.jsonl": "\n"})
    finally:
        os.umask(old)
    assert works.stat().st_mode & 0o777 == 0o644
    assert (data / "authors.jsonl").stat().st_mode & 0o777 == 0o664
    assert (data / "works" / "new.jsonl").stat().st_mode & 0o777 == 0o600  # a new file: the umask's say


def test_an_import_keeps_the_works_file_mode(data):
    from importers.records import WorkRecord
    from kb.ingest.imports import Fetched, apply
    from kb.workspace import Workspace

    posts = data / "works" / "posts.jsonl"
    posts.chmod(0o644)
    record = WorkRecord(source="lesswrong", kind="post", title="A new post", year=2025, ids={"lesswrong": "p" * 17})
    assert apply(Workspace(data, data.parent / "kb.sqlite"), [Fetched("test", [record])]).added
    assert "A new post" in posts.read_text() and posts.stat().st_mode & 0o777 == 0o644


KILLED_BUILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from kb.catalogue import build as catalogue_build
    from kb.store import datadir

    def stall(conn, ds):  # the build's temporary catalogue (and its journal) exist now
        Path(sys.argv[3]).write_text("ready")
        time.sleep(60)

    catalogue_build.write_rows = stall
    catalogue_build.build(datadir.load(Path(sys.argv[1])), Path(sys.argv[2]))
    """
)


def test_a_build_killed_mid_way_leaves_temporary_files_that_the_next_build_removes(kb, data, tmp_path):
    db = data.parent / "build" / "catalogue.sqlite"
    ready = tmp_path / "ready"
    child = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(data), str(db), str(ready)], cwd=REPO)
    try:
        for _ in range(600):
            if ready.exists() or child.poll() is not None:
                break
            time.sleep(0.05)
        assert ready.exists(), "the child never reached its build"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
    left = sorted(p.name for p in db.parent.iterdir() if p.name.startswith(".catalogue.sqlite."))
    assert left, "the kill left nothing: the test would prove nothing"
    assert kb("build").exit_code == 0
    assert sorted(p.name for p in db.parent.iterdir()) == ["catalogue.sqlite"]


def test_a_build_beside_a_live_one_leaves_the_live_ones_temporary_file(tmp_path):
    import fcntl

    from kb.catalogue.build import _sweep

    db = tmp_path / "catalogue.sqlite"
    live, dead = tmp_path / ".catalogue.sqlite.live.tmp", tmp_path / ".catalogue.sqlite.dead.tmp"
    for path in (live, dead, Path(f"{dead}-journal"), tmp_path / ".catalogue.sqlite.gone.tmp-journal"):
        path.write_bytes(b"x")
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        _sweep(db)
    finally:
        os.close(fd)
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name]


# -- author ids for every script -----------------------------------------------------------------------------


def test_names_in_any_script_get_distinct_ids_that_are_slugs():
    from kb.names import SLUG_RE, author_id

    names = ["张伟", "李娜", "Иван Петров", "Пётр Иванов", "محمد علي", "田中 太郎", "Bjørn Straße", "Zico Kolter"]
    ids = [author_id(n) for n in names]
    assert all(SLUG_RE.fullmatch(i) for i in ids), ids
    assert len(set(ids)) == len(names)
    assert author_id("J. Zico Kolter") == "j-zico-kolter" and author_id("Räuker") == "rauker"  # Latin: as before
    assert author_id("Bjørn Straße") == "bjorn-strasse"
    assert author_id("张伟") == author_id(" 张伟 ")  # stable: the same name, the same id


def test_listing_by_a_non_latin_author_finds_only_their_works(kb, data):
    path = data / "works" / "papers.jsonl"
    extra = [
        {"id": "zhang-2024", "kind": "paper", "title": "One", "authors": ["张伟"], "year": 2024},
        {"id": "li-2024", "kind": "paper", "title": "Two", "authors": ["李娜"], "year": 2024},
        {"id": "petrov-2024", "kind": "paper", "title": "Three", "authors": ["Иван Петров"], "year": 2024},
    ]
    lines = path.read_text().splitlines() + [json.dumps(w) for w in extra]
    path.write_text("".join(line + "\n" for line in sorted(lines, key=lambda line: json.loads(line)["id"])))
    found = {a: [w["id"] for w in json.loads(kb("list", "--author", a, "--json").stdout)] for a in ("张伟", "Петров")}
    assert found == {"张伟": ["zhang-2024"], "Петров": ["petrov-2024"]}


def test_a_result_figure_outside_its_folder_is_never_copied_into_the_site(tmp_path):
    from kb.website import load_results

    secret = tmp_path / "secret.txt"
    secret.write_text("not for the site")
    folder = tmp_path / "results" / "probes-vs-lat"
    folder.mkdir(parents=True)
    (folder / "ok.svg").write_text("<svg/>")
    figures = [{"path": "../../secret.txt"}, {"path": str(secret)}, {"path": "ok.svg"}, {"path": 3}, "x"]
    (folder / "result.json").write_text(json.dumps({"experiment": "probes-vs-lat", "figures": figures}))
    results, copied = load_results(tmp_path / "results")
    assert copied == {"results/probes-vs-lat/ok.svg": folder / "ok.svg"}
    assert [f["src"] for f in results[0]["figures"]] == ["results/probes-vs-lat/ok.svg"]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20))
def test_any_name_gets_a_slug_id_and_names_of_different_words_get_different_ids(a, b):
    from kb.names import SLUG_RE, author_id, normalise_name

    for name in (a, b):
        assert SLUG_RE.fullmatch(author_id(name)) or (author_id(name) == "" and not name.strip()), repr(name)
    if normalise_name(a) and normalise_name(b) and normalise_name(a) != normalise_name(b):
        assert author_id(a) != author_id(b), (a, b)
