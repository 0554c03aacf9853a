"""`kb import` end to end on real answer shapes, served on 127.0.0.1: what the user reads and the exit code."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import SHARED

REAL = SHARED / "reference-responses"
FIXTURES = Path(__file__).parent / "fixtures"


class Answers(BaseHTTPRequestHandler):
    answer = staticmethod(lambda method, path, query, body: (404, b"not found"))

    def log_message(self, *args):
        pass

    def _reply(self, method: str, body: bytes = b""):
        url = urlsplit(self.path)
        status, content = self.answer(method, url.path, parse_qs(url.query), body)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self.wfile.write(content)

    def do_GET(self):
        self._reply("GET")

    def do_POST(self):
        self._reply("POST", self.rfile.read(int(self.headers["Content-Length"])))


@pytest.fixture
def server(monkeypatch, tmp_path):
    monkeypatch.setenv("KB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("kb.ingest.imports.HTTP_OPTIONS", {"default_interval": 0, "retries": 0})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def recorded(name: str) -> dict:
    folder = REAL / "arxiv" / "recorded"
    if not folder.exists():
        pytest.skip("no ../shared reference responses")
    return json.loads(next(folder.glob(f"{name}_*.json")).read_text())


def test_missing_arxiv_ids_are_named_with_exit_1_and_the_found_one_imported(kb, server, monkeypatch):
    pair = recorded("id_0808.05394_1707.08567")
    monkeypatch.setattr(Answers, "answer", staticmethod(lambda *a: (200, pair["body"].encode())))
    result = kb("import", "arxiv", "0808.05394", "1707.08567", "--base-url", server + "/api/query")
    assert result.exit_code == 1
    assert "added 1" in result.stdout and "not found on arXiv: 0808.05394" in result.stderr  # results / errors
    assert "resume" not in result.output  # running again changes nothing: no advice to


def test_an_empty_arxiv_answer_is_said_with_exit_1(kb, server, monkeypatch):
    empty = recorded("id_0000.0000")
    monkeypatch.setattr(Answers, "answer", staticmethod(lambda *a: (200, empty["body"].encode())))
    result = kb("import", "arxiv", "--query", "ti:zzzzzz", "--base-url", server + "/api/query")
    assert result.exit_code == 1 and "no work matching the query 'ti:zzzzzz'" in result.stderr


def test_a_feed_item_with_a_javascript_link_is_kept_with_a_warning(kb, server, monkeypatch):
    body = (FIXTURES / "blog_rss.xml").read_bytes()
    body = re.sub(
        rb"<link>https://lab.example/2026/probing-deception/</link>", b"<link>javascript:alert(1)</link>", body
    )
    monkeypatch.setattr(Answers, "answer", staticmethod(lambda *a: (200, body)))
    result = kb("import", "feed", server + "/feed.xml")
    assert result.exit_code == 0, result.output
    assert "added 2" in result.stdout and "warning:" in result.stderr and "not http(s)" in result.stderr
    assert "resume" not in result.output
    shown = json.loads(kb("search", "deception", "--json").stdout)
    assert shown and shown[0]["title"] == "Probing for deception & what we found"


def test_a_graphql_error_in_an_http_400_is_shown_without_resume_advice(kb, server, monkeypatch):
    message = 'Unknown argument "input" on field "Query.posts".'
    answer = json.dumps({"errors": [{"message": message}]}).encode()
    monkeypatch.setattr(Answers, "answer", staticmethod(lambda *a: (400, answer)))
    result = kb("import", "lesswrong", "--user", "someone", "--base-url", server)
    assert result.exit_code == 1
    assert f"GraphQL error: {message} (HTTP 400)" in result.stderr and "resume" not in result.output


def test_a_scholar_block_writes_what_was_read_and_the_next_run_resumes(kb, monkeypatch, tmp_path):
    pytest.importorskip("scholarly")
    from scholarly._navigator import Navigator

    from tests.test_scholar import ID, forbidden, page, row

    monkeypatch.setenv("KB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("time.sleep", lambda s: None)
    pages = {0: page([row(n, cited=n) for n in range(100)], more=True), 100: forbidden()}
    monkeypatch.setattr(
        Navigator, "_get_page", lambda self, url, premium=False: pages[int(re.search(r"cstart=(\d+)", url)[1])]
    )
    first = kb("import", "scholar", ID)
    assert first.exit_code == 1 and "added 100" in first.stdout
    assert "Google answered 403 Forbidden" in first.stderr and "resume from profile page 2" in first.stderr
    pages[100] = page([row(n) for n in range(100, 110)], more=False, first=False)
    second = kb("import", "scholar", ID)
    assert second.exit_code == 0, second.output
    assert "added 10" in second.stdout and "resumed where the previous import stopped" in second.stderr


def test_kb_show_provenance_names_the_rule_that_joined_one_announcement_under_two_page_names(kb, server, monkeypatch):
    title = "Amazon Bedrock: Approved for Use in FedRAMP High and DoD IL4/5 Workloads"

    def rss(word: str) -> bytes:
        link = f"https://www.anthropic.com/news/claude-{word}-amazon-bedrock-fedramp-high"
        item = f"<item><title>Claude {word} {title}</title><link>{link}</link><guid>{link}</guid>"
        item += "<pubDate>Wed, 11 Jun 2025 00:00:00 GMT</pubDate></item>"
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>{item}</channel></rss>'.encode()

    feeds = {"/news.xml": rss("in"), "/all.xml": rss("on")}
    monkeypatch.setattr(Answers, "answer", staticmethod(lambda method, path, *rest: (200, feeds[path])))
    assert kb("import", "feed", server + "/news.xml").exit_code == 0
    second = kb("import", "feed", server + "/all.xml")
    assert second.exit_code == 0 and "merged as duplicates 1" in second.stdout, second.output
    (found,) = json.loads(kb("search", "FedRAMP", "--json").stdout)
    shown = " ".join(kb("show", found["id"], "--provenance").stdout.split())
    assert "same title but for function words, one organisation's sites, 0 day(s) apart" in shown
