"""`kb site build`: every page of the catalogue as static HTML, safe, linked, incremental, atomic."""

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
import zipfile
from pathlib import Path

import pytest

from kb import catalogue, website
from kb.website import context, render
from kb.workspace import Workspace
from tests.conftest import REPO
from tests.sitecheck import broken_links, parse

DATE = dt.date(2026, 11, 24)
GOLDEN = Path(__file__).parent / "golden"


def build(data: Path, out: Path, search: bool = False, base_url: str = "https://kb.example/", **kw):
    ws = Workspace(data, data.parent / "kb.sqlite")
    with ws.connect() as conn:
        return website.build(conn, out, base_url=base_url, build_date=DATE, search=search, **kw)


@pytest.fixture
def site(data, tmp_path):
    out = tmp_path / "_site"
    build(data, out)
    return out


def test_every_kind_of_page_is_written(site):
    for path in [
        "index.html",
        "search.html",
        "404.html",
        "feed.xml",
        "sitemap.xml",
        "techniques/index.html",
        "techniques/probing.html",
        "techniques/probing.xml",
        "motivations/monitoring.html",
        "authors/index.html",
        "authors/j-zico-kolter.html",
        "works/coup-probes-2023.html",
        "static/style.css",
    ]:
        assert (site / path).is_file(), path


def test_no_internal_link_is_broken(site):
    assert broken_links(site) == []


@pytest.mark.slow
def test_the_shipped_catalogue_has_no_broken_link(tmp_path):
    out = tmp_path / "_site"
    ws = Workspace(REPO / "data", tmp_path / "kb.sqlite")
    with ws.connect() as conn:
        report = website.build(conn, out, base_url="https://kb.example/", build_date=DATE, search=False)
    assert report.pages > 400
    assert broken_links(out) == []


@pytest.mark.parametrize(
    "page", ["index.html", "works/coup-probes-2023.html", "techniques/representation-reading.html"]
)
def test_golden_pages(site, page):
    """Output is deterministic; KB_UPDATE_GOLDEN=1 rewrites the expected pages after a deliberate change."""
    golden = GOLDEN / page.replace("/", "__")
    text = (site / page).read_text()
    if os.environ.get("KB_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()


def test_work_page_shows_who_assigned_each_tag_and_the_summary(site):
    html = (site / "works" / "coup-probes-2023.html").read_text()
    assert "Coup probes catch catastrophes" in html
    assert "stated by the authors" in html
    assert "<em>linear</em> classifier" in html  # the summary's Markdown, rendered
    assert 'href="https://arxiv.org/abs/2311.00001"' in html
    assert "@misc{rogerCoupProbesCatch2023" in html  # Better BibTeX's default key
    assert 'data-pagefind-filter="technique">Representation engineering<' in html  # ancestors filter too
    assert 'href="../works/lat-paper-2023.html"' in html  # discussed by


def test_technique_page_lists_its_subtree_by_year_and_links_its_feed(site):
    html = (site / "techniques" / "representation-reading.html").read_text()
    for work in ("coup-probes-2023", "lat-paper-2023", "probe-post-2024"):
        assert f"../works/{work}.html" in html
    assert html.index(">2024<") < html.index(">2023<")
    feed = (site / "techniques" / "probing.xml").read_text()
    assert feed.count("<entry>") == 2 and "<title>Linear probing — safety-kb</title>" in feed


def test_feed_and_sitemap_use_absolute_urls(site):
    feed = (site / "feed.xml").read_text()
    assert feed.count("<entry>") == 4
    assert '<link rel="alternate" type="text/html" href="https://kb.example/works/probe-post-2024.html"/>' in feed
    assert "<loc>https://kb.example/works/coup-probes-2023.html</loc>" in (site / "sitemap.xml").read_text()


PAYLOAD = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'


def poison(data: Path) -> None:
    """Script payloads in every field an importer or a contributor controls."""
    work = {
        "id": "evil-2024",
        "kind": "post",
        "title": f"Evil {PAYLOAD}",
        "authors": [f"Mallory {PAYLOAD}"],
        "year": 2024,
        "venue": PAYLOAD,
        "abstract": f"Abstract {PAYLOAD} [x](javascript:window.__pwned=1)",
        "abstract_source": f"arXiv {PAYLOAD}",
        "curator_note": f"Note {PAYLOAD}",
        "motivations": [
            {"slug": "monitoring", "status": "stated", "quote": f"Abstract {PAYLOAD}", "where": "abstract"},
        ],
        "url": 'https://x.example/"onmouseover="window.__pwned=1',
        "urls": {"pdf": "https://ok.example/a.pdf"},
        "ids": {"doi": "10.1234/" + PAYLOAD.replace(" ", "/")},  # a DOI has no space; "<img/src=x/..." is a tag
        "techniques": ["probing"],
    }
    path = data / "works" / "posts.jsonl"
    path.write_text(json.dumps(work) + "\n" + path.read_text())
    (data / "summaries" / "evil-2024.md").write_text(
        '---\nwork: evil-2024\ncontributors: ["<script>window.__pwned=1</script>"]\nmotivations: [monitoring]\n'
        'motivation_stated_by: authors\nxrisk: "<b onmouseover=x>hi</b>"\nopinion: '
        "'[click](javascript:window.__pwned=1)'\n---\n"
        f"Body {PAYLOAD}\n\n<iframe "
        'src="javascript:window.__pwned=1"></iframe>\n\n[link](JAVASCRIPT:window.__pwned=1)\n'
    )


def unchecked_build(data: Path, out: Path):
    """The site from a catalogue built WITHOUT validation: the templates must be safe on their own."""
    from kb.catalogue.build import build as build_catalogue
    from kb.store import datadir

    build_catalogue(datadir.load(data), data.parent / "kb.sqlite", [])
    return build(data, out)


def test_validate_refuses_markup_and_control_characters_in_one_line_fields(data):
    from kb.store import datadir, validate

    poison(data)
    problems = [str(p) for p in validate.check(datadir.load(data))]
    assert any("evil-2024: title" in p and "markup" in p for p in problems)
    assert any("evil-2024: author" in p for p in problems)


SORTING = (
    "static/sort.js",
    "../static/sort.js",
    "../static/filter.js",
    "static/quick-search.js",
    "../static/quick-search.js",
)


def test_injected_markup_is_inert(data, tmp_path):
    poison(data)
    taxonomy = data / "taxonomy.toml"  # a technique name becomes a search filter label
    taxonomy.write_text(taxonomy.read_text().replace('"Linear probing"', '"Linear <img src=x onerror=alert(1)>"'))
    out = tmp_path / "_site"
    unchecked_build(data, out)
    for page in out.rglob("*.html"):
        found = parse(page)
        assert found.handlers == [], page
        assert all(src in ("pagefind/pagefind-ui.js", "static/search.js", *SORTING) for src in found.scripts), page
        assert not [v for _, v in found.links if v.strip().lower().startswith(("javascript:", "data:"))], page
    html = (out / "works" / "evil-2024.html").read_text()
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    # what Pagefind reads as text and its UI inserts as HTML carries no markup characters at all
    values = re.findall(r'data-pagefind-filter="[^"]*">([^<]*)<', html)
    values += re.findall(r'data-pagefind-meta="title:([^"]*)"', html)
    assert values and not [v for v in values if set("<>&\"'") & set(v)]


def test_a_rebuild_after_one_summary_changed_renders_only_what_depends_on_it(data, tmp_path):
    out = tmp_path / "_site"
    first = build(data, out)
    assert len(first.rendered) == first.pages
    unchanged = build(data, out)
    assert unchanged.rendered == []
    summary = data / "summaries" / "coup-probes-2023.md"
    summary.write_text(summary.read_text().replace("*linear* classifier", "*linear* monitor"))
    again = build(data, out)
    assert "works/coup-probes-2023.html" in again.rendered
    assert "works/old-pruning-2016.html" not in again.rendered
    assert len(again.rendered) < again.pages / 4
    assert "<em>linear</em> monitor" in (out / "works" / "coup-probes-2023.html").read_text()


def test_a_removed_work_loses_its_page(data, tmp_path):
    out = tmp_path / "_site"
    build(data, out)
    path = data / "works" / "papers.jsonl"
    path.write_text("".join(line + "\n" for line in path.read_text().splitlines() if "old-pruning-2016" not in line))
    report = build(data, out)
    assert "works/old-pruning-2016.html" in report.removed
    assert not (out / "works" / "old-pruning-2016.html").exists()
    assert broken_links(out) == []


def test_a_failed_build_leaves_the_previous_site_intact(data, tmp_path, monkeypatch):
    out = tmp_path / "_site"
    build(data, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def explode(*args, **kwargs):
        raise RuntimeError("template blew up")

    original = render.environment

    def broken_environment(templates):
        env = original(templates)
        env.globals["_"] = None
        env.filters["safe_url"] = explode
        return env

    monkeypatch.setattr(render, "environment", broken_environment)
    summary = data / "summaries" / "coup-probes-2023.md"
    summary.write_text(summary.read_text().replace("classifier", "changed"))
    with pytest.raises(RuntimeError, match="template blew up"):
        build(data, out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("._site")] == []


def test_results_of_the_methods_appear_on_their_technique_page(data, tmp_path):
    results = tmp_path / "results" / "probes-vs-lat"
    results.mkdir(parents=True)
    (results / "auroc.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (results / "result.json").write_text(
        json.dumps(
            {
                "experiment": "probes-vs-lat",
                "title": "Probes versus LAT",
                "techniques": ["lat"],
                "run": {"finished": "2026-11-24T10:00:00", "model": "planted"},
                "claims": [
                    {"text": "LAT is worse in distribution", "verdict": "reproduced", "evidence": "AUROC 0.91 vs 0.97"}
                ],
                "figures": [{"path": "auroc.svg", "caption": "IID and OOD AUROC"}],
            }
        )
    )
    out = tmp_path / "_site"
    build(data, out, results_dir=tmp_path / "results")
    html = (out / "techniques" / "lat.html").read_text()
    assert "LAT is worse in distribution" in html and "AUROC 0.91 vs 0.97" in html
    assert (
        'src="../results/probes-vs-lat/auroc.svg"' in html
        and (out / "results" / "probes-vs-lat" / "auroc.svg").exists()
    )


def test_search_index_is_built_when_pagefind_is_installed(data, tmp_path):
    pytest.importorskip("pagefind")
    out = tmp_path / "_site"
    report = build(data, out, search=True)
    assert report.search_indexed is True
    assert (out / "pagefind" / "pagefind-ui.js").exists()


def test_serve_answers_pages_and_a_404(site):
    from kb.website import serve

    httpd = serve.server(site, port=0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}/"
        assert b"Coup probes" in urllib.request.urlopen(base + "works/coup-probes-2023.html").read()
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(base + "nowhere.html")
        assert e.value.code == 404 and b"Not found" in e.value.read()
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_wheel_ships_the_templates(tmp_path):
    pytest.importorskip("setuptools")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    names = zipfile.ZipFile(next(tmp_path.glob("safety_kb-*.whl"))).namelist()
    assert "kb/_site/templates/work.html" in names and "kb/_site/static/style.css" in names


def test_pages_carry_the_relative_way_home():
    assert context.Page("index.html", "x", {}).root == ""
    assert context.Page("works/a.html", "x", {}).root == "../"


def test_watch_rebuilds_when_the_signature_changes():
    from kb.website import serve

    states, rebuilt = iter(["a", "a", "b", "b"]), []
    stop = threading.Event()

    def signature():
        try:
            return next(states)
        except StopIteration:
            stop.set()
            return "b"

    serve.watch(signature, lambda: rebuilt.append(1), stop, every=0.0)
    assert rebuilt == [1]  # one change, one rebuild


def test_a_failed_rebuild_while_watching_keeps_serving(capsys):
    from kb.website import serve

    states, stop = iter(["a", "b"]), threading.Event()

    def signature():
        value = next(states, None)
        if value is None:
            stop.set()
            return "b"
        return value

    def broken():
        raise RuntimeError("bad summary")

    serve.watch(signature, broken, stop, every=0.0)
    assert "rebuild failed, the previous site is kept: bad summary" in capsys.readouterr().out


def _edit_jsonl(data: Path, work_id: str, **changes) -> None:
    path = data / "works" / ("posts.jsonl" if work_id.startswith("probe-post") else "papers.jsonl")
    works = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({**w, **changes} if w["id"] == work_id else w) + "\n" for w in works))


def _add_work(data: Path, work: dict) -> None:
    path = data / "works" / "papers.jsonl"
    works = [json.loads(line) for line in path.read_text().splitlines()] + [work]
    path.write_text("".join(json.dumps(w) + "\n" for w in sorted(works, key=lambda w: w["id"])))


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


EDITS = {
    "a summary's text": lambda data: _replace(data / "summaries" / "coup-probes-2023.md", "classifier", "monitor"),
    "a title, shown in other works' lists": lambda data: _edit_jsonl(data, "coup-probes-2023", title="Coup probes"),
    "a work's techniques, which rank related works": lambda data: _edit_jsonl(
        data, "old-pruning-2016", techniques=["pruning", "probing"]
    ),
    "a relation, shown on both works": lambda data: _edit_jsonl(
        data, "probe-post-2024", relations=[{"type": "critiques", "target": "lat-paper-2023"}]
    ),
    "an author's name": lambda data: _edit_jsonl(data, "old-pruning-2016", authors=["Hengyuan Hu", "Ada Lovelace"]),
    "a technique's name": lambda data: _replace(data / "taxonomy.toml", 'name = "Linear probing"', 'name = "Probes"'),
    "a technique's aliases": lambda data: _replace(
        data / "taxonomy.toml", 'description = "LAT."', 'description = "LAT."\nkeywords = ["reading vectors"]'
    ),
    "a motivation's name": lambda data: _replace(data / "taxonomy.toml", 'name = "Monitoring"', 'name = "Watching"'),
    "a new work": lambda data: _add_work(
        data,
        {"id": "new-2025", "kind": "paper", "title": "New", "authors": ["Ada"], "year": 2025, "techniques": ["lat"]},
    ),
}


@pytest.mark.parametrize("edit", EDITS)
def test_a_rebuild_after_an_edit_gives_the_site_a_fresh_build_gives(edit, data, tmp_path):
    # an incremental build carries pages over by their keys and fingerprints: one that missed something a page is
    # made from would leave that page stale, and differ from a build from nothing
    rebuilt, fresh = tmp_path / "rebuilt", tmp_path / "fresh"
    build(data, rebuilt)
    EDITS[edit](data)
    report = build(data, rebuilt)
    build(data, fresh)
    assert report.rendered, "the edit changed no page"
    files = sorted(str(p.relative_to(fresh)) for p in fresh.rglob("*") if p.is_file() and p.name != render.MANIFEST)
    assert files == sorted(
        str(p.relative_to(rebuilt)) for p in rebuilt.rglob("*") if p.is_file() and p.name != render.MANIFEST
    )
    assert [f for f in files if (fresh / f).read_bytes() != (rebuilt / f).read_bytes()] == []


def test_an_editor_s_hidden_file_beside_the_templates_does_not_fail_the_build(data, tmp_path):
    assets = tmp_path / "assets"
    shutil.copytree(website.assets_dir(), assets)
    (assets / "templates" / ".work.html.swp").write_bytes(b"\x00\xff\xfe vim swap")
    with Workspace(data, data.parent / "kb.sqlite").connect() as conn:
        pages = context.pages(catalogue.export(conn), context.SiteConfig(build_date=DATE))
    report = render.write_site(pages, tmp_path / "_site", assets, search=False)
    assert report.pages == len(pages)


def test_upgrading_a_library_that_renders_the_pages_renders_every_page_again(data, tmp_path, monkeypatch):
    out = tmp_path / "_site"
    build(data, out)
    assert build(data, out).rendered == []
    from importlib import metadata

    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda name: "99.0" if name == "nh3" else real(name))
    again = build(data, out)
    assert len(again.rendered) == again.pages
