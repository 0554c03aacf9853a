"""Incremental site builds driven by the dependency map kept with the site: an edit looks again only at the pages
naming the edited work (and those made from the whole catalogue), a template change renders every page, and the
site an incremental build leaves, search index included, is byte for byte the site a full build of the same data
makes."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import pytest

from kb import catalogue, website
from kb.website import context, render, searchindex
from kb.workspace import Workspace
from tests.test_site import DATE, EDITS, _edit_jsonl, build

pytestmark = pytest.mark.skipif(not searchindex.available(), reason="Pagefind is not installed")
CONFIG = context.SiteConfig(base_url="https://kb.example/", build_date=DATE)


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


# Pagefind writes each bundle's filter index in an order that varies from run to run (two full builds of the same
# records differ there, measured): its files are compared as the same bytes in any order; the metadata and entry
# files name them by digest, so they differ with them. Every other file, the pages' fragments and the word index
# included, must be the same bytes.
UNORDERED = re.compile(r"(^|/)(filter/[^/]+\.pf_filter|pagefind\.[^/]+\.pf_meta|pagefind-entry\.json)$")


def same_site(a: dict[str, bytes], b: dict[str, bytes]) -> None:
    def unordered(site: dict[str, bytes]) -> list[list[int]]:
        return sorted(sorted(gzip.decompress(v)) for k, v in site.items() if k.endswith(".pf_filter"))

    ordered = {k: v for k, v in a.items() if not UNORDERED.search(k)}
    assert ordered == {k: v for k, v in b.items() if not UNORDERED.search(k)}
    assert unordered(a) == unordered(b)


def inodes(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_ino for p in out.rglob("*") if p.is_file()}


def dependents(data: Path, work_id: str) -> set[str]:
    """The pages the dependency map names for a work, and those made from the whole catalogue."""
    with Workspace(data, data.parent / "kb.sqlite").connect() as conn:
        by_work, everywhere = context.dependencies(context.iter_pages(catalogue.export(conn), CONFIG))
    return set(by_work[work_id]) | set(everywhere)


OWN = {"works/coup-probes-2023"}


def is_work_page(path: str) -> bool:
    return path.startswith("works/")


def test_an_edited_summary_looks_again_only_at_the_pages_naming_its_work(data, tmp_path):
    out = tmp_path / "_site"
    first = build(data, out, search=True)
    before = inodes(out)
    summary = data / "summaries" / "coup-probes-2023.md"
    summary.write_text(summary.read_text().replace("*linear* classifier", "*linear* monitor"))
    again = build(data, out, search=True)
    # the other works' pages naming it show its card, which a summary's text does not change: not even made
    touched = {p for p in dependents(data, "coup-probes-2023") if p.split(".")[0] in OWN or not is_work_page(p)}
    assert "works/coup-probes-2023.html" in again.rendered
    assert set(again.rendered) <= set(again.derived) == touched  # no other page's context was made
    assert len(touched) < first.pages and again.pages == first.pages
    # every page not rendered again is the live file itself, carried over (a hard link): none was written
    pages = json.loads((out / render.MANIFEST).read_text())["pages"]
    written = {p for p in pages if inodes(out)[p] != before[p]}
    assert written == set(again.rendered)
    assert "<em>linear</em> monitor" in (out / "works" / "coup-probes-2023.html").read_text()


def test_a_changed_template_renders_every_page_again(data, tmp_path, monkeypatch):
    assets = tmp_path / "assets"
    shutil.copytree(website.assets_dir(), assets)
    monkeypatch.setattr(website, "assets_dir", lambda: assets)
    out = tmp_path / "_site"
    build(data, out, search=True)
    assert build(data, out, search=True).rendered == []
    base = assets / "templates" / "base.html"
    base.write_text(base.read_text().replace("</body>", "<!-- a new footer -->\n</body>"))
    again = build(data, out, search=True)
    assert len(again.rendered) == again.pages
    assert "<!-- a new footer -->" in (out / "works" / "old-pruning-2016.html").read_text()


def test_a_removed_work_leaves_the_site_and_its_search_index(data, tmp_path):
    out = tmp_path / "_site"
    build(data, out, search=True)
    path = data / "works" / "papers.jsonl"
    path.write_text("".join(line + "\n" for line in path.read_text().splitlines() if "old-pruning-2016" not in line))
    report = build(data, out, search=True)
    assert "works/old-pruning-2016.html" in report.removed
    assert not (out / "works" / "old-pruning-2016.html").exists()
    assert not (out / "works" / "old-pruning-2016.bib").exists()
    kept = "".join(f.read_text() for f in (out / searchindex.RECORDS_DIR).iterdir())
    assert "works/old-pruning-2016.html" not in kept and "works/coup-probes-2023.html" in kept


@pytest.fixture(params=[1, 3], ids=["one-shard", "several-shards"])
def shards(request, monkeypatch):
    monkeypatch.setattr(searchindex, "SHARD_PAGES", 10**6 if request.param == 1 else 5)
    return request.param


@pytest.mark.slow  # a dozen edits, each with three builds and their search indexes
@pytest.mark.parametrize("edit", EDITS)
def test_an_incremental_build_with_search_is_byte_for_byte_a_full_build(edit, data, tmp_path, shards):
    rebuilt, fresh = tmp_path / "rebuilt", tmp_path / "fresh"
    build(data, rebuilt, search=True)
    EDITS[edit](data)
    report = build(data, rebuilt, search=True)
    full = build(data, fresh, search=True)
    assert report.rendered and len(full.rendered) == full.pages
    assert bool(json.loads((fresh / "pagefind" / "shards.json").read_text())) == (shards > 1)
    same_site(files(rebuilt), files(fresh))  # pages, search bundles, their records, and the manifest


@pytest.mark.slow  # three builds with search, in forked renderers
def test_an_incremental_build_from_works_read_in_chunks_by_forked_renderers_is_a_full_build(
    data, tmp_path, monkeypatch
):
    # the two ways a build bounds its work together: pages looked at again only where a work changed, and works
    # read from the catalogue a few at a time (feeds and citation files fetched by forked renderers)
    monkeypatch.setattr(render, "PARALLEL_MIN_PAGES", 0)
    monkeypatch.setattr(render.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(catalogue, "WORK_CHUNK", 2)
    monkeypatch.setattr(context, "CHUNK_WORKS", 3)
    monkeypatch.setattr(searchindex, "SHARD_PAGES", 5)
    rebuilt, fresh = tmp_path / "rebuilt", tmp_path / "fresh"
    build(data, rebuilt, search=True)
    EDITS["a summary's text"](data)
    report = build(data, rebuilt, search=True)
    assert "works/coup-probes-2023.html" in report.rendered and len(report.derived) < report.pages
    same_site(files(rebuilt), files(build(data, fresh, search=True).out))


def test_a_build_without_the_previous_search_records_indexes_every_page_again(data, tmp_path):
    out = tmp_path / "_site"
    build(data, out, search=False)
    report = build(data, out, search=True)
    assert report.search_indexed and report.search_shards == [0]
    same_site(files(out), files(build(data, tmp_path / "fresh", search=True).out))


def test_a_title_shown_on_other_works_pages_looks_again_at_every_page_naming_the_work(data, tmp_path):
    # a card changed: the other works' pages showing it are made again (no work's pages are carried over unmade)
    out = tmp_path / "_site"
    build(data, out, search=True)
    EDITS["a title, shown in other works' lists"](data)
    again = build(data, out, search=True)
    others = {p for p in dependents(data, "coup-probes-2023") if is_work_page(p) and p.split(".")[0] not in OWN}
    assert others and others <= set(again.derived)


def test_an_incremental_build_moves_in_only_what_changed_and_keeps_what_it_did_not_make(data, tmp_path):
    out = tmp_path / "_site"
    build(data, out, search=True)
    (out / "notes.txt").write_text("the site's owner's")
    before = inodes(out)
    EDITS["a summary's text"](data)
    report = build(data, out, search=True)
    after = inodes(out)
    moved = {p for p in after if after[p] != before.get(p)}
    shard = searchindex.bundle_files(out, report.search_shards[0])
    kept = {searchindex.records_file(report.search_shards[0]), "pagefind/shards.json", render.MANIFEST}
    assert set(report.rendered) <= moved <= set(report.rendered) | shard | kept
    # of the shard indexed anew, only the files whose bytes changed (not the other pages' fragments, the scripts)
    assert moved & shard and len(moved & shard) < len(shard) / 2, (len(moved & shard), len(shard))
    assert (out / "notes.txt").read_text() == "the site's owner's"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("._site")] == []


def test_a_figure_whose_experiment_is_gone_leaves_the_site(data, tmp_path):
    results = tmp_path / "results" / "probes-vs-lat"
    results.mkdir(parents=True)
    (results / "auroc.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    result = {"experiment": "probes-vs-lat", "title": "Probes versus LAT", "techniques": ["lat"], "claims": []}
    (results / "result.json").write_text(json.dumps(result | {"figures": [{"path": "auroc.svg", "caption": "AUROC"}]}))
    out, fresh = tmp_path / "_site", tmp_path / "fresh"
    build(data, out, results_dir=tmp_path / "results")
    assert (out / "results" / "probes-vs-lat" / "auroc.svg").is_file()
    shutil.rmtree(results)
    build(data, out, results_dir=tmp_path / "results")
    assert not (out / "results").exists()
    build(data, fresh, results_dir=tmp_path / "results")
    assert files(out) == files(fresh)


def remove_work(data: Path, work_id: str) -> None:
    path = data / "works" / "papers.jsonl"
    path.write_text("".join(line + "\n" for line in path.read_text().splitlines() if work_id not in line))


def test_a_build_stopped_while_it_moves_its_files_in_is_finished_by_the_next(data, tmp_path, monkeypatch):
    out, fresh = tmp_path / "_site", tmp_path / "fresh"
    build(data, out)
    remove_work(data, "old-pruning-2016")  # an edit that both removes pages and renders others
    apply = render._apply
    staged: dict[str, bytes] = {}

    def half_then_fail(stage, site):  # the files to remove are gone, none moved in yet, then the disk fails
        journal = json.loads((stage / render.JOURNAL).read_text())
        staged.update((rel, (stage / rel).read_bytes()) for rel in journal["put"])
        assert "works/old-pruning-2016.html" in journal["drop"] and "index.html" in journal["put"]
        for rel in journal["drop"]:
            (site / rel).unlink(missing_ok=True)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(render, "_apply", half_then_fail)
    with pytest.raises(render.JournalPending, match="No space left on device.*the next `kb site build` finishes it"):
        build(data, out)
    assert [p for p in tmp_path.iterdir() if (p / render.JOURNAL).is_file()], "the journal is kept"
    assert (out / "index.html").read_bytes() != staged["index.html"]  # not moved in yet
    monkeypatch.setattr(render, "_apply", apply)
    render.recover(out)  # what the next build does first
    assert not (out / "works" / "old-pruning-2016.html").exists()
    assert {rel: (out / rel).read_bytes() for rel in staged} == staged  # moved in from the journal's folder
    assert files(out) == files(build(data, fresh).out)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("._site")] == []


def test_kb_site_build_says_a_build_stopped_while_moving_files_in_is_finished_by_the_next(
    kb, data, tmp_path, monkeypatch
):
    out = tmp_path / "_site"
    assert kb("site", "build", "--out", str(out), "--date", "2026-01-01").exit_code == 0
    EDITS["a summary's text"](data)
    apply = render._apply
    monkeypatch.setattr(render, "_apply", lambda stage, site: (_ for _ in ()).throw(OSError(28, "No space left")))
    stopped = kb("site", "build", "--out", str(out), "--date", "2026-01-01")
    assert stopped.exit_code == 1
    assert "the next `kb site build` finishes it" in stopped.stderr and "previous site is kept" not in stopped.stderr
    (stage,) = [p for p in tmp_path.iterdir() if (p / render.JOURNAL).is_file()]
    moved = (stage / "works" / "coup-probes-2023.html").stat().st_ino
    monkeypatch.setattr(render, "_apply", apply)
    assert kb("site", "build", "--out", str(out), "--date", "2026-01-01").exit_code == 0
    page = out / "works" / "coup-probes-2023.html"
    assert "monitor" in page.read_text() and "classifier" not in page.read_text()
    # the edit, moved in by the build that finished the journal (the very file staged), not rendered again
    assert page.stat().st_ino == moved


def started_pagefinds(monkeypatch) -> list[int]:
    """The shard of each Pagefind process the builds start from now on, in order."""
    started: list[int] = []
    start = searchindex._Pagefind.__init__

    def counted(self, executable, output, shard, live=None):
        started.append(shard)
        start(self, executable, output, shard, live)

    monkeypatch.setattr(searchindex._Pagefind, "__init__", counted)
    return started


def indexed(out: Path) -> dict[str, str]:
    """What the site's search finds of each page: its text as Pagefind hands it to the browser, by the page's URL
    (each fragment is gzip of a marker and the page's JSON)."""
    fragments = (gzip.decompress(p.read_bytes()) for p in out.glob("pagefind/**/fragment/*.pf_fragment"))
    pages = [json.loads(f.removeprefix(b"pagefind_dcd")) for f in fragments]
    return {page["url"]: page["content"] for page in pages}


def test_an_edited_page_s_shard_is_indexed_while_the_other_pages_are_looked_at(data, tmp_path, monkeypatch):
    # the edited work's own pages come first in an incremental build, and Pagefind indexes the shard holding its
    # page from then on, in the background: not after every other page was looked at
    out = tmp_path / "_site"
    build(data, out, search=True)
    EDITS["a summary's text"](data)
    events: list[str] = []
    early, look = searchindex.Indexer._index_early, render.fingerprint

    def indexing(indexer):
        early(indexer)
        events.extend(f"indexing shard {k}" for k in indexer._early if f"indexing shard {k}" not in events)

    monkeypatch.setattr(searchindex.Indexer, "_index_early", indexing)
    monkeypatch.setattr(render, "fingerprint", lambda page, made=None: events.append(page.path) or look(page, made))
    started = started_pagefinds(monkeypatch)
    build(data, out, search=True)
    first_other = next(i for i, e in enumerate(events) if not e.startswith(("works/", "indexing")))
    assert "indexing shard 0" in events[:first_other]
    assert started == [0]  # that early bundle is the shard's: no second process for it
    page = indexed(out)["/works/coup-probes-2023.html"]
    assert "linear monitor on activations" in page and "classifier on activations" not in page
    same_site(files(out), files(build(data, tmp_path / "fresh", search=True).out))


def test_a_shard_indexed_early_that_gets_another_changed_record_is_indexed_again(data, tmp_path, monkeypatch):
    # two works' abstracts edited (their cards unchanged: only their own pages are made), each work's page in a batch
    # of its own: the shard began indexing with the first one's new record alone, so it is indexed again with both
    monkeypatch.setattr(searchindex, "SHARD_PAGES", 10**6)
    monkeypatch.setattr(render, "BATCH_PAGES", 1)
    out = tmp_path / "_site"
    build(data, out, search=True)
    abstract = "Probes trained off-policy detect takeover attempts. They flag one before it happens."
    _edit_jsonl(data, "coup-probes-2023", abstract=abstract)  # its motivation's quote kept
    _edit_jsonl(data, "lat-paper-2023", abstract="Reading vectors generalise across prompts.")
    started = started_pagefinds(monkeypatch)
    report = build(data, out, search=True)
    assert {"works/coup-probes-2023.html", "works/lat-paper-2023.html"} <= set(report.rendered)
    assert started == [0, 0]  # early, with one new record; then again, with both
    pages = indexed(out)
    assert "flag one before it happens" in pages["/works/coup-probes-2023.html"]
    assert "generalise across prompts" in pages["/works/lat-paper-2023.html"]
    assert not [url for url, text in pages.items() if "found by PCA" in text]  # the old abstract is found no more
    same_site(files(out), files(build(data, tmp_path / "fresh", search=True).out))
