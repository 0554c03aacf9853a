"""Input from the world's feeds and servers: one bad item fails only itself, with its place named; an answer too
large (received or decompressed) is refused while it streams; one request ends within a total time, and a terminal
hears how a slow one goes. No test touches the internet: httpx.MockTransport with bodies built here."""

from __future__ import annotations

import gzip
import html

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers import feeds
from importers.http import Polite, client
from importers.records import SourceError
from kb.ingest import imports
from kb.ingest.merging import Merger
from kb.store.datadir import Dataset

FEED = "https://blog.example/feed.xml"


def rss(*items: str, declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return (f'{declaration}<rss version="2.0"><channel><title>Blog</title>{"".join(items)}</channel></rss>').encode()


def item(title: str, link: str = "https://blog.example/a", guid: str | None = None, summary: str = "") -> str:
    guid = guid or link
    return (
        f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>"
        f"<description>{summary}</description></item>\n"
    )


def atom(*entries: str) -> bytes:
    return ('<feed xmlns="http://www.w3.org/2005/Atom"><title>Lab</title>' + "".join(entries) + "</feed>").encode()


def polite(handler, **kw) -> Polite:
    kw.setdefault("cache_dir", None)
    return Polite(client(httpx.MockTransport(handler)), "test", sleep=lambda s: None, default_interval=0, **kw)


# -- one bad item fails only itself ----------------------------------------------------------------------------------


def test_an_atom_item_whose_title_holds_a_body_element_fails_no_other_item():
    # feedparser leaves such an entry's summary None: it was a TypeError that lost every item of the feed
    body = atom(
        "<entry><title>A <body/> title</title><id>tag:lab,1</id><link href='https://lab.example/1'/></entry>",
        "<entry><title>Fine</title><id>tag:lab,2</id><link href='https://lab.example/2'/></entry>",
    )
    records, _ = feeds.parse_all(body, FEED)
    assert [r.title for r in records] == ["A title", "Fine"]


def test_an_item_that_cannot_be_read_is_skipped_alone_with_its_number_and_line(monkeypatch):
    real = feeds._record

    def broken(e, url, site, title):
        if title == "Second":
            raise TypeError("something feedparser made of hostile XML")
        return real(e, url, site, title)

    monkeypatch.setattr(feeds, "_record", broken)
    body = rss(
        item("First", "https://blog.example/1"),
        item("Second", "https://blog.example/2"),
        item("Third", "https://blog.example/3"),
    )
    records, notices = feeds.parse_all(body, FEED)
    assert [r.title for r in records] == ["First", "Third"]
    (notice,) = [str(n) for n in notices]
    assert "item 2 “Second”: skipped" in notice and "TypeError" in notice and "(at line 2)" in notice


@pytest.mark.parametrize("codec", ["idna", "punycode", "unicode_escape", "hex", "rot13"])
def test_a_feed_declaring_a_python_codec_that_is_no_charset_is_read_as_utf8_with_a_notice(codec):
    body = rss(
        item("Caf\xe9 one", "https://blog.example/1"),
        item("Two", "https://blog.example/2"),
        declaration=f'<?xml version="1.0" encoding="{codec}"?>',
    ).replace("Café".encode(), b"Caf\xe9")
    records, notices = feeds.parse_all(body, FEED)
    assert [r.title for r in records] == ["Café one", "Two"]
    assert any(f"declares {codec!r}, not a text encoding" in str(n) for n in notices)


def test_a_link_holding_a_space_is_percent_encoded_and_the_work_is_kept(tmp_path):
    body = rss(item("Spaced", "https://blog.example/a post/?q=x y"), item("Plain", "https://blog.example/b"))
    records, notices = feeds.parse_all(body, FEED)
    assert records[0].url == "https://blog.example/a%20post/?q=x%20y" and not notices
    merger = Merger(Dataset(root=tmp_path))
    assert all(merger.add(r) for r in records) and not merger.report.errors


def test_a_link_with_a_host_in_another_script_keeps_its_host():
    (record,) = feeds.parse_all(rss(item("Host", "https://bücher.example/ein buch")), FEED)[0]
    assert record.url == "https://bücher.example/ein%20buch"


_XML_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="".join(map(chr, [*range(0, 9), 11, 12, *range(14, 32)]))
    ),
    max_size=80,
)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(title=_XML_TEXT, summary=_XML_TEXT, link=_XML_TEXT)
def test_whatever_one_item_holds_the_feeds_other_items_are_kept(title, summary, link):
    hostile = item(html.escape(title), html.escape(link), guid="odd", summary=html.escape(html.escape(summary)))
    body = rss(item("Before", "https://blog.example/1"), hostile, item("After", "https://blog.example/3"))
    records, _ = feeds.parse_all(body, FEED)
    titles = [r.title for r in records]
    assert titles[0] == "Before" and titles[-1] == "After"


# -- downloads have limits -------------------------------------------------------------------------------------------


def test_an_answer_larger_than_the_limit_is_refused_saying_so():
    chunks = _Stream([b"x" * 1000] * 5)  # no Content-Length: counted as it comes
    http = polite(lambda r: httpx.Response(200, stream=chunks), max_bytes=4096)
    with pytest.raises(SourceError, match="more than the 4 KiB kb reads: refused while reading"):
        http.get(FEED)


def test_a_declared_length_past_the_limit_is_refused_before_reading():
    def handler(request):
        def body():
            raise AssertionError("the body should not be read")
            yield b""

        return httpx.Response(200, headers={"Content-Length": str(10 * 2**30)}, stream=_Stream(body()))

    with pytest.raises(SourceError, match="10240 MiB, more than"):
        polite(handler).get(FEED)


class _Stream(httpx.SyncByteStream):
    def __init__(self, chunks):
        self.chunks = chunks

    def __iter__(self):
        yield from self.chunks


def test_a_gzip_bomb_is_refused_while_it_streams_not_inflated_whole():
    bomb = gzip.compress(b"\0" * (64 * 2**20), compresslevel=9)  # 64 MiB of zeros in ~64 KB
    pieces = [bomb[n : n + 1024] for n in range(0, len(bomb), 1024)]
    sent = []

    def chunks():
        for piece in pieces:
            sent.append(len(piece))
            yield piece

    def handler(request):
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=_Stream(chunks()))

    with pytest.raises(SourceError, match="once decompressed: refused while reading"):
        polite(handler, max_bytes=2**20).get(FEED)
    assert len(sent) < len(pieces) / 10  # stopped after the first MiB inflated, not at the end of the body


def test_a_server_that_never_answers_fails_within_the_total_time_saying_so():
    now = [0.0]
    asked = []

    def handler(request):
        asked.append(now[0])
        now[0] += 50  # each attempt waits out a read timeout
        raise httpx.ReadTimeout("timed out", request=request)

    http = Polite(
        client(httpx.MockTransport(handler)),
        "test",
        cache_dir=None,
        default_interval=0,
        clock=lambda: now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
        total_timeout=120,
        retries=10,
    )
    with pytest.raises(SourceError, match="no answer from blog.example within 120 s"):
        http.get(FEED)
    assert now[0] <= 160 and len(asked) == 3  # not 11 attempts of 50 s


def test_retries_are_told_to_the_progress_and_a_pipe_hears_nothing(capsys):
    told = []
    answers = iter([httpx.Response(503), httpx.Response(200, content=b"ok")])
    http = polite(lambda r: next(answers), progress=told.append)
    assert http.get(FEED) == b"ok"
    assert told == ["blog.example: asking again (attempt 2)"]
    imports.terminal_progress("blog.example: asking again (attempt 2)")  # stderr is captured: not a terminal
    assert capsys.readouterr().err == ""


# -- arXiv: an empty page is the end only where the totals say so; nothing wrong is cached ---------------------------

ARXIV = "https://export.arxiv.org/api/query"


def arxiv_page(start: int, count: int, total: int) -> bytes:
    entries = "".join(
        f"<entry><id>http://arxiv.org/abs/2401.{n:05d}v1</id><title>Paper {n}</title>"
        f"<published>2024-01-02T00:00:00Z</published><author><name>A. Author</name></author></entry>"
        for n in range(start, start + count)
    )
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:os="http://a9.com/-/spec/opensearch/1.1/">'
        f"<os:totalResults>{total}</os:totalResults>{entries}</feed>"
    ).encode()


def test_an_empty_page_saying_zero_results_mid_query_is_an_error_not_the_end_and_is_not_cached(tmp_path, monkeypatch):
    from importers import arxiv

    monkeypatch.setattr(arxiv, "PAGE", 10)
    answers = {0: arxiv_page(0, 10, 60), 10: arxiv_page(10, 10, 60), 20: arxiv_page(20, 0, 0)}
    asked = []

    def handler(request):
        start = int(request.url.params["start"])
        asked.append(start)
        return httpx.Response(200, content=answers.get(start) or arxiv_page(start, 10, 60))

    spec = {"query": "testing", "limit": 60, "base_url": ARXIV}
    fetched = imports.collect("arxiv", lambda: arxiv.fetch(polite(handler, cache_dir=tmp_path), spec))
    assert len(fetched.records) == 20 and "empty page at result 20 of 60" in fetched.error
    del answers[20]  # arXiv is itself again: the re-run reads the rest, the pages before from the cache
    asked.clear()
    again = imports.collect("arxiv", lambda: arxiv.fetch(polite(handler, cache_dir=tmp_path), spec))
    assert again.error is None and len(again.records) == 60 and asked == [20, 30, 40, 50]


def test_an_empty_page_where_the_totals_seen_end_the_query_is_its_end(monkeypatch):
    from importers import arxiv

    monkeypatch.setattr(arxiv, "PAGE", 10)
    # results shrank while paging: the second page says 15 in all and holds 5; the third would be past the end
    answers = {0: arxiv_page(0, 10, 20), 10: arxiv_page(10, 5, 15)}
    http = polite(lambda r: httpx.Response(200, content=answers.get(int(r.url.params["start"]), arxiv_page(0, 0, 0))))
    fetched = imports.collect("arxiv", lambda: arxiv.fetch(http, {"query": "q", "limit": 60, "base_url": ARXIV}))
    assert fetched.error is None and len(fetched.records) == 15


@pytest.mark.parametrize(
    "source, answer",
    [
        ("arxiv", b"<html><body>Rate exceeded</body></html>"),
        ("feed", b"<!doctype html><html><body>Just a moment...</body></html>"),
        ("openalex", b"<html>Bad gateway</html>"),
        ("lesswrong", b'{"errors": [{"message": "timeout"}]}'),
    ],
)
def test_an_answer_that_cannot_be_used_is_not_cached_for_the_next_run(tmp_path, source, answer):
    from importers import arxiv, lesswrong, openalex

    asked = []

    def handler(request):
        asked.append(str(request.url))
        return httpx.Response(200, content=answer)

    run = {
        "arxiv": lambda http: list(arxiv.fetch(http, {"ids": ["2401.00001"], "base_url": ARXIV})),
        "feed": lambda http: list(feeds.fetch(http, {"url": FEED})),
        "openalex": lambda http: list(openalex.fetch(http, {"author_id": "A1", "limit": 5})),
        "lesswrong": lambda http: list(lesswrong.fetch(http, {"user": "someone", "site": "lesswrong"})),
    }[source]
    for _ in range(2):
        with pytest.raises(SourceError):
            run(polite(handler, cache_dir=tmp_path))
    assert len(asked) == 2  # asked again: the first answer was not served from the cache
