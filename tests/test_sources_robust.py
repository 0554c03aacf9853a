"""Sources that misbehave: every HTTP failure is one clear line naming the URL, one source's fault never costs the
others their records, data/sources.toml is checked before anything is fetched, and arXiv's short and empty pages
neither skip works nor end an import silently. No test touches the internet: httpx.MockTransport, or a server on
127.0.0.1; the real answers in ../shared are used where they fit, and their tests skip without it."""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from importers import arxiv
from importers.http import RESUME, Polite, client
from importers.records import SourceError
from kb.ingest import imports
from kb.store import sources as sourcefile
from kb.workspace import Workspace
from tests.conftest import REPO, SHARED, serving

FIXTURES = Path(__file__).parent / "fixtures"
REAL = SHARED / "reference-responses"
ARXIV = "https://export.arxiv.org/api/query"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(imports, "HTTP_OPTIONS", {"default_interval": 0, "retries": 0, "sleep": lambda s: None})


def polite(handler, **kw) -> tuple[Polite, list[float]]:
    """A Polite client over a MockTransport (or the transport given); sleeps are recorded, not slept."""
    slept = []
    transport = kw.pop("transport", None) or httpx.MockTransport(handler)
    kw.setdefault("cache_dir", None)
    return Polite(client(transport), "test", sleep=slept.append, default_interval=0, **kw), slept


def never(request):
    raise AssertionError(f"nothing should be asked, yet {request.url} was")


# -- 1. every httpx failure is a SourceError that names the URL ------------------------------------------------------


def test_a_redirect_loop_is_a_clear_error_not_a_traceback():
    http, _ = polite(lambda r: httpx.Response(302, headers={"Location": str(r.url)}))
    with pytest.raises(SourceError, match="too many redirects") as e:
        http.get("https://blog.example/feed.xml")
    assert "https://blog.example/feed.xml" in str(e.value) and "\n" not in str(e.value)


def test_a_gzip_header_on_a_body_that_is_not_gzip_is_a_clear_error():
    http, _ = polite(lambda r: httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"<rss>plain</rss>"))
    with pytest.raises(SourceError, match="cannot be decoded") as e:
        http.get("https://blog.example/feed.xml")
    assert "https://blog.example/feed.xml" in str(e.value)


def test_an_unreadable_retry_after_is_treated_as_absent():
    answers = iter(
        [httpx.Response(503, headers={"Retry-After": "Wed, 99 Foo 2026 00:00:00 GMT"}), httpx.Response(200, text="ok")]
    )
    http, slept = polite(lambda r: next(answers), backoff=2.0)
    assert http.get("https://api.example/x") == b"ok"
    assert slept == [1.0]  # the backoff's first step, as with no Retry-After at all


def test_a_retry_after_in_the_past_means_ask_again_now():
    past = "Wed, 01 Jan 2020 00:00:00 GMT"
    answers = iter([httpx.Response(503, headers={"Retry-After": past}), httpx.Response(200, text="ok")])
    http, slept = polite(lambda r: next(answers), backoff=2.0)
    assert http.get("https://api.example/x") == b"ok"
    assert slept == [0.0]


def test_a_retry_after_of_hours_is_an_error_saying_when_to_run_again_not_a_silent_wait():
    http, slept = polite(lambda r: httpx.Response(429, headers={"Retry-After": "7200"}))
    with pytest.raises(SourceError, match="asking us to wait 7200 s") as e:
        http.get("https://api.example/x")
    assert slept == [] and "run the same command again in 2 hours" in str(e.value)
    assert "https://api.example/x" in str(e.value)


@pytest.mark.parametrize("url", ["http://exa\x01mple.org/feed", "http://[::1/feed"])
def test_an_invalid_url_is_a_clear_error_naming_it(url):
    http, _ = polite(never)
    with pytest.raises(SourceError, match="is not a valid URL") as e:
        http.get(url)
    assert repr(url) in str(e.value) and "resume" not in str(e.value)


def test_any_other_httpx_error_is_a_source_error_naming_the_url():
    def handler(request):
        raise httpx.RequestError("something odd", request=request)

    http, _ = polite(handler)
    with pytest.raises(SourceError, match=r"RequestError: something odd") as e:
        http.get("https://api.example/odd")
    assert "https://api.example/odd" in str(e.value)


# -- 3. a permanent error says what is wrong, and only a passing one advises running again ----------------------------


@pytest.mark.parametrize("url", ["not-a-url", "ftp://x/feed", "file:///etc/passwd", ""])
def test_a_url_that_is_not_http_is_named_as_such_without_resume_advice(url):
    http, _ = polite(never)
    with pytest.raises(SourceError) as e:
        http.get(url)
    assert f"{url!r} is not an http(s) URL" in str(e.value)
    assert "resume" not in str(e.value) and "cannot reach" not in str(e.value)


class _RedirectsToFile(httpx.BaseTransport):
    """Answers every http(s) request with a redirect to file:; the real transport then meets the file: URL."""

    def __init__(self):
        self.real = httpx.HTTPTransport()

    def handle_request(self, request):
        if request.url.scheme in ("http", "https"):
            return httpx.Response(302, headers={"Location": "file:///etc/passwd"})
        return self.real.handle_request(request)


def test_a_redirect_to_a_file_url_is_named_without_resume_advice():
    http, _ = polite(None, transport=_RedirectsToFile(), retries=2)
    with pytest.raises(
        SourceError, match=r"redirected to 'file://[^']*/etc/passwd', which is not an http\(s\) URL"
    ) as e:
        http.get("https://blog.example/feed.xml")
    assert "resume" not in str(e.value) and "https://blog.example/feed.xml" in str(e.value)


def refused(request):
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def timed_out(request):
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(
    "failure", [refused, timed_out, lambda r: httpx.Response(503)], ids=["refused", "timeout", "503 after retries"]
)
def test_a_passing_failure_keeps_the_resume_advice(failure):
    http, _ = polite(failure, retries=1)
    with pytest.raises(SourceError) as e:
        http.get("https://api.example/x")
    assert str(e.value).endswith(RESUME)


def test_kb_import_of_a_non_http_feed_says_what_is_wrong_and_not_to_resume(kb):
    result = kb("import", "feed", "ftp://x/feed")
    assert result.exit_code == 1
    assert "'ftp://x/feed' is not an http(s) URL" in result.stderr  # errors on stderr, results on stdout
    assert "resume" not in result.output and "cannot reach" not in result.output


# -- 2. kb sync: one source's failure never costs the others their records ------------------------------------------


def test_an_unexpected_exception_in_one_source_is_its_error_and_the_others_are_merged(data):
    rss = (FIXTURES / "blog_rss.xml").read_bytes()

    def handler(request):
        if request.url.host == "broken.example":
            raise RuntimeError("a bug in the middle of a fetch")
        return httpx.Response(200, content=rss)

    specs = [
        {"type": "feed", "url": "https://lab.example/feed.xml"},
        {"type": "feed", "url": "https://broken.example/feed.xml"},
    ]
    report, fetched = imports.sync(
        Workspace(data, data.parent / "kb.sqlite"), specs, transport=httpx.MockTransport(handler)
    )
    assert len(report.added) == 2 and len(fetched[0].records) == 2 and fetched[0].error is None
    assert fetched[1].error == (
        "feed https://broken.example/feed.xml: stopped by an unexpected error (RuntimeError: a bug in the middle of a"
        " fetch)"
    )
    assert report.errors == [fetched[1].error]


def test_an_unexpected_exception_keeps_the_records_delivered_before_it():
    def fetch():
        yield from arxiv.parse((FIXTURES / "arxiv_ids.xml").read_bytes())[1]
        raise OSError(28, "No space left on device")

    fetched = imports.collect("arxiv", fetch)
    assert len(fetched.records) == 2 and "OSError" in fetched.error and "No space left" in fetched.error


class _Answers(BaseHTTPRequestHandler):
    """/loop.xml: a redirect to itself; /api: arXiv, whose first page is `feed` and every later one empty;
    anything else: `feed`."""

    feed = b""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/loop.xml":
            self.send_response(302)
            self.send_header("Location", "/loop.xml")
            self.end_headers()
            return
        body = self.feed
        if self.path.startswith("/api?"):
            start = int(re.search(r"start=(\d+)", self.path)[1])
            body = self.feed if start == 0 else atom(start, 0, 214881)
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    with serving(_Answers) as address:
        yield address


def test_kb_sync_with_a_real_feed_and_a_feed_that_redirects_to_itself_keeps_the_real_one(kb, data, server, monkeypatch):
    real = REAL / "feeds" / "anthropic_red_rss.xml"
    if not real.exists():
        pytest.skip("no ../shared reference responses")
    monkeypatch.setattr(_Answers, "feed", real.read_bytes())
    (data / "sources.toml").write_text(
        f'[[source]]\ntype = "feed"\nurl = "{server}/feed.xml"\n\n'
        f'[[source]]\ntype = "feed"\nurl = "{server}/loop.xml"\n'
    )
    result = kb("sync")  # the fixture lets exceptions through: a traceback would fail the test here
    assert result.exit_code == 1
    assert re.search(r"added [1-9]", result.stdout), result.stdout
    assert f"too many redirects (a redirect loop?) (at {server}/loop.xml)" in result.stderr
    assert "resume" not in result.output


# -- 4. data/sources.toml is checked: kb sync refuses it in one message, kb validate lists its problems --------------

BAD_SOURCES = [
    ('[[source]]\ntype = "feed"\nurl = "https://x.example/feed"\n[[source]\n', 4, "not valid TOML"),
    ('[[source]]\ntype = "arxiv"\nquery = "ti:probe"\nlimit = "ten"\n', 4, "limit = 'ten', but it must be a whole"),
    ("source = 5\n", 1, "'source' must be a list of [[source]] tables"),
    ('source = [1, "x"]\n', 1, "source 1 is 1, not a table"),
    ('[[source]]\ntype = "gopher"\nurl = "gopher://x"\n', 2, "source: unknown type 'gopher' (known: arxiv, feed"),
    (
        '[[source]]\ntype = "arxiv"\nqeury = "ti:probe"\n',
        3,
        "arxiv source: no key 'qeury' (known: type, base_url, ids, query, limit)",
    ),
    ('[[source]]\ntype = "arxiv"\nids = [2310.01405]\n', 3, "ids = [2310.01405], but it must be a list of strings"),
    ('[[source]]\ntype = "feed"\n', 1, "feed source: needs 'url'"),
    (
        '[[source]]\ntype = "feed"\nurl = "https://x.example/feed"\n\n[[source]]\ntype = 5\n',
        6,
        "source: unknown type 5",
    ),
    ('[[sources]]\ntype = "feed"\nurl = "https://x.example/feed"\n', 1, "unknown key 'sources'"),
    ('[[source]]\ntype = "lesswrong"\nuser = "x"\ncomments = "yes"\n', 4, "comments = 'yes', but it must be true"),
]


@pytest.mark.parametrize("text, line, message", BAD_SOURCES)
def test_a_broken_sources_toml_stops_kb_sync_with_one_message_naming_the_line(kb, data, text, line, message):
    path = data / "sources.toml"
    path.write_text(text)
    result = kb("sync")  # the fixture lets exceptions through: a traceback would fail the test here
    assert result.exit_code == 1
    assert f"{path}:{line}: " in result.stderr and message in result.stderr, result.stderr
    assert re.search(rf"error: {re.escape(str(path))} has \d+ problem\(s\)", result.stderr)
    assert "added" not in result.stdout  # nothing was fetched


@pytest.mark.parametrize("text, line, message", BAD_SOURCES)
def test_kb_validate_lists_a_broken_sources_toml_among_its_problems(kb, data, text, line, message):
    path = data / "sources.toml"
    path.write_text(text)
    result = kb("validate")
    assert result.exit_code == 1
    assert any(row.startswith(f"{path}:{line}: ") and message in row for row in result.stderr.splitlines())


def test_a_broken_sources_toml_stops_no_build_nor_reading_command(kb, data):
    (data / "sources.toml").write_text("[[source]\n")
    works = data / "works" / "papers.jsonl"
    works.write_text(works.read_text())  # data/ changed: the next reading command rebuilds the catalogue
    assert kb("build").exit_code == 0
    listed = kb("list")
    assert listed.exit_code == 0 and "coup-probes-2023" in listed.stdout


def test_kb_sync_with_another_sources_file_checks_that_one(kb, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[[source]]\ntype = "arxiv"\nquery = "x"\nlimit = true\n')
    result = kb("sync", "--sources", str(path))
    assert result.exit_code == 1 and f"{path}:4: arxiv source: limit = True" in result.stderr


def test_the_shipped_sources_and_every_kind_of_source_are_valid(kb, data):
    assert sourcefile.read_sources(REPO / "data" / "sources.toml")[1] == []
    (data / "sources.toml").write_text(
        """
[[source]]
type = "scholar"
id = "CYI6cKgAAAAJ"
fill = true

[[source]]
type = "arxiv"
ids = ["2310.01405", "hep-th/9901001"]
base_url = "https://mirror.example/api/query"

[[source]]
type = "arxiv"
query = "ti:probe AND cat:cs.LG"
limit = 200

[[source]]
type = "feed"
url = "https://lab.example/feed.xml"

[[source]]
type = "alignmentforum"
user = "someone"
comments = false
limit = 50

[[source]]
type = "lesswrong"
tag = "interpretability"

[[source]]
type = "openalex"
author = "David Bau"
key = "k"
"""
    )
    specs, problems = sourcefile.read_sources(data / "sources.toml")
    assert problems == [] and len(specs) == 7
    result = kb("validate")
    assert result.exit_code == 0, result.stderr


# -- 5. arXiv's short and empty pages ----------------------------------------------------------------------------


def atom(start: int, n: int, total: int) -> bytes:
    entries = "".join(
        f"<entry><id>http://arxiv.org/abs/2401.{start + i:05d}v1</id><title>Paper {start + i}</title>"
        f"<published>2024-01-01T00:00:00Z</published></entry>"
        for i in range(n)
    )
    return (
        f'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:os="http://a9.com/-/spec/opensearch/1.1/">'
        f"<os:totalResults>{total}</os:totalResults>{entries}</feed>"
    ).encode()


def test_a_short_arxiv_page_moves_the_next_start_by_the_entries_received():
    asked = []

    def handler(request):
        start, size = int(request.url.params["start"]), int(request.url.params["max_results"])
        asked.append((start, size))
        return httpx.Response(200, content=atom(start, 60 if start == 0 else size, 214881))  # arXiv: 60 of 100

    http, _ = polite(handler)
    records = list(arxiv.fetch(http, {"query": "testing", "limit": 250, "base_url": ARXIV}))
    assert asked == [(0, 100), (60, 100), (160, 90)]
    assert [r.ids["arxiv"] for r in records] == [f"2401.{n:05d}" for n in range(250)]


def recorded(name: str) -> bytes:
    folder = REAL / "arxiv" / "recorded"
    if not folder.exists():
        pytest.skip("no ../shared reference responses")
    return json.loads(next(folder.glob(f"{name}_*.json")).read_text())["body"].encode()


_ENTRY = re.compile(rb"<entry>.*?</entry>\s*", re.S)


def test_real_short_arxiv_pages_are_read_without_a_gap(monkeypatch):
    # arXiv's real answers to "testing": asked for 15 from 0, it answers 9 (its 10-entry page, one short); the next
    # page must start at 9, which arXiv answered for real, not at 15
    first = recorded("q_testing_s0_m10")
    entries = _ENTRY.findall(first)
    short = first.replace(entries[-1], b"")
    pages = {(0, 15): short, (9, 15): recorded("q_testing_s9_m15")}
    asked = []

    def handler(request):
        key = (int(request.url.params["start"]), int(request.url.params["max_results"]))
        asked.append(key)
        return httpx.Response(200, content=pages[key]) if key in pages else httpx.Response(404)

    monkeypatch.setattr(arxiv, "PAGE", 15)
    http, _ = polite(handler)
    records = list(arxiv.fetch(http, {"query": "testing", "limit": 24, "base_url": ARXIV}))
    assert asked == [(0, 15), (9, 15)]
    expected = [arxiv.parse(short)[1], arxiv.parse(pages[(9, 15)])[1]]
    assert [r.ids["arxiv"] for r in records] == [r.ids["arxiv"] for page in expected for r in page]
    assert len({r.ids["arxiv"] for r in records}) == 24


def test_an_empty_arxiv_page_before_the_end_is_an_error_and_a_rerun_resumes_from_the_cache(monkeypatch, tmp_path):
    first, second = recorded("q_testing_s0_m10"), recorded("q_testing_s10_m10")
    empty = _ENTRY.sub(b"", second)  # the page arXiv sometimes answers: totalResults 214881, no entry
    asked, answers = [], {0: first, 10: empty}

    def handler(request):
        start = int(request.url.params["start"])
        asked.append(start)
        return httpx.Response(200, content=answers[start])

    monkeypatch.setattr(arxiv, "PAGE", 10)
    spec = {"query": "testing", "limit": 20, "base_url": ARXIV}
    http, _ = polite(handler, cache_dir=tmp_path / "http")
    fetched = imports.collect("arxiv", lambda: arxiv.fetch(http, spec))
    assert len(fetched.records) == 10 and asked == [0, 10]
    assert "arXiv answered an empty page at result 10 of 214881" in fetched.error
    assert fetched.error.endswith(f"{RESUME} (the pages already read come from the cache)")

    answers[10] = second  # arXiv is itself again
    asked.clear()
    http, _ = polite(handler, cache_dir=tmp_path / "http")
    again = imports.collect("arxiv", lambda: arxiv.fetch(http, spec))
    assert again.error is None and len(again.records) == 20
    assert asked == [10]  # the first page came from the cache, and the empty one was not kept there


def test_kb_import_arxiv_says_so_with_exit_1_when_arxiv_answers_an_empty_page_early(kb, server, monkeypatch):
    monkeypatch.setattr(_Answers, "feed", atom(0, 100, 214881))  # the first page; every later one is empty
    result = kb("import", "arxiv", "--query", "testing", "--limit", "250", "--base-url", server + "/api")
    assert result.exit_code == 1
    assert "added 100" in result.stdout and "empty page at result 100 of 214881" in result.stderr
    assert "resume" in result.stderr
