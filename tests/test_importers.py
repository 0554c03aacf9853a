"""Importers against hand-made responses (httpx.MockTransport), and the real shapes in ../shared when present."""

import json
import re
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
    records = list(arxiv.fetch(http, {"query": "ti:probe", "base_url": "https://export.arxiv.org/api/query"}))
    assert len(records) == 120 and seen == [0, 100]
    assert slept and slept[0] == pytest.approx(3.0, abs=0.1)  # arXiv's one request every three seconds
    assert http.http.headers["user-agent"].startswith("safety-kb/")


def test_retry_after_is_honoured_on_429():
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, text="ok")])
    http, slept = polite(lambda request: next(answers))
    assert http.get("https://api.example/x") == b"ok"
    assert 7 in slept


def test_a_500_mid_paging_keeps_the_pages_already_read():
    from kb.ingest.imports import collect

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
    fetched = collect(
        "arxiv", lambda: arxiv.fetch(http, {"query": "x", "base_url": "https://export.arxiv.org/api/query"})
    )
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
    first = list(feeds.fetch(http, {"url": "https://lab.example/feed.xml"}))
    second = list(feeds.fetch(http, {"url": "https://lab.example/feed.xml"}))
    assert [r.title for r in first] == [r.title for r in second]
    assert len(calls) == 2 and calls[1]["if-none-match"] == '"v1"'
    fresh, _ = polite(handler, cache_dir=tmp_path)  # within a day: no request at all
    list(feeds.fetch(fresh, {"url": "https://lab.example/feed.xml"}))
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


def graphql(posts=60, comments=None, errors=None, sent=None, status=200):
    """A handler answering the queries the importer sends, paging like the real API; `sent` collects them."""

    def handler(request):
        body = json.loads(request.content)
        if sent is not None:
            sent.append(body)
        if errors:
            return httpx.Response(status, json={"errors": [{"message": errors}]})
        query, variables = body["query"], body.get("variables") or {}
        if "GetUserBySlug" in query:
            found = USER if variables["slug"] == USER["slug"] else None
            return httpx.Response(200, json={"data": {"GetUserBySlug": found}})
        if "user(" in query:
            found = {"result": USER} if variables["id"] == USER["_id"] else None
            return httpx.Response(200, json={"data": {"user": found}})
        if "tags(" in query:
            return httpx.Response(200, json={"data": {"tags": {"results": [{"_id": "tag1", "name": "Probing"}]}}})
        window = slice(variables["offset"], variables["offset"] + variables["limit"])
        if "comments(" in query:
            return httpx.Response(200, json={"data": {"comments": {"results": (comments or [])[window]}}})
        return httpx.Response(200, json={"data": {"posts": {"results": [post(i) for i in range(posts)][window]}}})

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


def test_a_linkpost_discusses_the_paper_it_links_to_though_its_text_names_no_id():
    # the forum's `url` of a linkpost ("Paper: Understanding and Controlling a Maze-Solving Policy Network" links to
    # arxiv.org/abs/2310.08043) is kept as what the post discusses, before what its text links to
    linkpost = {
        **post(1),
        "url": "https://arxiv.org/abs/2310.08043v1",
        "htmlBody": '<a href="https://doi.org/10.1234/abc">x</a>',
    }
    links = [(link.type, link.scheme, link.value) for link in lesswrong.post_record(linkpost, "lesswrong").links]
    assert links == [("discusses", "arxiv", "2310.08043"), ("discusses", "doi", "10.1234/abc")]
    assert lesswrong.post_record({**post(2), "url": None}, "lesswrong").links == []  # not a linkpost


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


# -- arXiv on its real recorded answers (../shared) ------------------------------------------------

RECORDED = REAL / "arxiv" / "recorded"


def recorded_arxiv(asked: list | None = None):
    """A handler serving arXiv's real recorded answers, matched on the query the importer sends."""
    if not RECORDED.exists():
        pytest.skip("no ../shared reference responses")
    answers = {}
    for path in RECORDED.glob("*.json"):
        answer = json.loads(path.read_text())
        params = httpx.URL(answer["url"]).params
        key = (params.get("id_list", ""), params.get("search_query", ""), params["start"], params["max_results"])
        answers[key] = answer

    def handler(request):
        p = request.url.params
        key = (p.get("id_list", ""), p.get("search_query", ""), p["start"], p["max_results"])
        if asked is not None:
            asked.append(key)
        if key not in answers:
            raise AssertionError(f"no recorded answer for {key}")
        return httpx.Response(answers[key]["status_code"], content=answers[key]["body"].encode())

    return handler


def arxiv_import(handler, **spec):
    from kb.ingest.imports import collect

    http, _ = polite(handler, retries=0)
    return collect("arxiv", lambda: arxiv.fetch(http, {"base_url": "https://export.arxiv.org/api/query", **spec}))


def test_arxiv_ids_that_do_not_exist_are_named_and_the_found_ones_kept(monkeypatch):
    # 0808.05394 is well-formed but unknown: arXiv answers the pair with one entry and says nothing of the other
    fetched = arxiv_import(recorded_arxiv(), ids=["0808.05394", "1707.08567"])
    monkeypatch.setattr(arxiv, "PAGE", 100)
    assert [r.ids["arxiv"] for r in fetched.records] == ["1707.08567"]
    assert "1 of 2 id(s) not found on arXiv: 0808.05394" in fetched.error


def test_an_arxiv_id_of_the_wrong_shape_is_named_without_asking_arxiv():
    asked = []
    fetched = arxiv_import(recorded_arxiv(asked), ids=["abc", "1605.08386"])
    assert [r.ids["arxiv"] for r in fetched.records] == ["1605.08386"] and "not arXiv ids: 'abc'" in fetched.error
    assert [a[0] for a in asked] == ["1605.08386"]


def test_arxivs_own_error_for_a_malformed_id_is_shown_despite_its_http_400():
    fetched = arxiv_import(recorded_arxiv(), ids=["abc"])
    assert fetched.records == [] and "not arXiv ids: 'abc'" in fetched.error
    answer = json.loads(next(RECORDED.glob("id_abc_*.json")).read_text())
    http, _ = polite(lambda r: httpx.Response(400, content=answer["body"].encode()), retries=0)
    with pytest.raises(SourceError, match="arXiv reports an error: incorrect id format for abc"):
        arxiv._get(http, arxiv.BASE_URL, {"id_list": "abc"})


def test_an_empty_arxiv_answer_is_said_as_such():
    fetched = arxiv_import(recorded_arxiv(), ids=["0000.0000"])
    assert fetched.records == [] and "1 of 1 id(s) not found on arXiv: 0000.0000" in fetched.error
    empty = (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
        b"<opensearch:totalResults>0</opensearch:totalResults></feed>"
    )
    fetched = arxiv_import(lambda r: httpx.Response(200, content=empty), query="ti:nothingmatchesthis")
    assert fetched.records == [] and "no work matching the query 'ti:nothingmatchesthis'" in fetched.error


@pytest.mark.parametrize(
    "asked, arxiv_id, updated",
    [
        ("astro-ph/0601001", "astro-ph/0601001", "2006-01-02"),
        ("quant-ph/0201082v1", "quant-ph/0201082", None),
        ("2104.12255v1", "2104.12255", "2021-04-20"),
    ],
)
def test_old_style_and_versioned_ids_are_found(asked, arxiv_id, updated):
    fetched = arxiv_import(recorded_arxiv(), ids=[asked])
    assert fetched.error is None and [r.ids["arxiv"] for r in fetched.records] == [arxiv_id]
    record = fetched.records[0]
    assert record.url == f"https://arxiv.org/abs/{arxiv_id}" and record.categories
    if updated:
        assert record.updated == updated


def test_categories_primary_first_latest_version_date_and_affiliations_are_kept():
    fetched = arxiv_import(recorded_arxiv(), ids=["astro-ph/0601001"])
    gould = fetched.records[0]
    assert gould.categories == ["astro-ph"] and gould.updated == "2006-01-02"
    assert gould.affiliations == {
        "Andrew Gould": ["Ohio State"],
        "Susan Dorsher": ["Ohio State"],
        "B. Scott Gaudi": ["CfA"],
        "Andrzej Udalski": ["Warsaw University Observatory"],
    }
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom"><entry>'
        b"<id>http://arxiv.org/abs/2310.01405v3</id><title>RepE</title><published>2023-10-02T17:59:07Z</published>"
        b"<updated>2023-10-10T04:30:00Z</updated><category term='cs.LG'/><category term='cs.AI'/>"
        b"<category term='cs.CL'/><arxiv:primary_category term='cs.AI'/></entry></feed>"
    )
    record = arxiv.parse(body)[1][0]
    assert record.categories == ["cs.AI", "cs.LG", "cs.CL"] and (record.date, record.updated) == (
        "2023-10-02",
        "2023-10-10",
    )


def test_double_encoded_utf8_in_a_real_arxiv_answer_is_repaired():
    fetched = arxiv_import(recorded_arxiv(), ids=["1707.08567"])
    assert "Dirk Wübben" in fetched.records[0].authors
    assert not any(re.search(r"[\x80-\x9f]|Ã", a) for a in fetched.records[0].authors)


def test_a_real_query_is_paged_without_repeats(monkeypatch):
    monkeypatch.setattr(arxiv, "PAGE", 10)
    asked = []
    fetched = arxiv_import(recorded_arxiv(asked), query="testing", limit=60)
    assert [a[2] for a in asked] == ["0", "10", "20", "30", "40", "50"]
    ids = [r.ids["arxiv"] for r in fetched.records]
    assert len(ids) == 60 == len(set(ids)) and fetched.error is None


def test_overlapping_pages_give_each_work_once(monkeypatch):
    """arXiv's pages move when results are added: the recorded start=0 and start=5 pages overlap by 10."""
    if not RECORDED.exists():
        pytest.skip("no ../shared reference responses")
    first = json.loads(next(RECORDED.glob("q_testing_s0_m15_*.json")).read_text())["body"].encode()
    shifted = json.loads(next(RECORDED.glob("q_testing_s5_m15_*.json")).read_text())["body"].encode()
    monkeypatch.setattr(arxiv, "PAGE", 15)
    answers = iter([first, shifted])
    fetched = arxiv_import(lambda r: httpx.Response(200, content=next(answers)), query="testing", limit=30)
    ids = [r.ids["arxiv"] for r in fetched.records]
    assert len(ids) == len(set(ids)) == 20  # 15 + the 5 new ones of the second page


# -- feeds: links, encodings, advice ----------------------------------------------------------------

RSS = """<?xml version="1.0" encoding="{encoding}"?>
<rss version="2.0"><channel><title>Lab</title><link>https://lab.example/</link>
<item><title>{title}</title><link>{link}</link><description>{text}</description>
<pubDate>Mon, 08 Jun 2026 10:00:00 GMT</pubDate><guid>g1</guid></item>
<item><title>Second</title><link>https://lab.example/2</link><pubDate>Tue, 09 Jun 2026 10:00:00 GMT</pubDate></item>
</channel></rss>"""


def rss(encoding="utf-8", title="First post", link="https://lab.example/1", text="Words.") -> str:
    return RSS.format(encoding=encoding, title=title, link=link, text=text)


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,hi", "mailto:a@b.example", "ftp://x/y"])
def test_a_non_http_link_is_dropped_with_a_warning_and_the_work_kept(link):
    records, notices = feeds.parse_all(rss(link=link).encode(), "https://lab.example/feed")
    assert [r.title for r in records] == ["First post", "Second"]
    assert records[0].url is None and records[0].abstract == "Words." and records[0].date == "2026-06-08"
    assert len(notices) == 1 and "item 1 “First post”" in str(notices[0]) and "not http(s)" in str(notices[0])


def test_a_relative_link_is_resolved_against_the_feed():
    records, notices = feeds.parse_all(rss(link="/posts/1").encode(), "https://lab.example/blog/feed")
    assert records[0].url == "https://lab.example/posts/1" and notices == []


def test_bytes_invalid_in_the_declared_encoding_are_reported_with_the_item():
    body = rss(title="Probing “well”", text="fine").encode("utf-8").replace("“".encode(), b"\x93")
    records, notices = feeds.parse_all(body, "https://lab.example/feed")
    assert records[0].title == "Probing “well”"  # the stray cp1252 quote read as what it was meant to be
    assert len(notices) == 1
    assert "item 1 “Probing “well”" in str(notices[0]) and "bytes invalid in utf-8" in str(notices[0])
    assert "line 3" in str(notices[0])


@pytest.mark.parametrize("encoding", ["aTF-8", "utf-\x85", "rot13", "utf-16"])
def test_a_wrong_encoding_declaration_is_read_as_utf8_with_a_notice(encoding):
    records, notices = feeds.parse_all(rss(encoding=encoding, title="Café").encode("utf-8"), "https://f.example/x")
    assert [r.title for r in records] == ["Café", "Second"]
    assert encoding == "utf-16" or any("read as UTF-8" in str(n) for n in notices)


def test_a_feed_in_another_declared_encoding_is_decoded_in_it():
    records, notices = feeds.parse_all(rss(encoding="iso-8859-1", title="Café").encode("latin-1"), "https://f/x")
    assert records[0].title == "Café" and notices == []


def test_resume_advice_only_where_running_again_resumes():
    http, _ = polite(lambda r: httpx.Response(404), retries=0)
    with pytest.raises(SourceError) as e:
        http.get("https://lab.example/feed")
    assert "resume" not in str(e.value)
    http, _ = polite(lambda r: httpx.Response(503), retries=0)
    with pytest.raises(SourceError) as e:
        http.get("https://lab.example/feed")
    assert "run the same command again later to resume" in str(e.value)
    with pytest.raises(SourceError) as e:
        feeds.parse(b"<html><body>captcha</body></html>", "https://lab.example/feed")
    assert "resume" not in str(e.value)


def test_a_feed_date_outside_the_calendar_is_no_date():
    body = rss().replace("Mon, 08 Jun 2026 10:00:00 GMT", "0000-01-01T00:00:00Z").encode()
    records, _ = feeds.parse_all(body, "https://lab.example/feed")
    assert records[0].date is None and records[0].title == "First post"


# -- LessWrong / AF: every query against the forum's real schema ------------------------------------

SCHEMA = REAL / "lesswrong" / "forummagnum_schema.gql"


@pytest.fixture(scope="module")
def schema():
    if not SCHEMA.exists():
        pytest.skip("no ../shared reference responses")
    graphql = pytest.importorskip("graphql")
    # the published schema defines ResearchConversationOutput twice; the rest is what the server checks against
    return graphql.build_schema(SCHEMA.read_text(), assume_valid_sdl=True)


def problems(schema, body: dict) -> list[str]:
    from graphql import parse, specified_rules, validate
    from graphql.execution.values import get_variable_values
    from graphql.validation import NoDeprecatedCustomRule

    document = parse(body["query"])
    found = [e.message for e in validate(schema, document, [*specified_rules, NoDeprecatedCustomRule])]
    if not found:
        definitions = document.definitions[0].variable_definitions
        coerced = get_variable_values(schema, definitions, body.get("variables") or {})
        found += [e.message for e in coerced] if isinstance(coerced, list) else []
    return found


def test_every_query_the_importer_sends_is_valid_against_the_real_schema(schema):
    sent = []
    comment = {"_id": "cmt00000000000001", "postId": "post0000000000001", "postedAt": "2023-11-09T00:00:00Z"}
    http, _ = polite(graphql(posts=3, comments=[comment], sent=sent))
    list(lesswrong.fetch(http, {"user": "fabien-roger", "comments": True, "tag": "probing", "limit": 10}))
    list(lesswrong.Client(http).posts_by_user(USER["_id"]))  # an id, not a slug: the second way to find a user
    kinds = {re.search(r"\{\s*(\w+)\(", b["query"]).group(1) for b in sent}
    assert kinds == {"GetUserBySlug", "user", "posts", "comments", "tags"}
    for body in sent:
        assert problems(schema, body) == [], body["query"]


def test_the_schema_check_catches_the_old_invalid_tag_query(schema):
    old = {"query": "query($slug: String) { tag(input: {selector: {slug: $slug}}) { result { _id name } } }"}
    assert any("slug" in p for p in problems(schema, old))
    deprecated = {"query": "query($terms: JSON) { posts(input: {terms: $terms}) { results { _id } } }"}
    assert any("deprecated" in p for p in problems(schema, deprecated))


def test_posts_by_tag_find_the_tag_by_slug():
    sent = []
    http, _ = polite(graphql(posts=3, sent=sent))
    records = list(lesswrong.Client(http).posts_by_tag("probing"))
    assert len(records) == 3
    assert sent[0]["variables"] == {"slug": "probing"} and sent[1]["variables"]["terms"] == {"tagId": "tag1"}


@pytest.mark.parametrize("status", [200, 400, 500])
def test_graphql_error_messages_are_shown_whatever_the_status(status):
    message = 'Unknown argument "input" on field "Query.posts".'
    http, _ = polite(graphql(errors=message, status=status), retries=0)
    with pytest.raises(SourceError) as e:
        list(lesswrong.Client(http).posts_by_user("fabien-roger"))
    assert f"GraphQL error: {message}" in str(e.value)
    if status == 400:
        assert "resume" not in str(e.value)  # a refused query is refused again: no advice to re-run


def test_two_comments_by_one_user_on_one_post_have_different_titles():
    base = {"postId": "post0000000000001", "user": USER, "post": post(1)}
    first = lesswrong.comment_record(
        {**base, "_id": "c1", "postedAt": "2023-11-10T09:15:00Z", "htmlBody": "<p>Mostly, yes.</p>"}, "lesswrong"
    )
    second = lesswrong.comment_record(
        {**base, "_id": "c2", "postedAt": "2023-11-10T18:40:00Z", "htmlBody": "<p>Mostly, yes.</p>"}, "lesswrong"
    )
    third = lesswrong.comment_record(
        {**base, "_id": "c3", "postedAt": "2023-11-10T18:40:00Z", "htmlBody": "<p>On reflection, no.</p>"}, "lesswrong"
    )
    assert len({first.title, second.title, third.title}) == 3
    assert first.title == "Fabien Roger on “Post 1”, 2023-11-10 09:15 UTC: Mostly, yes."


def test_forum_control_characters_are_removed_at_import():
    record = lesswrong.post_record({**post(1), "title": "Coup\x1b]0;pwned\x07 probes\x1b[31m"}, "lesswrong")
    assert record.title == "Coup probes"


# -- text repair: one function for every importer ----------------------------------------------------


@pytest.mark.parametrize(
    "raw, fixed",
    [
        ("Dirk WÃ¼bben", "Dirk Wübben"),  # UTF-8 read as Latin-1
        ("CafÃ©\u0085 society", "Café… society"),  # ... and as cp1252, with its C1 byte
        ("Probes\x1b[31m in red\x1b[0m", "Probes in red"),
        ("a\x00b\x07c\x7fd\x1b]8;;javascript:x\x07e", "abcde"),
        ("\x93quoted\x94", "“quoted”"),  # cp1252 quotes read as Latin-1: C1 characters that meant something
        ("  two\n\tlines  ", "two lines"),
        ("“quoted” &amp; kept", "“quoted” &amp; kept"),  # curly quotes and entities are the source's own
        ("right\u202eto left", "rightto left"),
        ("left\u200e-to-right\u200f and arabic\u061c marks", "left-to-right and arabic marks"),
        # ESC's sequences go whole even where ftfy repairs the text (it would take the ESC and leave the rest)
        ("café \x1b]52;c;ZWNobyBoaQ==\x07 x", "café x"),
        ("José \x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\ y", "José click y"),
    ],
)
def test_one_line_text_is_repaired(raw, fixed):
    from importers.text import clean

    assert clean(raw) == fixed


def test_prose_keeps_its_paragraphs():
    from importers.text import clean

    assert clean("First  para\ngoes on.\n\n\n Second\x1b[1m.", one_line=False) == "First para goes on.\n\nSecond."


def test_every_importer_repairs_its_records_with_the_same_function():
    import inspect

    from importers import arxiv, feeds, lesswrong, openalex, scholar

    for module in (arxiv, feeds, lesswrong, openalex, scholar):
        assert "repaired(" in inspect.getsource(module), module.__name__


# -- the seam: one entry shape, one table ------------------------------------------------------------


def test_every_source_has_the_same_entry_shape():
    import importlib
    import inspect

    from kb.store.sources import SOURCES

    for kind, source in SOURCES.items():
        module = importlib.import_module(f"importers.{source.module}")
        assert list(inspect.signature(module.fetch).parameters) == ["http", "spec"], kind
        assert list(inspect.signature(module.label).parameters) == ["spec"], kind


def test_an_unknown_source_type_or_a_missing_key_is_a_clear_error():
    from kb.ingest.imports import fetch_source

    assert "unknown source type 'gopher'" in fetch_source({"type": "gopher"}).error
    assert "a feed source needs 'url'" in fetch_source({"type": "feed"}).error


def test_a_failing_source_is_named_as_sources_toml_writes_it_without_the_cache_folder(tmp_path):
    from kb.ingest.imports import fetch_source

    failed = fetch_source({"type": "feed", "limit": 3}, cache_dir=tmp_path / "private-cache")
    assert "'limit': 3" in failed.name and "needs 'url'" in failed.error
    assert "private-cache" not in failed.name + failed.error


def test_fetch_source_gives_sync_and_import_the_same_defaults_and_environment(monkeypatch):
    from kb.ingest import imports

    seen = []

    def handler(request):
        seen.append(str(request.url))
        return httpx.Response(200, content=(FIXTURES / "arxiv_ids.xml").read_bytes())

    settings = {"KB_ARXIV_URL": "https://mirror.example/api/query"}  # as the Workspace reads them
    monkeypatch.setattr(imports, "HTTP_OPTIONS", {"default_interval": 0, "cache_dir": None})
    fetched = imports.fetch_source(
        {"type": "arxiv", "ids": ["2310.01405", "2401.99999"]}, httpx.MockTransport(handler), settings=settings
    )
    assert fetched.name == "arxiv" and len(fetched.records) == 2 and fetched.error is None
    assert seen[0].startswith("https://mirror.example/api/query?")


def test_notices_reach_the_fetched_batch_and_records_are_kept():
    from kb.ingest import imports

    body = rss(link="javascript:void(0)").encode()
    fetched = imports.collect(
        "feed x",
        lambda: feeds.fetch(polite(lambda r: httpx.Response(200, content=body))[0], {"url": "https://f.example/x"}),
    )
    assert len(fetched.records) == 2 and len(fetched.notices) == 1 and fetched.error is None


# -- a server that repeats itself never makes an import loop -----------------------------------------


def test_a_repeating_answer_stops_every_pager(monkeypatch):
    page = (
        (FIXTURES / "arxiv_ids.xml")
        .read_bytes()
        .replace(b"<opensearch:totalResults>2", b"<opensearch:totalResults>900")
    )
    http, _ = polite(lambda r: httpx.Response(200, content=page))
    assert len(list(arxiv.fetch(http, {"query": "x", "limit": None}))) == 2

    http, _ = polite(
        lambda r: httpx.Response(
            200, json={"data": {"GetUserBySlug": USER, "posts": {"results": [post(i) for i in range(50)]}}}
        )
    )
    assert len(list(lesswrong.Client(http).posts_by_user("fabien-roger"))) == 50

    work = {"id": "https://openalex.org/W1", "display_name": "Sparse probing", "type": "article"}
    answer = {"results": [work], "meta": {"next_cursor": "same"}}
    http, _ = polite(lambda r: httpx.Response(200, json=answer))
    assert len(list(openalex.works(http, "A1", "https://api.openalex.org"))) == 2  # "*", then "same" once


def test_every_source_of_the_table_is_a_module_that_keeps_the_importer_contract():
    import importlib

    from importers.records import Importer
    from kb.store.sources import SOURCES

    modules = {name: importlib.import_module(f"importers.{source.module}") for name, source in SOURCES.items()}
    assert [name for name, module in modules.items() if not isinstance(module, Importer)] == []
    assert not isinstance(importlib.import_module("importers.text"), Importer)  # a helper module is no source
