"""`kb refresh` and the citation graph: arXiv and OpenAlex answers fill abstracts, categories, dated citation
counts and "cites" relations, through the import merge; polite, resumable, idempotent.

A fake arXiv + OpenAlex runs on 127.0.0.1. Its OpenAlex filters a pool of works in the real answer shape the way
the real API does (`ids.openalex:W1|W2`, `doi:a|b`); the pool is hand-made here, and is the real answer in
../shared/reference-responses/openalex/works_search.json when that folder is present.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from importers import openalex
from importers.http import Polite, client
from importers.records import Link, WorkRecord
from kb.cli.commands import cli
from kb.ingest import merge_extras
from kb.ingest.merging import Merger
from kb.store import datadir
from kb.store.datadir import Dataset
from kb.store.records import RELATION_TYPES, Citations, Relation, Work
from tests.conftest import SHARED

REAL = SHARED / "reference-responses"
TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("kb.ingest.imports.HTTP_OPTIONS", {"default_interval": 0, "retries": 0})


# -- a fake arXiv + OpenAlex ---------------------------------------------------------------------


class Api:
    pool: list[dict] = []  # OpenAlex works, real shape
    arxiv: dict[str, bytes] = {}  # id_list -> Atom body
    seen: list[str] = []  # every request, path and query
    fail_from: int | None = None  # OpenAlex answers 500 from this request on (0-based)

    @classmethod
    def reset(cls, pool=(), arxiv=None):
        cls.pool, cls.arxiv, cls.seen, cls.fail_from = list(pool), dict(arxiv or {}), [], None

    @classmethod
    def works(cls, query: dict) -> tuple[int, dict]:
        name, _, values = query["filter"][0].partition(":")
        wanted = {v.lower() for v in values.split("|")}

        def key(w):
            if name == "ids.openalex":
                return w["id"].rsplit("/", 1)[-1].lower()
            return (w.get("doi") or "").removeprefix("https://doi.org/").lower()

        found = [w for w in cls.pool if key(w) in wanted]
        fields = query["select"][0].split(",")
        found = [{k: w[k] for k in fields if k in w} for w in found][: int(query["per-page"][0])]
        return 200, {"meta": {"count": len(found)}, "results": found}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        Api.seen.append(self.path)
        if url.path == "/works":
            n = sum(1 for s in Api.seen if s.startswith("/works")) - 1
            if Api.fail_from is not None and n >= Api.fail_from:
                return self._send(500, b"down", "text/plain")
            status, body = Api.works(query)
            return self._send(status, json.dumps(body).encode(), "application/json")
        if url.path == "/arxiv":
            body = Api.arxiv.get(query["id_list"][0])
            return self._send(200, body or atom([]), "application/atom+xml")
        self._send(404, b"not found", "text/plain")

    def _send(self, status, body, kind):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def api(monkeypatch):
    Api.reset()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    root = f"http://127.0.0.1:{httpd.server_address[1]}"
    monkeypatch.setenv("KB_OPENALEX_URL", root)
    monkeypatch.setenv("KB_ARXIV_URL", f"{root}/arxiv")
    yield Api
    httpd.shutdown()
    httpd.server_close()


def atom(entries: list[tuple[str, str, str, list[str]]]) -> bytes:
    """An arXiv Atom feed: (id with version, title, abstract, categories) per entry."""
    items = "".join(
        f"<entry><id>http://arxiv.org/abs/{i}</id><published>2023-11-01T00:00:00Z</published><title>{t}</title>"
        f"<summary>{s}</summary><author><name>Fabien Roger</name></author>"
        f'<arxiv:primary_category term="{c[0]}"/>' + "".join(f'<category term="{x}"/>' for x in c) + "</entry>"
        for i, t, s, c in entries
    )
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom"'
        f' xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"><opensearch:totalResults>{len(entries)}'
        f"</opensearch:totalResults>{items}</feed>"
    ).encode()


def oa_work(wid: str, title: str, *, doi=None, refs=(), cited=0, abstract=None, year=2023) -> dict:
    """An OpenAlex work in the real answer's shape (only the fields a refresh selects)."""
    return {
        "id": f"https://openalex.org/{wid}",
        "doi": f"https://doi.org/{doi}" if doi else None,
        "display_name": title,
        "publication_year": year,
        "publication_date": f"{year}-06-01",
        "type": "article",
        "authorships": [{"author": {"display_name": "Someone Else"}}],
        "primary_location": {"landing_page_url": None, "source": None},
        "locations": [],
        "abstract_inverted_index": {w: [i] for i, w in enumerate(abstract.split())} if abstract else None,
        "cited_by_count": cited,
        "referenced_works": [f"https://openalex.org/{r}" for r in refs],
    }


def set_ids(data: Path, ids: dict[str, dict]) -> None:
    """Give fixture works identifiers (work id -> ids), as a curator would in data/works/."""
    ds = datadir.load(data)
    works = [Work.model_validate({**w.model_dump(), "ids": {**w.ids, **ids.get(w.id, {})}}) for w in ds.works]
    datadir.write_dataset(data, works)


def kb(data: Path, *args: str):
    return CliRunner().invoke(
        cli, ["--data", str(data), "--db", str(data.parent / "kb.sqlite"), *args], catch_exceptions=False
    )


def works(data: Path) -> dict[str, Work]:
    return {w.id: w for w in datadir.load(data).works}


def snapshot(data: Path) -> dict[str, bytes]:
    return {str(p.relative_to(data)): p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file()}


# The fixture catalogue (tests/conftest.py): coup-probes-2023 (arXiv 2311.00001, curated abstract),
# lat-paper-2023 (discusses coup-probes), old-pruning-2016 and probe-post-2024, given ids below.
IDS = {"lat-paper-2023": {"doi": "10.1/lat"}, "old-pruning-2016": {"openalex": "W16"}}


def small_pool() -> list[dict]:
    return [
        oa_work("W23", "Coup probes", doi="10.48550/arXiv.2311.00001", refs=["W16", "W999"], cited=40),
        oa_work("W7", "Reading vectors", doi="10.1/lat", refs=["W23", "W16"], cited=12, abstract="From OpenAlex."),
        oa_work("W16", "Trimming", refs=[], cited=300, abstract="Zeros are a pruning signal.", year=2016),
    ]


# -- the refresh end to end ------------------------------------------------------------------------


def test_refresh_fills_abstracts_counts_and_cites_and_a_second_run_changes_nothing(data, api):
    set_ids(data, IDS)
    api.reset(
        small_pool(),
        {"2311.00001": atom([("2311.00001v2", "Coup probes", "From arXiv.", ["cs.LG", "cs.AI"])])},
    )
    before = dt.date.today()
    result = kb(data, "refresh")
    days = {before, dt.date.today()}  # refresh dates its counts by the clock: a run may cross midnight
    assert result.exit_code == 0, result.output
    w = works(data)
    coup, lat, old = w["coup-probes-2023"], w["lat-paper-2023"], w["old-pruning-2016"]
    assert coup.abstract == "Probes trained off-policy detect takeover attempts."  # curated: never overwritten
    assert lat.abstract == "We study generalization of probe directions found by PCA."
    assert old.abstract == "Zeros are a pruning signal."  # missing: filled from OpenAlex's inverted index
    assert coup.ids["openalex"] == "W23" and "doi" not in coup.ids  # arXiv's DataCite DOI is the arXiv id
    assert old.citations in [Citations(count=300, as_of=day, source="openalex") for day in days]
    assert coup.citations.count == 40 and lat.citations.count == 12
    # references between works of the catalogue; W999 is outside it; hand-made relations stay
    assert [r for r in coup.relations if r.type == "cites"] == [Relation(type="cites", target="old-pruning-2016")]
    assert sorted((r.type, r.target) for r in lat.relations) == [
        ("cites", "coup-probes-2023"),
        ("cites", "old-pruning-2016"),
        ("discusses", "coup-probes-2023"),
    ]
    refresh = [p for p in lat.provenance if p.source == "openalex"]
    assert len(refresh) == 1 and {"citations", "ids.openalex", "cites"} <= set(refresh[0].fields)
    assert "filled: abstract 1" in result.output and "references 2" in result.output
    assert w["probe-post-2024"].provenance == []  # no identifier to look up: not asked, not touched

    before = snapshot(data)
    again = kb(data, "refresh")
    assert again.exit_code == 0, again.output
    assert "added 0, updated 0" in again.output
    assert snapshot(data) == before


def test_a_new_reference_list_replaces_the_cites_and_leaves_hand_made_relations(data, api, tmp_path, monkeypatch):
    set_ids(data, IDS)
    api.reset(small_pool())
    assert kb(data, "refresh", "--source", "openalex").exit_code == 0
    pool = small_pool()
    pool[1]["referenced_works"] = ["https://openalex.org/W16"]  # the source corrected its reference list
    api.reset(pool)
    monkeypatch.setenv("KB_CACHE", str(tmp_path / "fresh-cache"))
    assert kb(data, "refresh", "lat-paper-2023").exit_code == 0
    lat = works(data)["lat-paper-2023"]
    assert sorted((r.type, r.target) for r in lat.relations) == [
        ("cites", "old-pruning-2016"),
        ("discusses", "coup-probes-2023"),
    ]


def test_refresh_asks_in_batches_and_only_what_it_needs(data, api):
    set_ids(data, IDS)
    api.reset(small_pool())
    assert kb(data, "refresh", "--source", "openalex").exit_code == 0
    asked = [parse_qs(urlsplit(s).query) for s in api.seen]
    assert {q["filter"][0] for q in asked} == {
        "ids.openalex:W16",
        "doi:10.1/lat",
        "doi:10.48550/arxiv.2311.00001",
    }
    assert all(q["per-page"] == ["50"] and "referenced_works" in q["select"][0] for q in asked)


def test_a_failure_keeps_what_was_read_and_a_rerun_resumes_from_the_cache(data, api, monkeypatch):
    set_ids(data, IDS)
    api.reset(small_pool())
    api.fail_from = 1  # the first request is answered, then OpenAlex fails
    failed = kb(data, "refresh", "--source", "openalex")
    assert failed.exit_code == 1 and "HTTP 500" in failed.output and "resume" in failed.output
    assert works(data)["old-pruning-2016"].citations.count == 300  # asked first (by OpenAlex id) and kept
    first = api.seen[0]
    api.fail_from = None
    resumed = kb(data, "refresh", "--source", "openalex")
    assert resumed.exit_code == 0, resumed.output
    assert api.seen.count(first) == 1  # the page already read came from the cache
    assert works(data)["lat-paper-2023"].citations.count == 12


def test_arxiv_ids_go_in_one_request_and_fill_the_abstract_and_categories(data, api, monkeypatch):
    set_ids(data, {"old-pruning-2016": {"arxiv": "1607.03250"}, "probe-post-2024": {"arxiv": "2401.00002"}})
    body = atom(
        [
            ("1607.03250v1", "Trimming", "Zeros.", ["cs.NE", "cs.CV"]),
            ("2311.00001v3", "Coup probes", "From arXiv.", ["cs.LG"]),
        ]
    )
    api.reset([], {"1607.03250,2311.00001,2401.00002": body})
    result = kb(data, "refresh", "--source", "arxiv")
    assert result.exit_code == 0, result.output
    arxiv_requests = [s for s in api.seen if s.startswith("/arxiv")]
    assert len(arxiv_requests) == 1
    w = works(data)
    assert w["old-pruning-2016"].abstract == "Zeros."
    assert "arxiv had no answer for 1: probe-post-2024" in result.output


def test_refreshing_the_shipped_catalogue_asks_in_batches_not_work_by_work(shipped_data, api):
    """arXiv ids 100 to a request; OpenAlex by DOI, then by arXiv DOI, 50 to a request: a handful of requests."""
    from kb.ingest.refresh import ARXIV_BATCH

    works = datadir.load(shipped_data).works
    with_arxiv = [w for w in works if "arxiv" in w.ids]
    by_doi = [w for w in works if "openalex" not in w.ids and "doi" in w.ids]
    by_arxiv = [w for w in works if not {"openalex", "doi"} & set(w.ids) and "arxiv" in w.ids]
    with_any = [w for w in works if {"openalex", "doi", "arxiv"} & set(w.ids)]
    assert len(with_arxiv) > ARXIV_BATCH and len(by_arxiv) > openalex.BATCH  # more than one page of each

    result = kb(shipped_data, "refresh")
    assert result.exit_code == 0, result.output
    paths = [urlsplit(s).path for s in api.seen]
    assert paths.count("/arxiv") == -(-len(with_arxiv) // ARXIV_BATCH)
    assert paths.count("/works") == -(-len(by_doi) // openalex.BATCH) + -(-len(by_arxiv) // openalex.BATCH)
    assert len(paths) == paths.count("/arxiv") + paths.count("/works")  # nothing asked work by work
    assert f"asked: arxiv {len(with_arxiv)} work(s), openalex {len(with_any)} work(s)" in result.output


def test_refresh_names_an_unknown_work(data, api):
    result = kb(data, "refresh", "no-such-work")
    assert result.exit_code == 1 and "no work 'no-such-work'" in result.output


# -- what the catalogue, `kb show`, `kb list` and the site make of it -------------------------------


def test_show_says_cites_and_cited_by_in_the_catalogue_and_list_sorts_by_citations(data, api):
    set_ids(data, IDS)
    api.reset(small_pool())
    before = dt.date.today()
    assert kb(data, "refresh", "--source", "openalex").exit_code == 0
    days = {before.isoformat(), dt.date.today().isoformat()}  # dated by the clock: a run may cross midnight
    shown = kb(data, "show", "old-pruning-2016").output
    assert "cited 300 times (openalex, " in shown and "cites 0 / cited by 2 in the catalogue" in shown
    record = json.loads(kb(data, "show", "lat-paper-2023", "--json").output)
    assert record["cites_in_catalogue"] == 2 and record["cited_by_in_catalogue"] == 0
    assert record["citation_count"] == 12 and record["citations_as_of"] in days
    listed = json.loads(kb(data, "list", "--sort", "citations", "--json").output)
    assert [r["id"] for r in listed] == ["old-pruning-2016", "coup-probes-2023", "lat-paper-2023", "probe-post-2024"]
    assert [r["id"] for r in json.loads(kb(data, "list", "--json").output)][0] == "probe-post-2024"


def test_work_pages_list_cites_and_cited_by_and_technique_pages_sort_by_citations(data, api, tmp_path):
    set_ids(data, IDS)
    api.reset(small_pool())
    assert kb(data, "refresh", "--source", "openalex").exit_code == 0
    out = tmp_path / "site"
    built = kb(data, "site", "build", "--out", str(out), "--date", "2026-01-01")
    assert built.exit_code == 0, built.output
    old = (out / "works" / "old-pruning-2016.html").read_text()
    assert "Cited 300 times (openalex, as of" in old and "cites 0, cited by 2" in old
    assert 'href="../works/lat-paper-2023.html"' in old.split('id="citations-h"')[1]
    lat = (out / "works" / "lat-paper-2023.html").read_text()
    section = lat.split('id="citations-h"')[1].split("</section>")[0]
    assert "<h3>Cites</h3>" in section and "coup-probes-2023.html" in section and "old-pruning-2016.html" in section
    technique = (out / "techniques" / "representation-reading.html").read_text()
    cited = technique.split('class="sort-cited"')[1].split("</details>")[0]
    assert cited.index("coup-probes-2023") < cited.index("lat-paper-2023")  # 40 before 12


# -- the merge rules for dated counts and reference lists -------------------------------------------


def _work(**kw) -> Work:
    return Work.model_validate({"id": "w-2023", "kind": "paper", "title": "W", "year": 2023, **kw})


def _record(count, as_of, source="openalex", categories=()) -> WorkRecord:
    return WorkRecord(
        source=source,
        kind="paper",
        title="W",
        citation_count=count,
        citations_as_of=as_of,
        categories=list(categories),
    )


def test_a_newer_count_of_the_same_source_replaces_and_another_source_only_fills_a_gap():
    old = Citations(count=10, as_of=dt.date(2026, 1, 1), source="openalex")
    newer, _ = merge_extras.extra_updates(_work(citations=old), _record(12, "2026-02-01"))
    assert newer["citations"] == Citations(count=12, as_of=dt.date(2026, 2, 1), source="openalex")
    same_count, _ = merge_extras.extra_updates(_work(citations=old), _record(10, "2026-02-01"))
    older, _ = merge_extras.extra_updates(_work(citations=old), _record(9, "2025-12-01"))
    other, _ = merge_extras.extra_updates(_work(citations=old), _record(500, "2026-02-01", source="scholar"))
    assert same_count == older == other == {}  # a repeat reading is not a change; sources are not compared
    gap, fields = merge_extras.extra_updates(
        _work(), _record(500, "2026-02-01", source="scholar", categories=["cs.LG"])
    )
    assert gap["citations"].source == "scholar" and gap["categories"] == ["cs.LG"]
    assert fields == ["categories", "citations"]
    kept, _ = merge_extras.extra_updates(_work(categories=["cs.CL"]), _record(None, None, categories=["cs.LG"]))
    assert kept == {}  # categories already there stay


def test_openalex_records_carry_references_and_a_dated_count():
    w = oa_work("W1", "T", doi="10.1/X", refs=["W2", "W3"], cited=5, abstract="a b")
    r = openalex.record(w, "2026-11-25")
    assert r.links == [Link("cites", "openalex", "W2"), Link("cites", "openalex", "W3")]
    assert (r.citation_count, r.citations_as_of, r.abstract) == (5, "2026-11-25", "a b")
    assert openalex.record(w).citation_count is None  # a count is never kept without the day it was read


def test_openalex_by_ids_batches_fifty_ids_a_request_with_the_polite_params():
    asked = []

    def handler(request):
        asked.append(request.url.params)
        return httpx.Response(200, json={"results": []})

    http = Polite(client(httpx.MockTransport(handler)), "openalex", cache_dir=None, sleep=lambda s: None)
    values = [f"10.1/{n}" for n in range(120)] + ["10.1/a,b"]
    list(openalex.by_ids(http, "doi", values, "https://api.openalex.org", key="k", mailto="me@example.org"))
    assert [len(p["filter"].split("|")) for p in asked] == [50, 50, 20]  # "10.1/a,b" cannot go in a filter
    assert all(p["mailto"] == "me@example.org" and p["api_key"] == "k" and p["per-page"] == "50" for p in asked)
    with pytest.raises(ValueError):
        list(openalex.by_ids(http, "lesswrong", ["x"]))


# -- the real answers in ../shared ----------------------------------------------------------------

needs_shared = pytest.mark.skipif(not (REAL / "openalex" / "works_search.json").exists(), reason="needs ../shared")


@needs_shared
def test_refresh_on_the_real_openalex_answer(data, api):
    real = json.loads((REAL / "openalex" / "works_search.json").read_text())["results"]
    first, second = real[0], real[1]
    target = first["referenced_works"][0].rsplit("/", 1)[-1]
    # two real works and one of the first's real references, known to the catalogue by these ids
    set_ids(
        data,
        {
            "lat-paper-2023": {"doi": first["doi"].removeprefix("https://doi.org/")},
            "old-pruning-2016": {"doi": second["doi"].removeprefix("https://doi.org/")},
            "probe-post-2024": {"openalex": target},
        },
    )
    api.reset(real)
    result = kb(data, "refresh", "--source", "openalex")
    assert result.exit_code == 0, result.output
    w = works(data)
    lat, old = w["lat-paper-2023"], w["old-pruning-2016"]
    assert lat.citations.count == first["cited_by_count"] and old.citations.count == second["cited_by_count"]
    assert lat.ids["openalex"] == first["id"].rsplit("/", 1)[-1]
    assert [r.target for r in lat.relations if r.type == "cites"] == ["probe-post-2024"]
    index = second["abstract_inverted_index"]
    words = sorted((p, word) for word, ps in index.items() for p in ps)
    assert old.abstract == " ".join(word for _, word in words)
    assert lat.abstract == "We study generalization of probe directions found by PCA."  # curated stays
    assert "probe-post-2024" in result.output  # the reference target is not in the pool: said, not guessed
    shown = kb(data, "show", "probe-post-2024").output
    assert "cites 0 / cited by 1 in the catalogue" in shown


@needs_shared
def test_refresh_on_a_real_arxiv_answer(data, api):
    set_ids(data, {"old-pruning-2016": {"arxiv": "1111.2011"}})
    body = (REAL / "arxiv" / "id_list_1111.2011v2.xml").read_bytes()
    api.reset([], {"1111.2011,2311.00001": body})
    result = kb(data, "refresh", "--source", "arxiv")
    assert result.exit_code == 0, result.output
    old = works(data)["old-pruning-2016"]
    assert old.abstract.startswith("Theoretical description of anisotropic systems")
    assert "arxiv had no answer for 1: coup-probes-2023" in result.output


# -- a property: a reference list replaces "cites" only, and merging it twice equals once ---------------

N = 6  # works w0..w5, with OpenAlex ids W0..W5
relation = st.tuples(st.sampled_from(RELATION_TYPES), st.integers(0, N - 1))


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    existing=st.lists(relation, max_size=8),
    references=st.lists(st.integers(0, N + 3), min_size=1, max_size=8),  # W6.. are outside the catalogue
)
def test_a_reference_list_replaces_cites_whole_and_keeps_every_other_relation(existing, references):
    rels = sorted({(t, f"w{n}-2020") for t, n in existing if n != 0})
    works = [
        Work(
            id=f"w{n}-2020",
            kind="paper",
            title=f"Work {n}",
            year=2020,
            ids={"openalex": f"W{n}"},
            relations=[Relation(type=t, target=target) for t, target in rels] if n == 0 else [],
        )
        for n in range(N)
    ]
    rec = WorkRecord(
        source="openalex",
        kind="paper",
        title="Work 0",
        ids={"openalex": "W0"},
        links=[Link("cites", "openalex", f"W{n}") for n in references],
    )

    def merged(ws: list[Work]) -> Work:
        merger = Merger(Dataset(Path("."), works=ws), today=TODAY)
        merger.add(rec)
        merger.resolve_links()
        return merger.works["w0-2020"]

    once = merged(works)
    other = lambda w: sorted((r.type, r.target) for r in w.relations if r.type != "cites")  # noqa: E731
    assert other(once) == [r for r in rels if r[0] != "cites"]
    expected = sorted({f"w{n}-2020" for n in references if 0 < n < N})
    assert sorted(r.target for r in once.relations if r.type == "cites") == expected
    twice = merged([once if w.id == "w0-2020" else w for w in works])
    assert twice == once
