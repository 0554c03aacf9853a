"""Importers against hand-made responses (httpx.MockTransport), and the real shapes in ../shared when present."""

import json
from pathlib import Path

import httpx
import pytest

from importers import arxiv, feeds, lesswrong, openalex
from importers.http import Polite, client
from importers.records import SourceError
from tests.conftest import SHARED

FIXTURES = Path(__file__).parent / "fixtures"
REAL = SHARED / "reference-responses"


def polite(handler, **kw) -> tuple[Polite, list[float]]:
    """A Polite client over a MockTransport; sleeps are recorded, not slept."""
    slept = []
    return Polite(
        client(httpx.MockTransport(handler)), "test", sleep=slept.append, cache_dir=kw.pop("cache_dir", None), **kw
    ), slept


# -- arXiv ------------------------------------------------------------------------------------------


def test_arxiv_collapses_versions_and_flags_withdrawn():
    total, records = arxiv.parse((FIXTURES / "arxiv_ids.xml").read_bytes())
    assert total == 2
    repe, withdrawn = records
    assert repe.ids == {"arxiv": "2310.01405"} and repe.url == "https://arxiv.org/abs/2310.01405"
    assert repe.title == "Representation Engineering: A Top-Down Approach to AI Transparency"
    assert repe.authors == ["Andy Zou", "Long Phan"] and repe.date == "2023-10-02" and repe.year == 2023
    assert not repe.withdrawn and withdrawn.withdrawn
    assert withdrawn.ids["doi"] == "10.9999/example.1" and withdrawn.venue == "Journal of Examples 1 (2024)"


@pytest.mark.parametrize(
    "body, message",
    [
        ((FIXTURES / "arxiv_error.xml").read_bytes(), "arXiv reports an error: incorrect id format for nonsense"),
        (b"<!DOCTYPE html><html><body>Rate limited</body></html>", "the answer is an HTML page"),
        ((FIXTURES / "arxiv_ids.xml").read_bytes()[:900], "the answer is not XML"),
        (b'<?xml version="1.0"?><rss/>', "expected an Atom feed"),
    ],
)
def test_arxiv_bad_answers_are_clear_errors(body, message):
    with pytest.raises(SourceError, match=message) as e:
        arxiv.parse(body)
    assert str(e.value).startswith("arxiv:")


def test_arxiv_pages_a_query_politely():
    seen = []

    def handler(request):
        start = int(request.url.params["start"])
        seen.append(start)
        entries = "".join(
            f"<entry><id>http://arxiv.org/abs/2401.{start + i:05d}v1</id><title>Paper {start + i}</title>"
            f"<published>2024-01-01T00:00:00Z</published></entry>"
            for i in range(100 if start == 0 else 20)
        )
        return httpx.Response(
            200,
            text=f'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:os="http://a9.com/-/spec/opensearch/1.1/">'
            f"<os:totalResults>120</os:totalResults>{entries}</feed>",
        )

    http, slept = polite(handler)
    records = list(arxiv.fetch(http, query="ti:probe", base_url="https://export.arxiv.org/api/query"))
    assert len(records) == 120 and seen == [0, 100]
    assert slept and slept[0] == pytest.approx(3.0, abs=0.1)  # arXiv's one request every three seconds
    assert http.http.headers["user-agent"].startswith("safety-kb/")


def test_retry_after_is_honoured_on_429():
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, text="ok")])
    http, slept = polite(lambda request: next(answers))
    assert http.get("https://api.example/x") == b"ok"
    assert 7 in slept


def test_a_500_mid_paging_keeps_the_pages_already_read():
    from kb.importing import collect

    def handler(request):
        if request.url.params["start"] == "0":
            entries = "".join(
                f"<entry><id>http://arxiv.org/abs/2401.{i:05d}v1</id><title>P{i}</title></entry>" for i in range(100)
            )
            return httpx.Response(
                200,
                text=f'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:os="http://a9.com/-/spec/opensearch/1.1/">'
                f"<os:totalResults>300</os:totalResults>{entries}</feed>",
            )
        return httpx.Response(500)

    http, slept = polite(handler, retries=2)
    fetched = collect("arxiv", lambda: arxiv.fetch(http, query="x", base_url="https://export.arxiv.org/api/query"))
    assert len(fetched.records) == 100
    assert "HTTP 500" in fetched.error and fetched.error.startswith("test:")


@pytest.mark.skipif(not (REAL / "arxiv").exists(), reason="no ../shared reference responses")
def test_real_arxiv_answers():
    total, records = arxiv.parse((REAL / "arxiv" / "id_list_1111.2011v2.xml").read_bytes())
    assert total == 1 and records[0].ids["arxiv"] == "1111.2011"
    total, records = arxiv.parse((REAL / "arxiv" / "search_query_au_del_maestro.xml").read_bytes())
    assert records and all(r.title and r.authors for r in records)
    with pytest.raises(SourceError, match="incorrect id format"):
        arxiv.parse((REAL / "arxiv" / "error_malformed_id.xml").read_bytes())


# -- feeds ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, title, author, date",
    [
        ("blog_rss.xml", "Probing for deception & what we found", "Grace Hopper", "2026-06-08"),
        ("blog_atom.xml", "Mean-difference probes are regularised regression", "Alan Turing", "2026-04-01"),
        ("blog_rdf.xml", "Pruning by activation variance", "Claude Shannon", "2019-03-04"),
    ],
)
def test_rss_atom_and_rdf(name, title, author, date):
    record = feeds.parse((FIXTURES / name).read_bytes(), f"https://x.example/{name}")[0]
    assert (record.title, record.authors, record.date, record.kind) == (title, [author], date, "post")
    assert "<" not in (record.abstract or "")  # markup stripped to words


def test_conditional_get_costs_one_304(tmp_path):
    body = (FIXTURES / "blog_rss.xml").read_bytes()
    calls = []

    def handler(request):
        calls.append(dict(request.headers))
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=body, headers={"ETag": '"v1"'})

    http, _ = polite(handler, cache_dir=tmp_path, max_age=0)  # max_age 0: always revalidate
    first = feeds.fetch(http, "https://lab.example/feed.xml")
    second = feeds.fetch(http, "https://lab.example/feed.xml")
    assert [r.title for r in first] == [r.title for r in second]
    assert len(calls) == 2 and calls[1]["if-none-match"] == '"v1"'
    fresh, _ = polite(handler, cache_dir=tmp_path)  # within a day: no request at all
    feeds.fetch(fresh, "https://lab.example/feed.xml")
    assert len(calls) == 2


@pytest.mark.parametrize(
    "body, message",
    [
        (b"<!doctype html><html><body><form id='captcha-form'>Are you a robot?</form></body></html>", "an HTML page"),
        ((FIXTURES / "blog_rss.xml").read_bytes()[:700], "malformed XML"),
        (b"", "not a feed"),
    ],
)
def test_bad_feeds_are_clear_errors(body, message):
    with pytest.raises(SourceError, match=message) as e:
        feeds.parse(body, "https://lab.example/feed.xml")
    assert "feed https://lab.example/feed.xml" in str(e.value)


@pytest.mark.skipif(not (REAL / "feeds").exists(), reason="no ../shared reference responses")
def test_real_lab_feed():
    records = feeds.parse((REAL / "feeds" / "anthropic_red_rss.xml").read_bytes(), "https://red.anthropic.com/rss.xml")
    assert len(records) == 21 and records[0].title == "Measuring LLMs' Impact on N-day Exploits"
    assert records[0].date == "2026-06-08" and records[0].venue == "Anthropic Frontier Red Team Blog"


# -- LessWrong / Alignment Forum -------------------------------------------------------------------

USER = {"_id": "uid00000000000001", "slug": "fabien-roger", "username": "Fabien Roger", "displayName": "Fabien Roger"}


def post(i: int, af: bool = False) -> dict:
    return {
        "_id": f"post{i:013d}",
        "slug": f"post-{i}",
        "title": f"Post {i}",
        "pageUrl": f"https://www.lesswrong.com/posts/post{i:013d}/post-{i}",
        "postedAt": "2023-11-08T10:00:00.000Z",
        "af": af,
        "htmlBody": "<p>Probes &amp; <b>coups</b></p>",
        "user": USER,
    }


def graphql(posts=60, comments=None, errors=None):
    """A handler answering the queries the importer sends, paging like the real API."""

    def handler(request):
        body = json.loads(request.content)
        if errors:
            return httpx.Response(200, json={"errors": [{"message": errors}]})
        terms = (body.get("variables") or {}).get("terms", {})
        if "user(input" in body["query"]:
            return httpx.Response(200, json={"data": {"user": {"result": USER}}})
        if "tag(input" in body["query"]:
            return httpx.Response(200, json={"data": {"tag": {"result": {"_id": "tag1", "name": "Probing"}}}})
        if "comments(input" in body["query"]:
            page = (comments or [])[terms["offset"] : terms["offset"] + terms["limit"]]
            return httpx.Response(200, json={"data": {"comments": {"results": page}}})
        page = [post(i) for i in range(posts)][terms["offset"] : terms["offset"] + terms["limit"]]
        return httpx.Response(200, json={"data": {"posts": {"results": page}}})

    return handler


def test_posts_by_user_are_paged():
    http, _ = polite(graphql(posts=60))
    records = list(lesswrong.Client(http).posts_by_user("fabien-roger"))
    assert len(records) == 60 and records[0].kind == "post"
    assert records[0].ids == {"lesswrong": "post0000000000000"} and records[0].abstract == "Probes & coups"
    assert records[0].author_profiles == {"Fabien Roger": {"lesswrong": "fabien-roger"}}


def test_an_alignment_forum_cross_post_carries_both_ids():
    record = lesswrong.post_record(post(1, af=True), "lesswrong")
    assert record.ids == {"lesswrong": "post0000000000001", "alignmentforum": "post0000000000001"}
    assert lesswrong.post_record(post(1), "alignmentforum").ids["lesswrong"] == "post0000000000001"


def test_comments_come_with_what_they_reply_to():
    parent = {
        "_id": "cmt0000000000000p",
        "postId": "post0000000000001",
        "postedAt": "2023-11-09T00:00:00Z",
        "af": False,
        "htmlBody": "<p>LAT is just a probe?</p>",
        "user": {**USER, "displayName": "Andy Zou", "slug": "andy-zou"},
    }
    reply = {
        "_id": "cmt0000000000000r",
        "postId": "post0000000000001",
        "parentCommentId": parent["_id"],
        "af": True,
        "postedAt": "2023-11-10T00:00:00Z",
        "htmlBody": "<p>Mostly, yes.</p>",
        "user": USER,
        "post": post(1),
        "parentComment": parent,
    }
    http, _ = polite(graphql(comments=[reply]))
    kinds = [(r.kind, r.ids["lesswrong"]) for r in lesswrong.Client(http).comments_by_user("fabien-roger")]
    assert kinds == [("post", "post0000000000001"), ("comment", parent["_id"]), ("comment", reply["_id"])]


@pytest.mark.parametrize(
    "handler, message",
    [
        (graphql(errors="Rate limit exceeded"), "GraphQL error: Rate limit exceeded"),
        (lambda r: httpx.Response(200, text="<html>captcha</html>"), "not JSON"),
        (
            lambda r: httpx.Response(200, json={"data": {"user": {"result": USER}, "posts": {"results": "oops"}}}),
            "expected a list",
        ),
        (lambda r: httpx.Response(200, json=[1, 2]), "expected a JSON object"),
    ],
)
def test_graphql_problems_are_clear_errors(handler, message):
    http, _ = polite(handler)
    with pytest.raises(SourceError, match=message):
        list(lesswrong.Client(http).posts_by_user("uid00000000000001"))


@pytest.mark.skipif(not (REAL / "lesswrong").exists(), reason="no ../shared reference responses")
def test_real_lesswrong_post():
    data = json.loads((REAL / "lesswrong" / "graphql_single_post_response.json").read_text())
    record = lesswrong.post_record(data["data"]["post"]["result"], "lesswrong")
    assert record.title == "AGI Ruin: A List of Lethalities" and record.date == "2022-06-05"
    assert record.authors == ["Eliezer Yudkowsky"] and len(record.abstract) <= 1500


# -- OpenAlex and Google Scholar --------------------------------------------------------------------


def test_openalex_pages_with_a_cursor_and_rebuilds_abstracts():
    def handler(request):
        if request.url.path == "/authors":
            return httpx.Response(200, json={"results": [{"id": "https://openalex.org/A5000000001"}]})
        cursor = request.url.params["cursor"]
        work = {
            "id": "https://openalex.org/W1",
            "display_name": "Sparse probing",
            "publication_year": 2023,
            "publication_date": "2023-05-02",
            "doi": "https://doi.org/10.1/abc",
            "type": "article",
            "authorships": [{"author": {"display_name": "Wes Gurnee"}}],
            "abstract_inverted_index": {"We": [0], "probe": [1], "neurons": [2]},
            "locations": [{"landing_page_url": "https://arxiv.org/abs/2305.01610v2"}],
        }
        if cursor == "*":
            return httpx.Response(200, json={"results": [work], "meta": {"next_cursor": "c2"}})
        return httpx.Response(200, json={"results": [], "meta": {"next_cursor": None}})

    http, _ = polite(handler)
    author = openalex.author_id(http, "Wes Gurnee", "https://api.openalex.org")
    records = list(openalex.works(http, author, "https://api.openalex.org"))
    assert author == "A5000000001" and len(records) == 1
    assert records[0].ids == {"openalex": "W1", "doi": "10.1/abc", "arxiv": "2305.01610"}
    assert records[0].abstract == "We probe neurons"


@pytest.fixture
def scholar_pages(monkeypatch, tmp_path):
    pytest.importorskip("scholarly")
    from scholarly._navigator import Navigator

    monkeypatch.setenv("KB_CACHE", str(tmp_path))
    pages = {}

    def fake_get_page(self, url, premium=False):
        for key, answer in pages.items():
            if key in url:
                if isinstance(answer, Exception):
                    raise answer
                return answer
        raise AssertionError(f"unexpected request {url}")

    monkeypatch.setattr(Navigator, "_get_page", fake_get_page)
    monkeypatch.setattr("time.sleep", lambda s: None)
    return pages


def test_scholar_profile_gives_the_person_and_every_publication(scholar_pages):
    from importers import scholar

    scholar_pages["user=FIXTUREid01AAAAJ"] = (FIXTURES / "scholar_profile.html").read_text()
    owner, works = scholar.fetch_profile("FIXTUREid01AAAAJ")
    assert (owner.name, owner.scholar_id, owner.affiliation, owner.homepage) == (
        "Ada Lovelace",
        "FIXTUREid01AAAAJ",
        "Analytical Engine Institute",
        "https://ada.example/",
    )
    assert [w.title for w in works] == [
        "Representation Engineering: A Top-Down Approach to AI Transparency",
        "Notes on the Analytical Engine",
    ]
    assert works[0].year == 2023 and works[0].ids == {"scholar": "FIXTUREid01AAAAJ:u5HHmVD_uO8C"}
    assert works[0].more_authors  # the profile lists its owner; the rest needs --fill


def test_a_blocked_scholar_import_says_what_to_do(scholar_pages):
    from scholarly._proxy_generator import MaxTriesExceededException

    from importers import scholar

    scholar_pages["user=FIXTUREid01AAAAJ"] = MaxTriesExceededException("Cannot Fetch from Google Scholar.")
    with pytest.raises(SourceError) as e:
        scholar.fetch_profile("FIXTUREid01AAAAJ")
    text = str(e.value)
    assert "blocking automated requests" in text and "nothing was recorded" in text
    assert "kb import openalex" in text and "resume" in text


@pytest.mark.skipif(not (REAL / "scholar").exists(), reason="no ../shared reference responses")
def test_googles_403_page_is_not_a_profile(scholar_pages):
    from importers import scholar

    scholar_pages["user=FIXTUREid01AAAAJ"] = (REAL / "scholar" / "google_403_forbidden.html").read_text()
    with pytest.raises(SourceError, match="could not be read completely"):
        scholar.fetch_profile("FIXTUREid01AAAAJ")


def test_empty_answers_are_empty_not_errors():
    total, records = arxiv.parse(
        b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:os="http://a9.com/-/spec/opensearch/1.1/">'
        b"<os:totalResults>0</os:totalResults></feed>"
    )
    assert (total, records) == (0, [])
    http, _ = polite(graphql(posts=0))
    assert list(lesswrong.Client(http).posts_by_user("fabien-roger")) == []
    empty_rss = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    assert feeds.parse(empty_rss, "https://quiet.example/feed") == []
