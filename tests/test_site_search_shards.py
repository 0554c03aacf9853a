"""The search index: each searchable page's article handed to Pagefind as the pages are written, in shards; every
searchable page in exactly one shard, and a rebuild re-indexes only the shards whose pages changed (Pagefind has
no incremental mode of its own)."""

import gzip
import json
import sys

import pytest

from kb import catalogue
from kb.website import context, render, searchindex
from kb.workspace import Workspace
from tests.test_site import build

pytestmark = pytest.mark.skipif(not searchindex.available(), reason="Pagefind is not installed")


@pytest.fixture
def small_shards(monkeypatch):
    monkeypatch.setattr(searchindex, "SHARD_PAGES", 2)  # the fixture's few searchable pages in several shards


def pages_in(bundle) -> int:
    """The pages a bundle holds, once it is checked to be whole: its entry, each language's metadata (gzip of
    Pagefind's marked data) and a fragment per page."""
    entry = json.loads((bundle / "pagefind-entry.json").read_text())
    for language in entry["languages"].values():
        meta = bundle / f"pagefind.{language['hash']}.pf_meta"
        assert gzip.decompress(meta.read_bytes()).startswith(b"pagefind_dcd")
    pages = sum(language["page_count"] for language in entry["languages"].values())
    assert len(list((bundle / "fragment").iterdir())) == pages
    return pages


def searchable(out) -> list[str]:
    return [
        str(p.relative_to(out)) for p in out.rglob("*.html") if "data-pagefind-body" in p.read_text(encoding="utf-8")
    ]


def test_a_small_site_has_one_index_where_pagefind_puts_it(data, tmp_path):
    out = tmp_path / "_site"
    report = build(data, out, search=True)
    assert report.search_shards == [0]
    assert json.loads((out / "pagefind" / "shards.json").read_text()) == []
    assert pages_in(out / "pagefind") == len(searchable(out))


def test_every_searchable_page_is_in_exactly_one_shard(data, tmp_path, small_shards):
    out = tmp_path / "_site"
    build(data, out, search=True)
    others = json.loads((out / "pagefind" / "shards.json").read_text())
    bundles = [out / "pagefind"] + [out / "pagefind" / p for p in others]
    assert len(bundles) > 1
    assert sum(pages_in(b) for b in bundles) == len(searchable(out))
    assert not (out / "pagefind" / "shard-1" / "shards.json").exists()


COUNTING_WRAPPER = """
import os, subprocess, sys
from pathlib import Path
# the real Pagefind, counted: each run marks itself alive, notes how many are, and unmarks itself when done
alive = Path(ALIVE); mark = alive / str(os.getpid())
mark.touch()
with open(alive.parent / "counts", "a") as counts:
    counts.write(f"{len(list(alive.iterdir()))}\\n")
done = subprocess.run([REAL, *sys.argv[1:]])
mark.unlink()
sys.exit(done.returncode)
"""


def test_at_most_so_many_pagefind_processes_are_alive_at_once_and_every_page_is_indexed(
    data, tmp_path, small_shards, monkeypatch
):
    # each Pagefind process holds its shard's pages in memory until it writes the bundle: their number is bounded
    (tmp_path / "alive").mkdir()
    wrapper = tmp_path / "pagefind"
    where = f"ALIVE = {str(tmp_path / 'alive')!r}\nREAL = {str(searchindex.executable())!r}\n"
    wrapper.write_text(f"#!{sys.executable}\n{where}{COUNTING_WRAPPER}")
    wrapper.chmod(0o755)
    monkeypatch.setattr(searchindex, "executable", lambda: wrapper)
    monkeypatch.setattr(searchindex, "CONCURRENT", 2)
    monkeypatch.setattr(render, "BATCH_PAGES", 3)  # pages in several batches: shards fed between them
    out = tmp_path / "_site"
    report = build(data, out, search=True)
    counts = [int(n) for n in (tmp_path / "counts").read_text().split()]
    assert len(counts) == len(report.search_shards) > 2  # more shards than may be indexed at once
    assert max(counts) == 2
    others = json.loads((out / "pagefind" / "shards.json").read_text())
    bundles = [out / "pagefind"] + [out / "pagefind" / p for p in others]
    assert sum(pages_in(b) for b in bundles) == len(searchable(out))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("._site.")] == []  # nor a spool left behind


def test_a_rebuild_reindexes_only_the_shard_of_the_page_that_changed(data, tmp_path, small_shards):
    out = tmp_path / "_site"
    build(data, out, search=True)
    assert build(data, out, search=True).search_shards == []  # nothing changed: every shard kept
    summary = data / "summaries" / "coup-probes-2023.md"
    summary.write_text(summary.read_text().replace("*linear* classifier", "*linear* monitor"))
    again = build(data, out, search=True)
    shards = 1 + len(json.loads((out / "pagefind" / "shards.json").read_text()))
    assert again.search_shards == [searchindex.shard_of("works/coup-probes-2023.html", shards)]
    bundle = out / searchindex.bundle(again.search_shards[0])
    fragments = " ".join(p.read_bytes().hex() for p in (bundle / "fragment").iterdir())
    assert fragments  # the re-indexed shard is a complete bundle, not an empty one


def test_the_pages_marked_searchable_are_as_many_as_the_index_is_sized_for(data, tmp_path):
    with Workspace(data, tmp_path / "kb.sqlite").connect() as conn:
        exported = catalogue.export(conn)
    pages = context.pages(exported, context.SiteConfig())
    assert context.searchable_count(exported) == sum(1 for p in pages if p.search)


def records(out) -> dict[str, dict]:
    """What the search index was made from: each searchable page's record, as the site keeps them."""
    lines = [line for f in sorted((out / searchindex.RECORDS_DIR).iterdir()) for line in f.read_text().splitlines()]
    return dict(json.loads(line) for line in lines)


def test_a_work_s_record_holds_its_article_not_its_navigation_lists_or_who_tagged_it(data, tmp_path):
    out = tmp_path / "_site"
    build(data, out, search=True)
    kept = records(out)
    assert sorted(kept) == sorted(searchable(out))
    record = kept["works/coup-probes-2023.html"]
    assert record["meta"] == {"title": "Coup probes catch catastrophes"}
    assert "The probe is a linear classifier on activations." in record["content"]  # the summary, as text
    assert "Fabien Roger" in record["content"]
    assert record["filters"]["technique"] == ["Linear probing", "Representation engineering", "Representation reading"]
    html = (out / "works" / "coup-probes-2023.html").read_text()
    assert "curated" in html and "Related works" in html and "Cite" in html
    for shown_only in ("curated", "Related works", "Cite", "Download", "safety-kb"):
        assert shown_only not in record["content"]


@pytest.fixture
def broken_pagefind(tmp_path, monkeypatch):
    fake = tmp_path / "pagefind"
    fake.write_text("#!/bin/sh\necho 'index: disk full' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake))


def test_a_pagefind_failure_fails_the_build_with_what_pagefind_said_and_keeps_the_old_site(data, tmp_path, request):
    out = tmp_path / "_site"
    build(data, out, search=True)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    summary = data / "summaries" / "coup-probes-2023.md"
    summary.write_text(summary.read_text().replace("*linear* classifier", "*linear* monitor"))
    request.getfixturevalue("broken_pagefind")
    with pytest.raises(render.SiteBuildError, match=r"(?s)Pagefind failed.*shard 0.*disk full"):
        build(data, out, search=True)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    html = (out / "works" / "coup-probes-2023.html").read_text()
    assert "<em>linear</em> classifier" in html and "<em>linear</em> monitor" not in html
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("._site.")] == []  # no staging left behind


FAKE_SERVICE = """
import base64, json, sys
ON_START
# Pagefind's service protocol: base64 JSON messages, each ended by a comma; what it does when asked for the
# bundle is filled in by the test (fake_pagefind)
def answer(message_id, payload):
    text = json.dumps({"message_id": message_id, "payload": payload})
    sys.stdout.buffer.write(base64.b64encode(text.encode()) + b",")
    sys.stdout.buffer.flush()
pending = b""
while chunk := sys.stdin.buffer.read1(65536):
    *messages, pending = (pending + chunk).split(b",")
    for raw in messages:
        message = json.loads(base64.b64decode(raw))
        kind = message["payload"]["type"]
        if kind == "NewIndex":
            answer(message["message_id"], {"type": "NewIndex", "index_id": 1})
        elif kind == "AddFile":
            answer(message["message_id"], {"type": "IndexedFile", "page_url": "/", "page_meta": {}})
        else:  # asked for the bundle
            BEFORE
            answer(message["message_id"], BUNDLE_ANSWER)
"""
REFUSAL = '{"type": "Error", "message": "cannot write the bundle: no space left"}'


def fake_pagefind(tmp_path, monkeypatch, bundle_answer: str, before: str = "", on_start: str = "") -> None:
    """A fake Pagefind speaking the protocol, answering `bundle_answer` (a Python expression) when asked for the
    bundle, after running `before`; it runs `on_start` when started."""
    service = FAKE_SERVICE.replace("ON_START", on_start or "pass")
    service = service.replace("BEFORE", before or "pass").replace("BUNDLE_ANSWER", bundle_answer)
    fake = tmp_path / "pagefind"
    fake.write_text(f"#!{sys.executable}\n{service}")
    fake.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake))


@pytest.mark.parametrize(
    "file, says",
    [
        ({"path": "../../escaped.txt", "content": "eA=="}, "outside its bundle"),
        ({"path": "", "content": "eA=="}, "outside its bundle"),
        ({"path": "fragment/x.pf_fragment", "content": "not base64!"}, "cannot be read"),
        ({"path": "fragment/x.pf_fragment"}, "cannot be read"),
    ],
)
def test_a_bundle_file_pagefind_gives_wrong_fails_the_build_and_nothing_is_written(
    data, tmp_path, monkeypatch, file, says
):
    fake_pagefind(tmp_path, monkeypatch, repr({"type": "GetFiles", "files": [file]}))
    with pytest.raises(render.SiteBuildError, match=says):
        build(data, tmp_path / "_site", search=True)
    assert not list(tmp_path.rglob("escaped.txt"))
    assert not (tmp_path / "_site").exists()


def test_the_first_shard_that_fails_stops_the_others(data, tmp_path, small_shards, monkeypatch):
    # the first Pagefind asked for its bundle fails; the other one alive would take long: it is stopped, not
    # waited for, and no other shard's Pagefind is started
    marker, started = tmp_path / "failed", tmp_path / "started"
    before = (
        f"import os, time; failing = not os.path.exists({str(marker)!r}); open({str(marker)!r}, 'a').close()\n"
        "            time.sleep(0 if failing else 60)"
    )
    on_start = f"open({str(started)!r}, 'a').write('x')"
    fake_pagefind(tmp_path, monkeypatch, '{"type": "Error", "message": "disk full"}', before, on_start)
    monkeypatch.setattr(searchindex, "CONCURRENT", 2)
    with pytest.raises(render.SiteBuildError, match="disk full"):
        build(data, tmp_path / "_site", search=True)
    with Workspace(data, tmp_path / "kb.sqlite").connect() as conn:
        shards = searchindex.shard_count(context.searchable_count(catalogue.export(conn)))
    assert len(started.read_text()) == 2 < shards  # the two alive at once, of more shards


def test_pagefind_refusing_to_write_its_bundle_fails_the_build_instead_of_hanging(data, tmp_path, monkeypatch):
    fake_pagefind(tmp_path, monkeypatch, REFUSAL)
    with pytest.raises(render.SiteBuildError, match="no space left"):
        build(data, tmp_path / "_site", search=True)
    assert not (tmp_path / "_site").exists()
