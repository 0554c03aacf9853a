"""Imports end to end: one work per real work, explainable merges, idempotent, transactional."""

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from click.testing import CliRunner

from importers.records import Link, WorkRecord
from kb.cli.commands import cli
from kb.ingest.imports import Fetched, apply
from kb.store import datadir
from kb.workspace import Workspace
from tests.conftest import serving

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("kb.ingest.imports.HTTP_OPTIONS", {"default_interval": 0, "retries": 0})


def ws(data: Path) -> Workspace:
    return Workspace(data, data.parent / "kb.sqlite")


def record(**kw) -> WorkRecord:
    return WorkRecord(**{"source": "arxiv", "kind": "paper", "title": "Untitled", **kw})


def works(data: Path) -> dict:
    return {w.id: w for w in datadir.load(data).works}


def test_a_shared_identifier_merges_and_curated_values_win(data):
    report = apply(
        ws(data),
        [
            Fetched(
                "arxiv",
                [
                    record(
                        title="COUP PROBES catch catastrophes (v2)",
                        ids={"arxiv": "2311.00001", "doi": "10.1/x"},
                        abstract="From arXiv.",
                        year=2023,
                        authors=["F. Roger"],
                    )
                ],
            )
        ],
    )
    assert report.added == [] and report.updated == ["coup-probes-2023"]
    w = works(data)["coup-probes-2023"]
    assert w.title == "Coup probes catch catastrophes"  # the curated title stays
    assert w.abstract == "Probes trained off-policy detect takeover attempts."  # curated, not overwritten
    assert w.ids == {"arxiv": "2311.00001", "doi": "10.1/x"}
    assert w.provenance[-1].matched_by == "same identifier: arxiv 2311.00001" and w.provenance[-1].fields == ["ids.doi"]


def test_title_year_and_an_author_in_common_find_the_same_work_across_sources(data):
    apply(
        ws(data),
        [
            Fetched(
                "feed",
                [
                    record(
                        source="openalex",
                        title="Trimming Neurons With Zeros.",
                        year=2017,
                        authors=["Hengyuan Hu", "Rui Peng"],
                        abstract="APoZ.",
                    )
                ],
            )
        ],
    )
    w = works(data)["old-pruning-2016"]
    assert w.abstract == "APoZ." and "title, year and an author in common" in w.provenance[-1].matched_by
    # the same title by someone else is another work
    report = apply(
        ws(data), [Fetched("x", [record(title="Trimming neurons with zeros", year=2016, authors=["Someone Else"])])]
    )
    assert report.added == ["trimming-neurons-zeros-2016"]
    # nor is a title that differs only in a number
    report = apply(
        ws(data), [Fetched("x", [record(title="Trimming neurons with zeros 2", year=2016, authors=["Hengyuan Hu"])])]
    )
    assert report.added == ["trimming-neurons-zeros-2-2016"]


def test_importing_twice_changes_nothing_the_second_time(data):
    batch = [record(title="A New Probe Paper", year=2025, authors=["Ada Lovelace"], ids={"arxiv": "2501.00001"})]
    first = apply(ws(data), [Fetched("arxiv", batch)])
    files = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    second = apply(ws(data), [Fetched("arxiv", batch)])
    assert first.added == ["new-probe-paper-2025"] and second.added == second.updated == []
    assert second.skipped == ["new-probe-paper-2025"]
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == files


def test_duplicates_within_one_import_become_one_work(data):
    report = apply(
        ws(data),
        [
            Fetched(
                "s",
                [
                    record(title="Twin", year=2024, ids={"arxiv": "2402.00002"}),
                    record(source="openalex", title="Twin", year=2024, ids={"openalex": "W9", "arxiv": "2402.00002"}),
                ],
            )
        ],
    )
    assert report.added == ["twin-2024"] and works(data)["twin-2024"].ids == {"arxiv": "2402.00002", "openalex": "W9"}


def test_comment_threads_become_relations(data):
    post = record(source="lesswrong", kind="post", title="Coup probes", year=2023, ids={"lesswrong": "P1"})
    parent = record(
        source="lesswrong",
        kind="comment",
        title="Andy on Coup probes",
        year=2023,
        ids={"lesswrong": "C1"},
        links=[Link("discusses", "lesswrong", "P1"), Link("replies-to", "lesswrong", "P1")],
    )
    reply = record(
        source="lesswrong",
        kind="comment",
        title="Fabien on Coup probes",
        year=2023,
        ids={"lesswrong": "C2"},
        links=[Link("discusses", "lesswrong", "P1"), Link("replies-to", "lesswrong", "C1")],
    )
    apply(ws(data), [Fetched("lw", [reply, parent, post])])  # order does not matter: links resolve at the end
    by_title = {w.title: w for w in works(data).values()}
    assert {(r.type, by_title["Coup probes"].id) for r in by_title["Fabien on Coup probes"].relations} >= {
        ("discusses", by_title["Coup probes"].id)
    }
    assert ("replies-to", by_title["Andy on Coup probes"].id) in {
        (r.type, r.target) for r in by_title["Fabien on Coup probes"].relations
    }
    assert (data / "works" / "comments.jsonl").exists()


def test_a_bad_record_is_skipped_with_a_clear_error_and_the_rest_land(data):
    report = apply(
        ws(data),
        [
            Fetched(
                "feed", [record(title="Evil", year=2024, url="javascript:alert(1)"), record(title="Fine", year=2024)]
            )
        ],
    )
    assert report.added == ["fine-2024"]
    assert "skipped 'Evil'" in report.errors[0] and "url" in report.errors[0]


def test_broken_data_stops_an_import_before_anything_is_written(data):
    (data / "works" / "papers.jsonl").write_text((data / "works" / "papers.jsonl").read_text() + "{broken\n")
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    from kb.store.problems import DataProblems

    with pytest.raises(DataProblems):
        apply(ws(data), [Fetched("arxiv", [record(title="X", year=2024)])])
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == before


def test_scholar_owner_facts_land_in_authors(data):
    from importers.records import AuthorRecord

    apply(
        ws(data),
        [
            Fetched(
                "scholar",
                [
                    record(
                        source="scholar",
                        title="Reading vectors with tomography",
                        year=2023,
                        authors=["Andy Zou"],
                        ids={"scholar": "X:1"},
                        more_authors=True,
                    )
                ],
                authors=[AuthorRecord("J. Zico Kolter", scholar_id="ZICOid000000AAAAJ")],
            )
        ],
    )
    authors = {a.id: a for a in datadir.load(data).authors}
    assert authors["j-zico-kolter"].scholar_id == "ZICOid000000AAAAJ"
    assert works(data)["lat-paper-2023"].ids == {"scholar": "X:1"}


# -- end to end: the kb command against a real server on 127.0.0.1 ----------------------------------


class Fake(BaseHTTPRequestHandler):
    routes: dict = {}

    def log_message(self, *args):
        pass

    def _answer(self, key):
        status, body, kind = self.routes.get(key, (404, b"not found", "text/plain"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._answer(self.path.split("?")[0])

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self._answer(
            "graphql-user"
            if "GetUserBySlug" in body["query"]
            else "graphql-" + ("comments" if "comments(" in body["query"] else "posts")
        )


@pytest.fixture
def server():
    with serving(Fake) as address:
        yield address


def kb(data, *args):
    return CliRunner().invoke(
        cli, ["--data", str(data), "--db", str(data.parent / "kb.sqlite"), *args], catch_exceptions=False
    )


def test_end_to_end_arxiv(data, server):
    Fake.routes = {"/api/query": (200, (FIXTURES / "arxiv_ids.xml").read_bytes(), "application/atom+xml")}
    result = kb(data, "import", "arxiv", "2310.01405", "2401.99999", "--base-url", server + "/api/query")
    assert result.exit_code == 0, result.output
    assert "added 2" in result.stdout
    shown = json.loads(kb(data, "show", "2310.01405", "--json", "--provenance").stdout)
    assert shown["authors"][0]["name"] == "Andy Zou" and shown["provenance"][0]["source"] == "arxiv"
    assert json.loads(kb(data, "show", "2401.99999", "--json").stdout)["withdrawn"] is True
    again = kb(data, "import", "arxiv", "2310.01405", "2401.99999", "--base-url", server + "/api/query")
    assert "added 0, updated 0" in again.stdout


def test_end_to_end_feed_with_an_html_answer(data, server):
    Fake.routes = {
        "/feed.xml": (200, (FIXTURES / "blog_atom.xml").read_bytes(), "application/atom+xml"),
        "/captcha": (200, b"<!doctype html><html><form id=captcha-form></form></html>", "text/html"),
    }
    assert "added 1" in kb(data, "import", "feed", server + "/feed.xml").stdout
    bad = kb(data, "import", "feed", server + "/captcha")
    assert bad.exit_code == 1 and "the answer is an HTML page" in bad.stderr


def test_end_to_end_lesswrong(data, server):
    user = {
        "_id": "uid00000000000001",
        "slug": "fabien-roger",
        "username": "Fabien Roger",
        "displayName": "Fabien Roger",
    }
    p = {
        "_id": "WCj7WgFSLmyKaMwPR",
        "slug": "coup-probes",
        "title": "Coup probes: catching catastrophes",
        "af": True,
        "postedAt": "2023-11-08T00:00:00Z",
        "htmlBody": '<p>Probes, as in <a href="https://arxiv.org/abs/2311.00001v2">the paper</a>.</p>',
        "user": user,
        "pageUrl": "https://www.lesswrong.com/posts/WCj7WgFSLmyKaMwPR/coup-probes",
    }
    c = {
        "_id": "cmt00000000000001",
        "postId": p["_id"],
        "postedAt": "2023-11-09T00:00:00Z",
        "htmlBody": "<p>Nice.</p>",
        "user": {**user, "displayName": "Andy Zou", "slug": "andy-zou"},
        "post": p,
        "parentComment": None,
    }
    Fake.routes = {
        "graphql-user": (200, json.dumps({"data": {"GetUserBySlug": user}}).encode(), "application/json"),
        "graphql-posts": (200, json.dumps({"data": {"posts": {"results": [p]}}}).encode(), "application/json"),
        "graphql-comments": (200, json.dumps({"data": {"comments": {"results": [c]}}}).encode(), "application/json"),
    }
    result = kb(data, "import", "lesswrong", "--user", "fabien-roger", "--base-url", server)
    assert result.exit_code == 0, result.output
    post = json.loads(kb(data, "show", "WCj7WgFSLmyKaMwPR", "--json", "--provenance").stdout)
    # the catalogue has the paper (arXiv 2311.00001); the post links it, so it discusses it and stays its own work
    assert post["id"] == "coup-probes-catching-catastrophes-2023"
    assert post["ids"] == {"alignmentforum": "WCj7WgFSLmyKaMwPR", "lesswrong": "WCj7WgFSLmyKaMwPR"}
    assert {"type": "discusses", "id": "coup-probes-2023"}.items() <= post["relations"][0].items()
    from_comment = sorted(r["type"] for r in post["cited_by"])
    assert from_comment == ["discusses", "replies-to"]


def test_end_to_end_sync_keeps_going_past_a_failing_source(data, server):
    Fake.routes = {
        "/feed.xml": (200, (FIXTURES / "blog_rss.xml").read_bytes(), "application/rss+xml"),
        "/broken.xml": (500, b"oops", "text/plain"),
    }
    (data / "sources.toml").write_text(
        f'[[source]]\ntype = "feed"\nurl = "{server}/feed.xml"\n\n'
        f'[[source]]\ntype = "feed"\nurl = "{server}/broken.xml"\n'
    )
    result = kb(data, "sync")
    assert result.exit_code == 1
    assert "added 2" in result.stdout and "HTTP 500" in result.stderr
    assert any(w.title == "Probing for deception & what we found" for w in works(data).values())


def test_end_to_end_openalex(data, server):
    work = {
        "id": "https://openalex.org/W42",
        "display_name": "Reading vectors with tomography",
        "publication_year": 2023,
        "type": "article",
        "authorships": [{"author": {"display_name": "Andy Zou"}}],
        "abstract_inverted_index": {"Reading": [0], "vectors": [1]},
        "locations": [],
    }
    Fake.routes = {
        "/authors": (200, json.dumps({"results": [{"id": "https://openalex.org/A42"}]}).encode(), "application/json"),
        "/works": (200, json.dumps({"results": [work], "meta": {"next_cursor": None}}).encode(), "application/json"),
    }
    result = kb(data, "import", "openalex", "--author", "Andy Zou", "--base-url", server)
    assert result.exit_code == 0, result.output
    merged = json.loads(kb(data, "show", "W42", "--json").stdout)
    assert (
        merged["id"] == "lat-paper-2023"
        and merged["abstract"] == "We study generalization of probe directions found by PCA."
    )
