"""Any answer a source can give ends in records or in a SourceError that names the source: never another exception.

The answers are mutated real ones (../shared when present, the project's fixtures always): bytes flipped, inserted,
deleted and cut, hostile pieces spliced in (`encoding="utf-\\x85"`, a non-numeric totalResults, year 0), and for the
JSON sources values replaced by values of every other type. Derandomized, a few hundred examples each; for the
long run: KB_FUZZ_EXAMPLES=10000 pytest tests/test_importers_fuzz.py (see CONTRIBUTING.md).
"""

import copy
import json
import os
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers import arxiv, feeds, lesswrong, openalex
from importers.http import Polite, client
from importers.records import SourceError, WorkRecord
from tests.conftest import SHARED

EXAMPLES = int(os.environ.get("KB_FUZZ_EXAMPLES", "300"))
fuzz = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FIXTURES = Path(__file__).parent / "fixtures"
REAL = SHARED / "reference-responses"


def _files(*paths: Path) -> list[bytes]:
    return [p.read_bytes() for p in paths if p.exists()]


def _recorded_arxiv() -> list[bytes]:
    folder = REAL / "arxiv" / "recorded"
    names = ["id_astro-ph_0601001", "id_0808.05394_1707.08567", "id_abc", "q_testing_s0_m10", "id_0000.0000"]
    return [
        json.loads(p.read_text())["body"].encode()
        for name in names
        for p in sorted(folder.glob(f"{name}_*.json"))[:1]
        if folder.exists()
    ]


FEEDS = _files(
    FIXTURES / "blog_rss.xml",
    FIXTURES / "blog_atom.xml",
    FIXTURES / "blog_rdf.xml",
    REAL / "feeds" / "anthropic_red_rss.xml",
)
ARXIV = _files(FIXTURES / "arxiv_ids.xml", FIXTURES / "arxiv_error.xml") + _recorded_arxiv()

XML_PIECES = [
    b'<?xml version="1.0" encoding="utf-\x85"?>',
    b"<?xml version='1.0' encoding='aTF-8'?>",
    b'<?xml version="1.0" encoding="utf-16"?>',
    b'<?xml version="1.0" encoding="rot13"?>',
    b"<opensearch:totalResults>many</opensearch:totalResults>",
    b"<opensearch:totalResults>\xd9\xa3</opensearch:totalResults>",
    b"<published>0000-01-01T00:00:00Z</published>",
    b"<updated>2024-02-30T00:00:00Z</updated>",
    b"<pubDate>Mon, 01 Jan 0000 00:00:00 GMT</pubDate>",
    b"<id>http://arxiv.org/abs/</id>",
    b"<id>http://arxiv.org/api/errors#x</id>",
    b"<link>javascript:alert(1)</link>",
    b"<link href='data:text/html,x'/>",
    b"<title></title>",
    b"<entry></entry>",
    b"<item></item>",
    b"<!DOCTYPE x [<!ENTITY a 'aaaaaaaa'><!ENTITY b '&a;&a;&a;&a;'>]>",
    b"&b;",
    b"&#0;",
    b"&#x1b;[31m",
    b"<![CDATA[",
    b"]]>",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\x93\x94\x85",
    "Ã©Ã¼".encode(),
    b"<html><body>captcha</body></html>",
]


def mutate(seeds: list[bytes], pieces: list[bytes]):
    """A real answer with up to six edits: an insertion, a replacement, a deletion or a cut, anywhere."""
    edit = st.tuples(
        st.sampled_from(["insert", "replace", "delete", "cut"]),
        st.integers(0, 1 << 20),
        st.one_of(st.sampled_from(pieces), st.binary(max_size=6)),
    )

    def apply(args):
        body, edits = args
        for op, at, piece in edits:
            at %= len(body) + 1
            if op == "insert":
                body = body[:at] + piece + body[at:]
            elif op == "replace":
                body = body[:at] + piece + body[at + len(piece) :]
            elif op == "delete":
                body = body[:at] + body[at + 1 + len(piece) * 8 :]
            else:
                body = body[:at]
        return body

    return st.tuples(st.sampled_from(seeds), st.lists(edit, max_size=6)).map(apply)


def only_source_errors(call, source: str):
    try:
        result = call()
    except SourceError as e:
        assert str(e).startswith(source), str(e)
        return None
    return result


@fuzz
@given(mutate(FEEDS, XML_PIECES))
def test_any_feed_bytes_give_records_or_a_source_error(body):
    result = only_source_errors(lambda: feeds.parse_all(body, "https://lab.example/feed"), "feed https://lab.example")
    if result:
        records, notices = result
        assert all(isinstance(r, WorkRecord) and r.title for r in records)
        assert all(r.url is None or r.url.startswith(("http://", "https://")) for r in records)


@fuzz
@given(mutate(ARXIV, XML_PIECES))
def test_any_arxiv_bytes_give_records_or_a_source_error(body):
    result = only_source_errors(lambda: arxiv.parse(body), "arxiv")
    if result:
        total, records = result
        assert total >= 0 and all(r.title and r.ids["arxiv"] for r in records)


# -- the JSON sources: mutated bytes, and values swapped for values of any type ----------------------

JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True),
        st.text(max_size=20),
        st.sampled_from(["0000-00-00", "2024-02-30T00:00:00Z", "\x1b]0;x\x07", "Ã©", "javascript:x", ""]),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def swap_values(document, data) -> object:
    """The document with a few of its values (at any depth) replaced by generated JSON."""
    document = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, 4))):
        path, node = [], document
        while isinstance(node, (dict, list)) and node and data.draw(st.booleans()):
            key = data.draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
            path.append((node, key))
            node = node[key]
        if path:
            parent, key = path[-1]
            parent[key] = data.draw(JSON_VALUES)
        else:
            document = data.draw(JSON_VALUES) if data.draw(st.integers(0, 9)) == 0 else document
    return document


def answering(body: bytes) -> Polite:
    return Polite(
        client(httpx.MockTransport(lambda request: httpx.Response(200, content=body))),
        "test",
        sleep=lambda s: None,
        cache_dir=None,
        retries=0,
    )


def _forum_post() -> dict:
    path = REAL / "lesswrong" / "graphql_single_post_response.json"
    if path.exists():
        found = json.loads(path.read_text())["data"]["post"]["result"]
        found["htmlBody"] = found.get("htmlBody", "")[:3000]
        return found
    user = {"_id": "uid00000000000001", "slug": "a", "username": "A", "displayName": "A"}
    return {"_id": "post0000000000001", "slug": "p", "title": "P", "pageUrl": "https://www.lesswrong.com/posts/p",
            "postedAt": "2023-11-08T10:00:00.000Z", "af": True, "htmlBody": "<p>x</p>", "user": user}  # fmt: skip


FORUM_POST = _forum_post()
FORUM_COMMENT = {
    "_id": "cmt00000000000001",
    "postId": FORUM_POST["_id"],
    "parentCommentId": "cmt00000000000000",
    "postedAt": "2023-11-09T00:00:00Z",
    "af": False,
    "htmlBody": "<p>Reply.</p>",
    "user": FORUM_POST.get("user"),
    "post": FORUM_POST,
    "parentComment": {"_id": "cmt00000000000000", "postId": FORUM_POST["_id"], "htmlBody": "<p>Q</p>"},
}


def forum(posts_answer: bytes, comments_answer: bytes) -> Polite:
    def handler(request):
        query = json.loads(request.content)["query"]
        if "GetUserBySlug" in query:
            return httpx.Response(200, json={"data": {"GetUserBySlug": {"_id": "uid00000000000001"}}})
        return httpx.Response(200, content=comments_answer if "comments(" in query else posts_answer)

    return Polite(client(httpx.MockTransport(handler)), "test", sleep=lambda s: None, cache_dir=None, retries=0)


@fuzz
@given(st.data())
def test_any_forum_answer_gives_records_or_a_source_error(data):
    posts = {"data": {"posts": {"results": [FORUM_POST]}}}
    comments = {"data": {"comments": {"results": [FORUM_COMMENT]}}}
    target = data.draw(st.sampled_from(["posts", "comments"]))
    mutated = swap_values(posts if target == "posts" else comments, data)
    body = json.dumps(mutated).encode()
    if data.draw(st.booleans()):
        body = data.draw(mutate([body], [b"\x00", b"\xff", b'"', b"}", b"\\u001b", b"null", b"[]"]))
    answers = (body, json.dumps(comments).encode()) if target == "posts" else (json.dumps(posts).encode(), body)
    spec = {"user": "someone", "comments": True, "limit": 5}
    records = only_source_errors(lambda: list(lesswrong.fetch(forum(*answers), spec)), "lesswrong")
    for r in records or []:
        assert isinstance(r, WorkRecord) and r.title and "\x1b" not in r.title


def _openalex_answer() -> dict:
    path = REAL / "openalex" / "works_search.json"
    if path.exists():
        found = json.loads(path.read_text())
        return {"meta": {**found["meta"], "next_cursor": None}, "results": found["results"][:4]}
    work = {"id": "https://openalex.org/W1", "display_name": "T", "doi": "https://doi.org/10.1/x", "type": "article",
            "authorships": [{"author": {"display_name": "A"}}], "abstract_inverted_index": {"a": [0]},
            "locations": [{"landing_page_url": "https://arxiv.org/abs/2301.00001v2"}]}  # fmt: skip
    return {"meta": {"next_cursor": None}, "results": [work]}


OPENALEX = _openalex_answer()


@fuzz
@given(st.data())
def test_any_openalex_answer_gives_records_or_a_source_error(data):
    body = json.dumps(swap_values(OPENALEX, data)).encode()
    if data.draw(st.booleans()):
        body = data.draw(mutate([body], [b"\x00", b"\xff", b'"', b"}", b"null", b"[]", b"1e999"]))
    records = only_source_errors(
        lambda: list(openalex.works(answering(body), "A1", "https://api.openalex.org")), "openalex"
    )
    for r in records or []:
        assert isinstance(r, WorkRecord) and r.title
