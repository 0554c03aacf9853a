"""The built site in a real browser (headless Chromium): search, navigate, and no injected script runs.

Needs Debian's `chromium` and the `playwright` package (no browser download: Playwright drives the
system binary). `.ci/run` installs both; elsewhere these tests skip with the reason.
"""

import datetime as dt
import json
import re
import shutil
import threading
from pathlib import Path

import pytest

from kb import website
from kb.workspace import Workspace
from tests.conftest import REPO
from tests.test_site import poison

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM, reason="no chromium on PATH (apt-get install chromium)"),
    pytest.mark.slow,
]
SHOTS = REPO / "build" / "screenshots"


def serve(data: Path, out: Path):
    from kb.website import serve as serving

    with Workspace(data, out.parent / "kb.sqlite").connect() as conn:
        website.build(conn, out, base_url="http://127.0.0.1/", build_date=dt.date(2026, 11, 24), search=True)
    httpd = serving.server(out, port=0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert errors == []


@pytest.fixture
def shipped_site(tmp_path):
    httpd, base = serve(REPO / "data", tmp_path / "_site")
    yield base
    httpd.shutdown()
    httpd.server_close()


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


GEOMETRY_OF_TRUTH = re.compile(r"^\s*The Geometry of Truth")  # a title that starts so


def test_search_from_the_home_page_reaches_a_work(page, shipped_site):
    page.goto(shipped_site + "index.html")
    shot(page, "home")
    page.fill("#q-home", "geometry of truth")  # a technique's alias is the next test's (one result page shows five)
    page.press("#q-home", "Enter")
    # the paper, not "Probing the Geometry of Truth" (a later work whose title holds the same words)
    result = page.locator(".pagefind-ui__result-link", has_text=GEOMETRY_OF_TRUTH).first
    result.wait_for(timeout=10_000)
    shot(page, "search")
    result.click()
    page.wait_for_url("**/works/geometry-of-truth-2023.html")
    assert "The Geometry of Truth" in page.locator("h1").inner_text()
    assert page.locator(".summary").is_visible()
    shot(page, "work")


def test_search_filters_by_technique(page, shipped_site):
    page.goto(shipped_site + "search.html?q=pruning")
    page.locator(".pagefind-ui__result").first.wait_for(timeout=10_000)
    unfiltered = _result_count(page)
    page.get_by_text("Technique", exact=True).click()
    page.locator("label", has_text="Activation-statistics pruning").first.click()
    page.wait_for_timeout(1000)
    filtered = _result_count(page)
    assert 0 < filtered < unfiltered


def test_search_does_not_find_every_work_by_who_tagged_it(page, shipped_site):
    # every work page says who assigned each tag ("curated", "inferred by a summariser"): shown, not indexed
    page.goto(shipped_site + "search.html?q=curated")
    # not every work: some remain whose own text speaks of curating (an abstract about curated data; 12 of 632 works
    # in December 2026), so the bound grows with the catalogue: a tenth of its works, where an indexed label would
    # find all of them
    works = sum(1 for f in (REPO / "data" / "works").glob("*.jsonl") for line in f.open() if line.strip())
    message = _settled_message(page)
    assert message.startswith("No results") or _result_count(page) < works / 10, message


def _settled_message(page) -> str:
    # The UI says "Searching for X..." until the shards have answered; on busy cores that can be read first.
    page.wait_for_function(
        "(() => { const m = document.querySelector('.pagefind-ui__message');"
        " return m && m.innerText && !m.innerText.startsWith('Searching'); })()",
        timeout=10_000,
    )
    return page.locator(".pagefind-ui__message").inner_text()


def _result_count(page) -> int:
    # The UI lists results a page at a time, so counting the rendered ones stops at the page size once
    # the catalogue grows; its message ("12 results for pruning") gives the real total.
    message = _settled_message(page)
    found = re.match(r"\s*(\d+)", message)
    assert found, f"the search page says {message!r}"
    return int(found.group(1))


def test_a_technique_link_leads_to_its_subtree(page, shipped_site):
    page.goto(shipped_site + "index.html")
    page.get_by_role("link", name="Representation reading").first.click()
    page.wait_for_url("**/techniques/representation-reading.html")
    works = page.locator("ul.cards li.card")
    assert works.count() >= 20
    page.get_by_role("link", name="Linear Artificial Tomography (LAT)").first.click()
    assert page.locator("h1").inner_text() == "Linear Artificial Tomography (LAT)"
    shot(page, "technique")


def test_phone_width_and_dark_theme(browser, shipped_site):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    pg = context.new_page()
    pg.goto(shipped_site + "works/representation-engineering-2023.html")
    width = pg.evaluate("document.documentElement.scrollWidth")
    background = pg.evaluate("getComputedStyle(document.body).backgroundColor")
    shot(pg, "work-phone-dark")
    context.close()
    assert width <= 390  # nothing forces sideways scrolling
    assert background == "rgb(21, 23, 27)"


def test_no_injected_script_runs(page, data, tmp_path):
    from kb.catalogue.build import build as build_catalogue
    from kb.store import datadir

    poison(data)
    taxonomy = data / "taxonomy.toml"  # technique and motivation names become Pagefind filter labels
    hostile = "<img src=x onerror=window.__pwned=1>"
    text = taxonomy.read_text().replace('"Linear probing"', f'"Linear {hostile}"')
    taxonomy.write_text(text.replace('"Monitoring"', f'"Monitoring {hostile}"'))
    # validate refuses these names; the site must be safe even from a catalogue built without it
    build_catalogue(datadir.load(data), tmp_path / "kb.sqlite", [])
    httpd, base = serve(data, tmp_path / "_site")
    try:
        for path in [
            "works/evil-2024.html",
            "index.html",
            "techniques/probing.html",
            "authors/index.html",
            "search.html?q=Evil",
        ]:
            page.goto(base + path)
            page.wait_for_timeout(300)
            page.mouse.move(10, 10)
            for link in page.locator("main a").all()[:30]:
                link.hover()
            assert page.evaluate("window.__pwned") is None, path
            assert page.locator("a[href^='javascript:' i]").count() == 0, path
        for query in ("probe", "Evil", "Linear"):  # every filter label shown, each filter used
            page.goto(base + f"search.html?q={query}")
            page.wait_for_timeout(800)
            for group in page.locator("details.pagefind-ui__filter-block > summary").all():
                group.click()  # the filter groups start folded; unfolded, every label is on screen
            for box in page.locator("input[type=checkbox]").all()[:12]:
                if box.is_visible():
                    box.click()
                    page.wait_for_timeout(150)
            assert page.evaluate("window.__pwned") is None, query
        page.goto(base + "works/evil-2024.html")
        assert "<script>window.__pwned=1</script>" in page.locator("h1").inner_text()  # shown as text
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_site_search_naming_a_technique_by_an_alias_finds_its_works(page, shipped_site):
    page.goto(shipped_site + "search.html?q=mass-mean%20probing")
    page.locator(".pagefind-ui__result").first.wait_for(timeout=10_000)
    page.wait_for_timeout(1000)
    more = page.locator("button.pagefind-ui__button")  # Pagefind shows five results at a time
    while more.count() and more.first.is_visible():
        more.first.click()
        page.wait_for_timeout(300)
    titles = page.locator(".pagefind-ui__result-title .pagefind-ui__result-link").all_inner_texts()
    assert any("The Geometry of Truth" in t for t in titles)
    assert len(titles) >= 7  # the works tagged with mean-difference probing, whose alias this is


def test_a_technique_page_sorts_its_works_by_title(page, shipped_site):
    page.goto(shipped_site + "techniques/representation-reading.html")
    page.select_option("select[data-sort-target=works-list]", "title")
    titles = page.locator("#works-list li.card a.title").all_inner_texts()
    initials = [t[:1].lower() for t in titles]
    assert len(titles) >= 20 and initials == sorted(initials)
    page.select_option("select[data-sort-target=works-list]", "default")
    assert page.locator("#works-list h3").count() > 1  # back to the groups by year


def test_a_motivation_page_sorts_each_of_its_lists_and_back(page, shipped_site):
    page.goto(shipped_site + "motivations/deception.html")
    target = "inferred-list" if page.locator("#inferred-list li.card").count() > 1 else "stated-list"
    written = page.locator(f"#{target} li.card a.title").all_inner_texts()
    page.select_option(f"select[data-sort-target={target}]", "title")
    titles = page.locator(f"#{target} li.card a.title").all_inner_texts()
    assert len(titles) > 1 and sorted(titles) == sorted(written)
    assert [t[:1].lower() for t in titles] == sorted(t[:1].lower() for t in titles)
    page.select_option(f"select[data-sort-target={target}]", "default")
    assert page.locator(f"#{target} li.card a.title").all_inner_texts() == written
    other = "stated-list" if target == "inferred-list" else "inferred-list"
    assert page.locator(f"#{other} li.card").count() > 0  # sorting one list leaves the other whole


def test_a_search_over_an_index_in_shards_finds_what_one_index_finds(page, shipped_site, tmp_path, monkeypatch):
    from kb.website import searchindex

    page.goto(shipped_site + "search.html?q=probe")
    page.locator(".pagefind-ui__result").first.wait_for(timeout=10_000)
    page.wait_for_timeout(1000)
    whole = _result_count(page)
    monkeypatch.setattr(searchindex, "SHARD_PAGES", 40)  # the shipped works in several shards
    httpd, sharded = serve(REPO / "data", tmp_path / "sharded")
    try:
        assert len(json.loads((tmp_path / "sharded" / "pagefind" / "shards.json").read_text())) >= 1
        page.goto(sharded + "search.html?q=probe")
        # the first shard may answer before the others are merged in: wait for the count of all of them
        page.wait_for_function(
            f"(document.querySelector('.pagefind-ui__message') || {{}}).innerText?.startsWith('{whole} ')",
            timeout=10_000,
        )
        assert _result_count(page) == whole
        page.get_by_text("Technique", exact=True).click()
        page.locator("label", has_text="Mean-difference probing").first.click()
        page.wait_for_timeout(1000)
        assert 0 < _result_count(page) < whole  # the filters of every shard, merged
    finally:
        httpd.shutdown()
        httpd.server_close()


# -- every kind of page on a phone; search as you type; results before filters (issue 27) -------------------------

PAGE_KINDS = [
    "index.html",
    "search.html?q=probe",
    "techniques/index.html",
    "techniques/probing.html",
    "works/coup-probes-2023.html",
    "motivations/index.html",
    "motivations/deception.html",
    "authors/index.html",
    "authors/neel-nanda.html",
    "methods.html",
    "404.html",
]


PAGEFIND_BOX = "input.pagefind-ui__search-input"


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    yield context.new_page()
    context.close()


def test_every_kind_of_page_has_one_search_box_a_favicon_and_no_console_error(phone, shipped_site):
    problems = []
    phone.on("console", lambda m: problems.append((phone.url, m.text)) if m.type == "error" else None)
    phone.on("pageerror", lambda e: problems.append((phone.url, str(e))))
    for path in PAGE_KINDS:
        phone.goto(shipped_site + path)
        if path.startswith("search.html"):
            phone.locator(".pagefind-ui__result").first.wait_for(timeout=10_000)
        phone.wait_for_load_state("networkidle")
        boxes = [b for b in phone.locator(f"input[type=search], {PAGEFIND_BOX}").all() if b.is_visible()]
        assert len(boxes) == 1, path
        icon = phone.locator("link[rel=icon]").get_attribute("href")
        assert phone.request.get(phone.url.rsplit("/", 1)[0] + "/" + icon).ok, path
    assert problems == []


def test_on_a_phone_search_results_come_before_the_filters(phone, shipped_site):
    phone.goto(shipped_site + "search.html?q=pruning")
    first = phone.locator(".pagefind-ui__result").first
    first.wait_for(timeout=10_000)
    filters = phone.locator(".pagefind-ui__filter-panel")
    filters.wait_for(timeout=10_000)
    assert first.bounding_box()["y"] < filters.bounding_box()["y"]
    assert first.bounding_box()["y"] < 844  # the first result on the first screen
    shot(phone, "search-phone")


def test_pagefind_s_box_uses_the_site_s_font(page, shipped_site):
    page.goto(shipped_site + "search.html")
    box = page.locator(".pagefind-ui__search-input")
    box.wait_for(timeout=10_000)
    body = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert box.evaluate("e => getComputedStyle(e).fontFamily") == body


def test_the_header_box_answers_as_you_type(page, shipped_site):
    page.goto(shipped_site + "techniques/index.html")
    page.locator("#q-top").press_sequentially("geometry of truth", delay=30)  # no Enter
    hit = page.locator(".quick-results a", has_text=GEOMETRY_OF_TRUTH)
    hit.first.wait_for(timeout=10_000)
    assert page.url.endswith("techniques/index.html")
    assert (
        page.locator(".quick-results a.all-results")
        .get_attribute("href")
        .endswith("search.html?q=geometry%20of%20truth")
    )
    hit.first.click()
    page.wait_for_url("**/works/geometry-of-truth-2023.html")


def test_a_technique_page_filters_its_works_by_kind_and_by_stated_motivation(page, shipped_site):
    page.goto(shipped_site + "techniques/probing.html")
    assert page.locator("#works-list li.card").first.bounding_box()["y"] < 900  # the works on the first screen
    total = page.locator("#works-list li.card").count()
    page.select_option("select[data-filter-key=kind]", "comment")
    shown = page.locator("#works-list li.card:visible")
    assert 0 < shown.count() < total
    assert set(shown.evaluate_all("cards => cards.map(c => c.dataset.kind)")) == {"comment"}
    assert page.locator(".filter-count").inner_text() == f"{shown.count()} of {total} works"
    page.select_option("select[data-filter-key=kind]", "")
    page.select_option("select[data-filter-key=motivation]", "stated")
    stated = page.locator("#works-list li.card:visible")
    assert 0 < stated.count() < total
    assert set(stated.evaluate_all("cards => cards.map(c => c.dataset.motivation)")) == {"stated"}
    page.select_option("select[data-sort-target=works-list]", "title")  # sorting keeps the filter
    assert page.locator("#works-list li.card:visible").count() == stated.count()


# -- figures (issue 27): legible on a phone, drawn for both schemes, full size on click, alt text with the result ---

LEGIBLE_PX = 9  # the smallest legend text, in CSS pixels as shown, that a reader can read on a phone


def _figure_site(data: Path, tmp_path: Path):
    """A result whose figure is a bar chart with eight labelled series (the shape of the probes-vs-LAT figure),
    drawn by kb.methods.report.figure."""
    pytest.importorskip("matplotlib")
    import numpy as np

    from kb.methods.report import Result, figure

    folder = tmp_path / "results" / "probes-vs-lat"
    result = Result("probes-vs-lat", "Probes versus LAT", ["lat"], ["lat-paper-2023"])

    def draw(ax):
        for i, name in enumerate(["logistic regression", "mean difference", "LAT", "CCS"] * 2):
            ax.bar(np.arange(3) + i * 0.1, [0.9, 0.7, 0.6], 0.1, label=f"{name} {i}", color=f"C{i}")
        ax.set_ylabel("AUROC")
        ax.legend()

    figure(result, folder, "auroc", "AUROC per method", draw)
    claim = {
        "text": "LAT is worse than a probe in distribution",
        "verdict": "reproduced",
        "evidence": "0.1 [0.05, 0.2]",
    }
    record = {"experiment": result.experiment, "title": result.title, "techniques": ["lat"], "works": result.works}
    (folder / "result.json").write_text(json.dumps(record | {"claims": [claim], "figures": result.figures, "run": {}}))
    out = tmp_path / "_site"
    with Workspace(data, tmp_path / "kb.sqlite").connect() as conn:
        website.build(
            conn, out, base_url="http://127.0.0.1/", build_date=dt.date(2026, 11, 24), results_dir=folder.parent
        )
    from kb.website import serve as serving

    httpd = serving.server(out, port=0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


def test_a_figure_s_legend_is_legible_on_a_phone_in_either_scheme_and_opens_full_size(browser, data, tmp_path):
    httpd, base = _figure_site(data, tmp_path)
    try:
        context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
        pg = context.new_page()
        pg.goto(base + "techniques/lat.html")
        img = pg.locator("figure img").first
        img.scroll_into_view_if_needed()
        pg.wait_for_function("() => document.querySelector('figure img').complete")
        shown_width = img.evaluate("e => e.getBoundingClientRect().width")
        svg = pg.request.get(base + img.get_attribute("src").removeprefix("../")).text()
        view_width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg)[1])
        legend = svg[svg.index('<g id="legend_1">') :]
        sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)px", legend[: legend.index("</g>\n </g>")])]
        assert len(sizes) == 8  # one text per series
        assert min(sizes) * shown_width / view_width >= LEGIBLE_PX
        # drawn for both schemes: no white box behind it, and its own style sheet turns its ink light in the dark
        assert img.evaluate("e => getComputedStyle(e).backgroundColor") == "rgba(0, 0, 0, 0)"
        assert "prefers-color-scheme: dark" in svg and 'fill="#ffffff"' not in svg
        assert "Reproduced: LAT is worse than a probe in distribution" in img.get_attribute("alt")
        img.click()
        pg.wait_for_url("**/results/probes-vs-lat/auroc.svg")
        context.close()
    finally:
        httpd.shutdown()
        httpd.server_close()


# Every element is sent the events an injected handler would wait for (a real hover reaches only what is on top)
_PROVOKE = """() => { for (const e of document.querySelectorAll('body *')) {
    for (const kind of ['mouseover', 'mouseenter', 'pointerover', 'focus', 'focusin'])
        e.dispatchEvent(new Event(kind, {bubbles: kind !== 'mouseenter' && kind !== 'focus'}));
} }"""


def _run_nothing(pg, where: str, fired: list) -> None:
    pg.evaluate(_PROVOKE)
    assert pg.evaluate("window.__pwned") is None and fired == [], where
    assert pg.locator("[href^='javascript:' i], [src^='javascript:' i], [href^='data:' i]").count() == 0, where


def test_no_payload_of_the_corpus_runs_on_any_page_nor_in_search_with_filters(browser, tmp_path):
    """Every payload of tests/hostile_payloads.py in every field the site renders (and a methods result); every
    page of the site opened, every element sent the events a handler waits for; the search page asked words that
    find the hostile works, every filter unfolded and ticked."""
    from kb.catalogue.build import build as build_catalogue
    from kb.store import datadir
    from kb.website import serve as serving
    from tests.conftest import TAXONOMY
    from tests.hostile_payloads import PAYLOADS, write_hostile_data, write_hostile_results

    assert len(PAYLOADS) >= 60
    data = write_hostile_data(tmp_path, TAXONOMY)
    ds = datadir.load(data)
    assert ds.problems == [] and len(ds.works) == len(PAYLOADS) and len(ds.summaries) == len(PAYLOADS)
    build_catalogue(ds, tmp_path / "kb.sqlite", [])  # without kb validate, which refuses most of it
    out = tmp_path / "_site"
    with Workspace(data, tmp_path / "kb.sqlite").connect() as conn:
        website.build(conn, out, base_url="http://127.0.0.1/", search=True, results_dir=write_hostile_results(tmp_path))
    assert "Result " in (out / "techniques" / "probing.html").read_text()  # the hostile result is on its page
    httpd = serving.server(out, port=0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    fired: list[str] = []
    pg.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
    try:
        pages = sorted(str(p.relative_to(out)) for p in out.rglob("*.html") if "pagefind" not in p.parts)
        kinds = {p.split("/")[0] for p in pages}
        assert {"works", "authors", "techniques", "motivations", "index.html", "search.html", "404.html"} <= kinds
        for path in pages:
            pg.goto(base + path)
            pg.wait_for_timeout(50)
            _run_nothing(pg, path, fired)
        searches, found = 0, {}
        for query in ("Hostile", "Mallory", "Abstract", "Body", "Why", "Opinion", "script", "onerror", "javascript"):
            pg.goto(base + f"search.html?q={query}")
            message = _settled_message(pg)
            found[query] = 0 if message.startswith("No results") else _result_count(pg)
            _run_nothing(pg, f"search {query}", fired)
            if not found[query]:
                continue
            for group in pg.locator("details.pagefind-ui__filter-block > summary").all():
                group.click()
            boxes = [b for b in pg.locator("input[type=checkbox]").all() if b.is_visible()]
            assert boxes, query  # filters for technique, motivation, year and kind
            for box in boxes:
                box.click()
                pg.wait_for_timeout(100)
                _run_nothing(pg, f"search {query}", fired)
                searches += 1
        assert found["Hostile"] >= len(PAYLOADS) // 2 and found["Body"] > 0, found  # the hostile works were found
        print(f"{len(PAYLOADS)} payloads, {len(pages)} pages, {searches} filtered searches {found}: nothing ran")
    finally:
        context.close()
        httpd.shutdown()
        httpd.server_close()
