"""Rendering in forked worker processes gives the same site, byte for byte, as rendering in one."""

import datetime as dt
import multiprocessing
from pathlib import Path

import pytest

from kb import website
from kb.website import render
from kb.workspace import Workspace

DATE = dt.date(2026, 11, 24)
pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="worker processes are forked"
)


def _build(data: Path, db: Path, out: Path) -> render.Report:
    ws = Workspace(data, db)
    ws.build()
    with ws.connect() as conn:
        return website.build(conn, out, base_url="https://kb.example/", build_date=DATE, search=False)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_site_rendered_by_worker_processes_equals_one_rendered_in_one_process(data, tmp_path, monkeypatch):
    monkeypatch.setattr(render.os, "cpu_count", lambda: 1)
    serial = _build(data, tmp_path / "a.sqlite", tmp_path / "serial")
    monkeypatch.setattr(render, "PARALLEL_MIN_PAGES", 0)
    monkeypatch.setattr(render.os, "cpu_count", lambda: 2)
    parallel = _build(data, tmp_path / "b.sqlite", tmp_path / "parallel")
    assert parallel.rendered == serial.rendered
    assert _tree(tmp_path / "parallel") == _tree(tmp_path / "serial")


def test_an_incremental_build_in_worker_processes_renders_only_the_changed_page(data, tmp_path, monkeypatch):
    monkeypatch.setattr(render, "PARALLEL_MIN_PAGES", 0)
    monkeypatch.setattr(render.os, "cpu_count", lambda: 2)
    out = tmp_path / "site"
    _build(data, tmp_path / "c.sqlite", out)
    summary = next((data / "summaries").glob("*.md"))
    summary.write_text(summary.read_text() + "\nOne more sentence.\n")
    again = _build(data, tmp_path / "c.sqlite", out)
    assert f"works/{summary.stem}.html" in again.rendered
    assert 0 < len(again.rendered) < again.pages


def test_a_site_written_in_small_batches_equals_one_written_in_one_batch(data, tmp_path, monkeypatch):
    whole = _build(data, tmp_path / "a.sqlite", tmp_path / "whole")
    monkeypatch.setattr(render, "BATCH_PAGES", 3)  # pages derived and written three at a time
    monkeypatch.setattr(render, "PARALLEL_MIN_PAGES", 2)
    batched = _build(data, tmp_path / "b.sqlite", tmp_path / "batched")
    assert batched.pages == whole.pages > 3 * 2
    assert batched.rendered == whole.rendered
    assert _tree(tmp_path / "batched") == _tree(tmp_path / "whole")


def test_workers_replaced_after_every_chunk_render_the_same_site(data, tmp_path, monkeypatch):
    monkeypatch.setattr(render.os, "cpu_count", lambda: 1)
    serial = _build(data, tmp_path / "a.sqlite", tmp_path / "serial")
    monkeypatch.setattr(render, "PARALLEL_MIN_PAGES", 0)
    monkeypatch.setattr(render.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(render, "CHUNK_PAGES", 5)
    monkeypatch.setattr(render, "WORKER_CHUNKS", 1)  # a fresh fork for every five pages
    recycled = _build(data, tmp_path / "b.sqlite", tmp_path / "recycled")
    assert recycled.pages == serial.pages > 5 * 4
    assert recycled.rendered == serial.rendered
    assert _tree(tmp_path / "recycled") == _tree(tmp_path / "serial")
