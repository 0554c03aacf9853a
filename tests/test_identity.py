"""The identity rules of kb.ingest.merging, each on the case that broke it: one work per real work."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers.feeds import parse
from importers.records import WorkRecord
from kb.ingest.imports import Fetched, apply
from kb.ingest.merging import canonical_url, match_text
from kb.store import datadir, lock
from kb.workspace import Workspace


def ws(data: Path) -> Workspace:
    return Workspace(data, data.parent / "kb.sqlite")


def post(title: str, guid: str, date: str = "2024-10-01", feed: str = "feed:https://lab.example/rss", **kw):
    return WorkRecord(
        source=feed, kind="post", title=title, year=int(date[:4]), date=date, ids={"feed": guid} if guid else {}, **kw
    )


def imported(data: Path, *records) -> list[str]:
    return apply(ws(data), [Fetched("test", list(records))]).added


def test_titles_one_letter_number_or_word_apart_are_different_works(data):
    pairs = [
        ("Perplexity raises Series A", "Perplexity raises Series B"),
        ("Windsurf Series B Announcement", "Windsurf Series C Announcement"),
        ("Claude 4.5 system card", "Claude 4.6 system card"),
        ("Release 1.13.13", "Release 1.13.3"),
        (
            "Anthropic is donating $20 million to Public First Action",
            "Anthropic is donating another $20 million to Public First Action",
        ),
    ]
    for i, (a, b) in enumerate(pairs):
        # from two sources, so that only the titles could have merged them
        added = imported(data, post(a, f"a{i}"), post(b, None, feed="feed:https://mirror.example/rss"))
        assert len(added) == 2, (a, b)


def test_two_items_of_one_feed_with_the_same_title_stay_two_works(data):
    title = "Sharing new research, models, and datasets from Meta FAIR"
    added = imported(data, post(title, "fair-oct", "2024-10-18"), post(title, "fair-dec", "2024-12-12"))
    assert len(added) == 2


def test_two_comments_by_one_user_on_one_post_stay_two_works(data):
    def comment(cid):
        return WorkRecord(
            source="lesswrong",
            kind="comment",
            title="Ada on “A post”",
            year=2024,
            date="2024-03-01",
            authors=["Ada"],
            ids={"lesswrong": cid},
        )

    assert len(imported(data, comment("c0000000000000001"), comment("c0000000000000002"))) == 2


def test_non_ascii_digits_and_dashes_do_not_duplicate_on_reimport(data):
    items = [post("Kimi K2\u20110905 is out", "k2"), post("RL\u00b2: Fast reinforcement learning via slow RL", "rl2")]
    assert len(imported(data, *items)) == 2
    assert imported(data, *items) == []
    assert match_text("RL\u00b2 K2\u20110905") == match_text("RL2 K2-0905") == "rl2 k2 0905"


def test_a_scholar_record_listing_only_the_owner_merges_with_the_full_author_list(data):
    full = WorkRecord(
        source="arxiv",
        kind="paper",
        title="Probing for deception in agents",
        year=2025,
        authors=["Ada Lovelace", "Grace Hopper", "Alan Turing"],
        ids={"arxiv": "2501.12345"},
    )
    owner_only = WorkRecord(
        source="scholar",
        kind="paper",
        title="Probing for Deception in Agents",
        year=2025,
        authors=["G Hopper"],
        more_authors=True,
        ids={"scholar": "abc:123"},
    )
    (work,) = imported(data, full)
    assert imported(data, owner_only) == []
    merged = {w.id: w for w in datadir.load(data).works}[work]
    assert merged.ids == {"arxiv": "2501.12345", "scholar": "abc:123"}
    assert "an author in common" in merged.provenance[-1].matched_by


def test_a_blog_post_announcing_a_paper_discusses_it_and_stays_its_own_work(data):
    paper = WorkRecord(source="arxiv", kind="paper", title="Sleeper probes", year=2025, ids={"arxiv": "2502.00001"})
    announcement = post(
        "Sleeper probes", "blog-1", "2025-02-03", abstract="Our new paper: https://arxiv.org/abs/2502.00001v1"
    )
    paper_id, post_id = imported(data, paper, announcement)
    relations = {w.id: w.relations for w in datadir.load(data).works}[post_id]
    assert [(r.type, r.target) for r in relations] == [("discusses", paper_id)]


def test_a_cross_post_keeps_every_url_and_is_recognised_by_either_next_time(data):
    title, by = "On probes trained off-policy", ["Ada Lovelace"]
    lw = post(
        title, None, "2024-05-01", feed="lesswrong", url="https://www.lesswrong.com/posts/x/on-probes", authors=by
    )
    blog = post(title, "guid-9", "2024-05-01", url="https://blog.example/on-probes/", authors=by)
    (work,) = imported(data, lw, blog)
    merged = {w.id: w for w in datadir.load(data).works}[work]
    assert {merged.url, *merged.urls.values()} == {lw.url, "https://blog.example/on-probes/"}
    renamed = post("On probes (updated title)", None, "2024-05-01", url="http://blog.example/on-probes")
    assert imported(data, renamed) == []  # the same URL, so the same work, whatever the title became
    assert canonical_url("https://www.Blog.example/on-probes/?utm=x") == "blog.example/on-probes"


FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Lab</title>{items}</channel></rss>"""
ITEM = (
    '<item><title>{title}</title><guid isPermaLink="false">{guid}</guid>'
    "<pubDate>Mon, 0{day} Jan 2024 10:00:00 GMT</pubDate></item>"
)
TITLES = st.text(alphabet=st.sampled_from("ab1²\u2011- Series"), min_size=1, max_size=12).filter(str.strip)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(TITLES, st.integers(1, 9)), min_size=1, max_size=6))
def test_importing_any_feed_twice_equals_importing_it_once_and_guids_give_distinct_works(data, tmp_path_factory, items):
    import shutil
    from xml.sax.saxutils import escape

    fresh = tmp_path_factory.mktemp("example") / "data"
    shutil.copytree(data, fresh)
    data = fresh

    body = FEED.format(
        items="".join(ITEM.format(title=escape(t), guid=f"g{i}", day=d) for i, (t, d) in enumerate(items))
    )
    records = parse(body.encode(), "https://lab.example/rss")
    before = {w.id for w in datadir.load(data).works}
    first = apply(ws(data), [Fetched("feed", records)])
    files = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    second = apply(ws(data), [Fetched("feed", records)])
    assert second.added == second.updated == []
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == files
    guids = {r.ids["feed"] for r in records}
    now = {w.id: w for w in datadir.load(data).works}
    assert {w.ids.get("feed") for i, w in now.items() if i not in before} == guids
    assert len(first.added) == len(guids)
    for guid in guids:
        assert sum(1 for w in now.values() if w.ids.get("feed") == guid) == 1


# -- the lock and the journal: real processes --------------------------------------------------------


def _serve(folder: Path):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(folder)))
    httpd.RequestHandlerClass.log_message = lambda *a: None
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def _feed_file(folder: Path, name: str, n: int) -> None:
    items = "".join(ITEM.format(title=f"{name} post number {i}", guid=f"{name}-{i}", day=1 + i % 9) for i in range(n))
    (folder / f"{name}.xml").write_text(FEED.format(items=items))


def _kb(data: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    code = "from kb.cli.launch import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "--data", str(data), "--db", str(data.parent / "kb.sqlite"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "KB_CACHE": str(data.parent / "cache"), **(env or {})},
    )


@pytest.mark.slow
def test_two_imports_at_once_both_land(data, tmp_path):
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    _feed_file(feeds, "alpha", 40)
    _feed_file(feeds, "beta", 40)
    httpd, url = _serve(feeds)
    try:
        runs = [_kb(data, "import", "feed", f"{url}/{name}.xml") for name in ("alpha", "beta")]
        outs = [r.communicate(timeout=120) for r in runs]
    finally:
        httpd.shutdown()
    assert [r.returncode for r in runs] == [0, 0], outs
    guids = {w.ids.get("feed") for w in datadir.load(data).works}
    expected = {f"{url}/{name}.xml#{name}-{i}" for name in ("alpha", "beta") for i in range(40)}
    assert expected <= guids


def test_a_second_writer_waits_and_then_fails_clearly_after_its_timeout(data):
    with lock.locked(data, timeout=1):
        run = _kb(data, "format", env={"KB_LOCK_TIMEOUT": "0.5"})
        out, err = run.communicate(timeout=60)
    assert run.returncode == 1
    assert "waiting up to 0.5 s" in err and "still locked" in err and "Traceback" not in err


@pytest.mark.slow
def test_an_import_killed_at_any_moment_leaves_data_as_before_or_as_after(data, tmp_path):
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    _feed_file(feeds, "gamma", 60)
    httpd, url = _serve(feeds)
    before = {p.relative_to(data): p.read_bytes() for p in data.rglob("*") if p.is_file()}
    rng = random.Random(7)
    try:
        full = _kb(data.parent / "after-data" if False else data, "import", "feed", f"{url}/gamma.xml")
        full.communicate(timeout=120)
        after = {p.relative_to(data): p.read_bytes() for p in data.rglob("*") if p.is_file()}
        for _ in range(6):  # bounded: six kills at random moments of the same import
            for rel, body in before.items():
                (data / rel).write_bytes(body)
            for rel in set(after) - set(before):
                (data / rel).unlink()
            run = _kb(data, "import", "feed", f"{url}/gamma.xml")
            time.sleep(rng.uniform(0.2, 2.5))
            run.send_signal(signal.SIGKILL)
            run.communicate(timeout=60)
            datadir.load(data)  # a reader finishes or sweeps what the killed writer left
            now = {p.relative_to(data): p.read_bytes() for p in data.rglob("*") if p.is_file()}
            assert now in (before, after)
            check = _kb(data, "validate")
            assert check.wait(timeout=60) == 0, check.communicate()
    finally:
        httpd.shutdown()
    assert before != after


def test_a_write_interrupted_after_its_commit_point_is_finished_by_the_next_reader(tmp_path):
    data = tmp_path / "data"
    (data / "works").mkdir(parents=True)
    a, b = data / "works" / "a.jsonl", data / "works" / "b.jsonl"
    a.write_text("old a\n")
    b.write_text("old b\n")
    tmp_a, tmp_b = data / "works" / f".a.jsonl{lock.TEMP_MARK}1", data / "works" / f".b.jsonl{lock.TEMP_MARK}1"
    tmp_a.write_text("new a\n")
    tmp_b.write_text("new b\n")
    os.replace(tmp_a, a)  # the writer died after its first rename
    journal = tmp_path / ".data.kb-journal.json"
    journal.write_text(json.dumps([[str(tmp_a), str(a)], [str(tmp_b), str(b)]]))
    lock.recover(data)
    assert (a.read_text(), b.read_text()) == ("new a\n", "new b\n")
    assert not journal.exists() and not tmp_b.exists()


def test_the_labelled_real_pairs_merge_by_the_rules(monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("dedup", Path(__file__).parent.parent / "bench" / "dedup.py")
    dedup = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "dedup", dedup)  # dataclasses look their module up there
    spec.loader.exec_module(dedup)
    chosen = dedup.small()  # one pair of each category and label of the tuning split (the pairs file is committed)
    assert len(chosen) >= 10
    for pair in chosen:
        assert dedup.decide(pair) == pair.same, (pair.why, pair.a.title, pair.b.title)


def test_the_labelled_set_is_large_real_and_split_and_every_pair_has_its_reason():
    import importlib.util

    spec = importlib.util.spec_from_file_location("dedup_set", Path(__file__).parent.parent / "bench" / "dedup.py")
    dedup = importlib.util.module_from_spec(spec)
    sys.modules["dedup_set"] = dedup
    spec.loader.exec_module(dedup)
    pairs = dedup.pairs()
    assert len(pairs) >= 150 and all(p.why and p.category for p in pairs)
    built = [p for p in pairs if p.origin == "built"]
    held = sum(p.split == "held-out" for p in built) / len(built)
    assert 0.3 <= held <= 0.5
    assert {p.split for p in pairs} == {"tune", "held-out", "sealed", "sealed2", "sealed3"}
    assert {p.same for p in pairs} == {True, False}
    sealed = {p.category for p in pairs if p.split == "sealed"}
    assert len(sealed) >= 6 and all(c.startswith("sealed: ") for c in sealed)  # the hard kinds (tuning since 402ac32)
    assert {p.origin for p in pairs if p.split == "sealed"} == {"was-sealed"}
    second = [p for p in pairs if p.split == "sealed2"]
    assert (
        len(second) >= 200 and {p.origin for p in second} == {"sealed2"} and {p.same for p in second} == {True, False}
    )
    assert all(p.category.startswith("sealed2: ") for p in second)
    third = [p for p in pairs if p.split == "sealed3"]
    assert len(third) >= 150 and {p.origin for p in third} == {"sealed3"} and {p.same for p in third} == {True, False}
    assert all(p.category.startswith("sealed3: ") for p in third) and any(p.lab_page for p in third)
    assert not any(p.lab_page and not p.same for p in pairs)  # a lab's page is marked only where called the paper


def comment(cid: str, title: str, url: str | None = None, **kw) -> WorkRecord:
    return WorkRecord(
        source="lesswrong", kind="comment", title=title, year=2024, date="2024-02-01", authors=["Ada"],
        ids={"lesswrong": cid}, url=url, **kw,
    )  # fmt: skip


def test_comments_on_one_post_share_its_address_but_stay_distinct_works(data):
    post_url = "https://www.lesswrong.com/posts/P0000000000000001/on-probes"
    comments = [
        comment(f"C000000000000000{i}", f"Ada on “On probes” ({i})", f"{post_url}?commentId=C{i}") for i in "123"
    ]
    assert len(imported(data, *comments)) == 3
    assert imported(data, *comments) == []  # and a second import recognises each by its id
    # the same address without the comment's query is still not another comment's identity
    stranger = comment("C0000000000000009", "Bob on “On probes”", f"{post_url}?commentId=C1&utm_source=rss")
    assert len(imported(data, stranger)) == 1


def test_tracking_parameters_and_the_fragment_are_not_part_of_an_address():
    assert canonical_url("https://www.Blog.example/on-probes/?utm=x") == "blog.example/on-probes"
    assert canonical_url("https://blog.example/p?b=2&a=1&utm_source=rss#top") == "blog.example/p?a=1&b=2"
    assert canonical_url("https://lesswrong.com/posts/P/x?commentId=A") != canonical_url(
        "https://lesswrong.com/posts/P/x?commentId=B"
    )


def test_two_blogs_items_with_the_same_plain_guid_are_two_works(data):
    one = FEED.format(items=ITEM.format(title="Post one", guid="1", day=1))
    other = FEED.format(items=ITEM.format(title="Another blog's post", guid="1", day=2))
    a = parse(one.encode(), "https://a.example/rss")
    b = parse(other.encode(), "https://b.example/rss")
    assert len(imported(data, *a)) == 1
    assert len(imported(data, *b)) == 1
    assert imported(data, *a, *b) == []
    permalink = FEED.format(items=ITEM.format(title="Shared", guid="https://a.example/shared", day=3))
    assert parse(permalink.encode(), "https://b.example/rss")[0].ids == {"feed": "https://a.example/shared"}


def test_guids_and_forum_ids_keep_their_case_and_dois_do_not(data):
    assert (
        len(imported(data, post("Upper", "https://a.example/p?id=AbC"), post("Lower", "https://a.example/p?id=abc")))
        == 2
    )
    assert len(imported(data, comment("AbCdEfGhIjKlMnOpQ", "Ada on X"), comment("abcdefghijklmnopq", "Ada on Y"))) == 2
    paper = WorkRecord(source="arxiv", kind="paper", title="A DOI", year=2024, authors=["Ada"], ids={"doi": "10.1/AB"})
    again = WorkRecord(
        source="openalex", kind="paper", title="Another", year=2024, authors=["Ada"], ids={"doi": "10.1/ab"}
    )
    assert len(imported(data, paper, again)) == 1


def test_a_title_with_a_comparison_imports_and_one_with_a_tag_is_skipped_alone(data):
    fine = post("When is p < 0.05 enough? P(doom) > 10% -> risk", "g1")
    tagged = post("Eve", "g2", authors=["Eve <b>x</b>"])
    plain = post("Plain post", "g3")
    report = apply(ws(data), [Fetched("test", [fine, tagged, plain])])
    assert len(report.added) == 2
    assert report.errors == ["feed:https://lab.example/rss: skipped 'Eve': its author looks like markup"]
    from kb.store import validate

    assert validate.check(datadir.load(data)) == []
    titles = {w.title for w in datadir.load(data).works}
    assert "When is p < 0.05 enough? P(doom) > 10% -> risk" in titles


def paper(source: str, year: int, **kw) -> WorkRecord:
    return WorkRecord(
        source=source, kind="paper", title="The geometry of a truth", year=year, authors=["Samuel Marks"], **kw
    )


def test_a_version_from_the_next_year_adds_its_ids_but_not_its_date(data):
    (work,) = imported(data, paper("arxiv", 2023, ids={"arxiv": "2310.06824"}))
    report = apply(ws(data), [Fetched("openalex", [paper("openalex", 2024, date="2024-10-02", ids={"doi": "10.1/c"})])])
    assert report.errors == [] and report.updated == [work]
    merged = {w.id: w for w in datadir.load(data).works}[work]
    assert (merged.year, merged.date, merged.ids["doi"]) == (2023, None, "10.1/c")


def test_arxivs_own_doi_does_not_keep_the_published_version_apart(data):
    ids = {"arxiv": "2310.06824", "doi": "10.48550/arXiv.2310.06824"}
    (work,) = imported(data, paper("arxiv", 2023, ids=ids))
    assert imported(data, paper("openalex", 2024, ids={"doi": "10.9999/colm.2024.1"})) == []
    assert imported(data, paper("scholar", 2023, ids={"arxiv": "2312.99999"})) != []  # another arXiv id: another work
