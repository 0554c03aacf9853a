"""The site for people who cite and follow: per-technique citation files, Highwire tags, feeds dated by the work."""

import json
import xml.etree.ElementTree as ET

import bibtexparser
import pytest
from bibtexparser.bparser import BibTexParser

from tests.test_site import build

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def site(data, tmp_path):
    out = tmp_path / "_site"
    build(data, out)
    return out


def test_each_technique_offers_its_works_as_bibtex_csl_json_and_ris(site):
    page = (site / "techniques" / "representation-reading.html").read_text()
    for ext in ("bib", "json", "ris"):
        assert f'href="representation-reading.{ext}"' in page
    parser = BibTexParser(ignore_nonstandard_types=False)
    entries = bibtexparser.loads((site / "techniques" / "representation-reading.bib").read_text(), parser).entries
    assert {e["title"] for e in entries} == {
        "Coup probes catch catastrophes",
        "Reading vectors with tomography",
        "Probes generalise well",
    }
    items = json.loads((site / "techniques" / "representation-reading.json").read_text())
    assert sorted(i["id"] for i in items) == sorted(e["ID"] for e in entries)  # one key per work everywhere
    ris = (site / "techniques" / "representation-reading.ris").read_text()
    assert ris.count("TY  - ") == 3 and ris.count("ER  - ") == 3
    # the key on the work page is the key in the technique's file
    work_page = (site / "works" / "coup-probes-2023.html").read_text()
    coup = next(e for e in entries if e["title"].startswith("Coup"))
    assert f"{{{coup['ID']}," in work_page


def test_work_pages_carry_highwire_tags_for_zotero(site):
    html = (site / "works" / "lat-paper-2023.html").read_text()
    assert '<meta name="citation_title" content="Reading vectors with tomography">' in html
    assert html.index('content="Zou, Andy"') < html.index('content="Kolter, J. Zico"')
    assert '<meta name="citation_publication_date" content="2023">' in html
    coup = (site / "works" / "coup-probes-2023.html").read_text()
    assert '<meta name="citation_arxiv_id" content="2311.00001">' in coup
    assert '<meta name="citation_pdf_url" content="https://arxiv.org/pdf/2311.00001">' in coup


def test_feed_entries_are_dated_by_the_work_not_the_build(site, data, tmp_path):
    feed = ET.parse(site / "feed.xml").getroot()
    entries = {e.find(f"{ATOM}id").text.rsplit("/", 1)[-1]: e for e in feed.findall(f"{ATOM}entry")}
    old = entries["old-pruning-2016.html"]
    assert old.find(f"{ATOM}published") is None  # a year alone: no publication day is made up
    assert old.find(f"{ATOM}updated").text == "2016-01-01T00:00:00Z"  # Atom needs one; it stays put
    # a summary is in the feed whole and rendered, with its status; an abstract stays plain text
    coup = entries["coup-probes-2023.html"]
    content = coup.find(f"{ATOM}content")
    assert content.get("type") == "html" and content.text.startswith("<p><em>Summary</em></p>")
    assert "<em>linear</em>" in content.text and "**" not in content.text
    # a rebuild on another day changes nothing a feed reader sees
    from tests import test_site

    later = tmp_path / "later"
    saved = test_site.DATE
    try:
        test_site.DATE = saved.replace(year=saved.year + 1)
        build(data, later)
    finally:
        test_site.DATE = saved
    assert (later / "feed.xml").read_text() == (site / "feed.xml").read_text()


def test_listing_pages_offer_sort_orders_over_cards_that_carry_their_keys(site):
    page = (site / "techniques" / "representation-reading.html").read_text()
    assert 'data-sort-target="works-list"' in page and 'id="works-list"' in page
    assert '<option value="title">' in page and '<option value="added">' in page
    assert '<option value="citations">' not in page  # no work in the fixture has a citation count
    card = 'data-title="Coup probes catch catastrophes" data-kind="paper" data-motivation="stated" data-year="2023"'
    assert card in page
    assert (site / "static" / "sort.js").is_file()


def test_motivation_pages_and_the_home_page_offer_sort_orders_too(site):
    home = (site / "index.html").read_text()
    assert 'data-sort-target="recent-list"' in home and 'id="recent-list"' in home
    assert '<option value="default">recently added</option>' in home and '<option value="year">' in home
    # the fixture's motivations hold one or two works each: a list of one gets no control
    for path in (site / "motivations").glob("*.html"):
        page = path.read_text()
        for part in ("stated", "inferred"):
            cards = page.split(f'id="{part}-h"')[-1].split("</section>")[0].count('<li class="card"')
            assert (f'data-sort-target="{part}-list"' in page) == (cards > 1), (path.name, part)


def test_every_work_page_offers_the_work_in_every_citation_format(site):
    for page in (site / "works").glob("*.html"):
        work_id = page.stem
        html = page.read_text()
        for ext in ("bib", "json", "ris"):
            assert f'href="{work_id}.{ext}" download' in html, (work_id, ext)
            assert (site / "works" / f"{work_id}.{ext}").stat().st_size > 0
        parser = BibTexParser(ignore_nonstandard_types=False)  # @online, for posts
        (entry,) = bibtexparser.loads((site / "works" / f"{work_id}.bib").read_text(), parser).entries
        (item,) = json.loads((site / "works" / f"{work_id}.json").read_text())
        assert item["id"] == entry["ID"]  # one key for the work everywhere
        assert (site / "works" / f"{work_id}.ris").read_text().count("ER  - ") == 1


def test_the_page_address_for_reference_managers_is_the_public_one_never_a_preview(data, site, tmp_path):
    coup = (site / "works" / "coup-probes-2023.html").read_text()
    address = "https://kb.example/works/coup-probes-2023.html"
    assert f'<meta name="citation_abstract_html_url" content="{address}">' in coup
    from tests import test_site

    preview = tmp_path / "preview"
    test_site.build(data, preview, base_url="http://127.0.0.1:8000/")
    page = (preview / "works" / "coup-probes-2023.html").read_text()
    assert "citation_abstract_html_url" not in page and 'name="citation_title"' in page


def test_site_build_without_a_public_address_says_it_made_a_preview(kb, data, tmp_path, monkeypatch):
    monkeypatch.delenv("KB_SITE_URL", raising=False)
    result = kb("site", "build", "--out", str(tmp_path / "a"), "--date", "2026-01-01")
    assert result.exit_code == 0 and "no --base-url and no $KB_SITE_URL: a local preview" in result.stderr
    monkeypatch.setenv("KB_SITE_URL", "https://kb.example/")
    result = kb("site", "build", "--out", str(tmp_path / "b"), "--date", "2026-01-01")
    assert result.exit_code == 0 and "local preview" not in result.stderr
    page = (tmp_path / "b" / "works" / "coup-probes-2023.html").read_text()
    assert 'content="https://kb.example/works/coup-probes-2023.html"' in page
