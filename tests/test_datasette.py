"""The catalogue in Datasette's stock UI with the shipped datasette/metadata.json: works faceted by technique (with its
sub-techniques) and by motivation, tag tables linked to what they name, and search results most relevant first."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.conftest import REPO

datasette_app = pytest.importorskip("datasette.app")
METADATA = REPO / "datasette" / "metadata.json"


@pytest.fixture
def browse(kb, data):
    """GET a path of Datasette serving the fixture's catalogue with the shipped metadata: (status, body)."""
    assert kb("build").exit_code == 0
    db = data.parent / "build" / "catalogue.sqlite"
    ds = datasette_app.Datasette([str(db)], metadata=json.loads(METADATA.read_text()))

    def get(path: str):
        response = asyncio.run(ds.client.get(path))
        body = response.json() if ".json" in path.split("?")[0] else response.text
        return response.status_code, body

    return get


def test_works_are_faceted_by_technique_counting_sub_techniques_and_by_motivation(browse):
    status, page = browse("/catalogue/work.json")  # the facets come from the metadata: no parameter needed
    assert status == 200
    facets = {name: {r["value"]: r["count"] for r in f["results"]} for name, f in page["facet_results"].items()}
    assert facets["technique_slugs"] == {
        "representation-engineering": 3,
        "representation-reading": 3,
        "probing": 2,  # coup-probes-2023 and probe-post-2024
        "lat": 1,
        "pruning": 1,
    }
    assert facets["motivation_slugs"] == {"monitoring": 1}
    assert facets["motivation_status"] == {"stated": 1, "none-stated": 3}  # whether the authors state one
    status, rows = browse("/catalogue/work.json?technique_slugs__arraycontains=representation-reading&_shape=array")
    assert {r["id"] for r in rows} == {"coup-probes-2023", "lat-paper-2023", "probe-post-2024"}


def test_the_stock_table_page_shows_the_technique_facet(browse):
    status, html = browse("/catalogue/work")
    assert status == 200 and "technique_slugs (array)" in html
    assert "technique_slugs__arraycontains=probing" in html  # a facet value links to the filtered works


def test_tag_tables_link_to_the_technique_and_motivation_they_name(browse):
    status, rows = browse("/catalogue/work_technique.json?_labels=on&_shape=array")
    assert status == 200
    probing = next(r for r in rows if r["technique"]["value"] == "probing")
    assert probing["technique"]["label"] == "Linear probing" and probing["work_pk"]["label"]
    status, rows = browse("/catalogue/work_motivation.json?_labels=on&_shape=array")
    assert {r["motivation"]["label"] for r in rows} == {"Monitoring"}


def test_search_lists_the_most_relevant_works_first_where_the_table_search_does_not(browse, kb):
    # "probe" is in two titles (coup probes, probes generalise) and in one abstract (lat-paper-2023)
    status, rows = browse("/catalogue/search.json?q=probe&_shape=array")
    assert status == 200
    ranked = [r["id"] for r in rows]
    assert set(ranked[:2]) == {"coup-probes-2023", "probe-post-2024"} and ranked[2:] == ["lat-paper-2023"]
    # the table's own ?_search= keeps a column order (here the key's), which puts the abstract match before a title's
    status, page = browse("/catalogue/work.json?_search=probe&_sort=pk&_shape=array")
    assert [r["id"] for r in page] == ["coup-probes-2023", "lat-paper-2023", "probe-post-2024"]
    # the same ranking as kb search: the shipped query uses kb.catalogue's bm25 weights
    from kb.catalogue import _WEIGHTS

    assert (
        f"bm25(work_fts, {_WEIGHTS})"
        in json.loads(METADATA.read_text())["databases"]["catalogue"]["queries"]["search"]["sql"]
    )
    assert ranked == [w["id"] for w in json.loads(kb("search", "probe", "--json").stdout)]


def test_search_with_no_words_lists_nothing_instead_of_failing(browse):
    status, rows = browse("/catalogue/search.json?q=&_shape=array")
    assert status == 200 and rows == []
    status, html = browse("/catalogue/search")
    assert status == 200 and "Search works, most relevant first" in html
