"""The site reads the catalogue's works a chunk at a time (and forked renderers through connections of their own)
instead of holding every record: the same pages, byte for byte, as from the whole export held at once."""

import datetime as dt
import multiprocessing
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb import catalogue, website
from kb.catalogue.build import build as build_catalogue
from kb.store.datadir import load
from kb.website import context, render, searchindex
from kb.workspace import Workspace

DATE = dt.date(2026, 11, 24)


def _tree(root: Path) -> dict[str, bytes]:
    # built without search (test_site_incremental compares search bundles); the manifest names the build's inputs
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != render.MANIFEST and searchindex.SEARCH_DIR not in p.relative_to(root).parts
    }


def test_works_read_a_chunk_at_a_time_are_the_works_read_at_once(data, tmp_path, monkeypatch):
    with Workspace(data, tmp_path / "kb.sqlite").connect() as conn:
        whole = catalogue.export(conn)["works"]
        monkeypatch.setattr(catalogue, "WORK_CHUNK", 2)
        assert list(catalogue.iter_works(conn)) == whole
        wanted = [w["id"] for w in reversed(whole)][:5]
        fetched = catalogue.Works(conn).fetch([wanted[0], "no-such-work", *wanted[1:]])
    assert [w["id"] for w in fetched] == wanted  # in the order asked for; an unknown id is skipped
    assert fetched == [w for i in wanted for w in whole if w["id"] == i]


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="worker processes are forked")
def test_a_site_from_works_read_in_chunks_equals_one_from_the_whole_export(data, tmp_path, monkeypatch):
    ws = Workspace(data, tmp_path / "kb.sqlite")

    def build(out: Path) -> render.Report:
        with ws.connect() as conn:
            return website.build(conn, out, base_url="https://kb.example/", build_date=DATE, search=False)

    monkeypatch.setattr(render, "PARALLEL_MIN_PAGES", 0)  # forked renderers, which fetch through their own connection
    monkeypatch.setattr(render.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(catalogue, "WORK_CHUNK", 2)
    monkeypatch.setattr(context, "CHUNK_WORKS", 3)
    monkeypatch.setattr(context, "ENTRY_CHARS", 2000)  # citation entries let go and made again, a few at a time
    streamed = build(tmp_path / "streamed")
    with monkeypatch.context() as held:
        held.setattr(catalogue, "Works", lambda conn: catalogue.export(conn)["works"])
        whole = build(tmp_path / "held")
    assert streamed.rendered == whole.rendered
    assert _tree(tmp_path / "streamed") == _tree(tmp_path / "held")


def test_a_renderer_refuses_a_catalogue_replaced_during_the_build(data, tmp_path, monkeypatch):
    db = tmp_path / "kb.sqlite"
    with Workspace(data, db).connect() as conn:
        works = catalogue.Works(conn)
        ids = [w["id"] for w in catalogue.export(conn)["works"]][:2]
        build_catalogue(load(data), tmp_path / "again.sqlite")
        os.replace(tmp_path / "again.sqlite", db)  # as `kb build` replaces it
        pid = os.getpid()
        monkeypatch.setattr(catalogue.os, "getpid", lambda: pid + 1)  # a forked renderer
        with pytest.raises(catalogue.Unreadable, match="replaced while the site was built"):
            works.fetch(ids)


@given(st.integers(min_value=0, max_value=2_000_000))
def test_no_pagefind_process_is_given_more_than_its_share_of_a_large_site(pages):
    shards = searchindex.shard_count(pages)
    assert shards * searchindex.PROCESS_PAGES >= pages  # on average a shard holds at most PROCESS_PAGES
    small = max(1, min(searchindex.MAX_SHARDS, -(-pages // searchindex.SHARD_PAGES)))
    if pages <= searchindex.MAX_SHARDS * searchindex.PROCESS_PAGES:
        assert shards == small  # a site of the usual size is sharded as before
    else:
        assert shards == -(-pages // searchindex.PROCESS_PAGES)  # no more shards than the bound needs
    assert searchindex.CONCURRENT * searchindex.PROCESS_PAGES <= searchindex.PAGES_ALIVE
