"""The site's dependency map: each page generator names the works a page shows (Page.works), so that an edit to
one work's record need touch only the pages naming it and those made from the whole catalogue."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from kb import catalogue
from kb.website import context
from kb.workspace import Workspace

CONFIG = context.SiteConfig(build_date=dt.date(2026, 11, 24))


def exported(data):
    ws = Workspace(data, data.parent / "kb.sqlite")
    ws.build()
    with ws.connect() as conn:
        return catalogue.export(conn)


def prints(export: dict) -> dict[str, bytes]:
    return {p.path: context.fingerprint(p) for p in context.iter_pages(export, CONFIG)}


def edit_summary(w: dict) -> None:
    w["summary"] = dict(w["summary"], body=w["summary"]["body"] + "\n\nOne more sentence.")


def edit_abstract(w: dict) -> None:
    w["abstract"] = (w["abstract"] or "") + " One more sentence."


def edit_venue(w: dict) -> None:  # a field every card of the work shows
    w["venue"] = (w["venue"] or "") + " (extended)"


@pytest.mark.slow  # a dozen edits, each deriving every page of the shipped site twice
@pytest.mark.parametrize("edit", [edit_summary, edit_abstract, edit_venue])
def test_an_edit_to_one_work_changes_only_pages_the_dependency_map_names_for_it(shipped_data, edit):
    before = exported(shipped_data)
    old = prints(before)
    by_work, everywhere = context.dependencies(context.iter_pages(before, CONFIG))
    edited = [w for w in before["works"] if w["summary"]] if edit is edit_summary else before["works"]
    assert edited
    for w in edited[:: max(1, len(edited) // 12)]:  # a dozen works spread over the catalogue
        after = copy.deepcopy(before)
        edit(next(x for x in after["works"] if x["id"] == w["id"]))
        new = prints(after)
        changed = {path for path in old if old[path] != new[path]}
        assert f"works/{w['id']}.html" in changed
        assert changed - set(by_work[w["id"]]) - set(everywhere) == set(), w["id"]
        # what lets an incremental build make only the edited work's own pages: while no work's brief (its card and
        # tags) changed, no other work's page changed
        briefs = [context._Brief(x, {}).digest() for x in after["works"]]
        assert (briefs == [context._Brief(x, {}).digest() for x in before["works"]]) == (edit is not edit_venue)
        if edit is not edit_venue:
            assert {p for p in changed if p.startswith(context.WORKS_FOLDER)} <= set(context.work_paths(w["id"]))


def test_one_summary_edit_depends_on_a_small_part_of_the_site(shipped_data):
    pages = list(context.iter_pages(exported(shipped_data), CONFIG))
    by_work, everywhere = context.dependencies(pages)
    largest = max(len(set(paths) | set(everywhere)) for paths in by_work.values())
    assert largest < len(pages) / 4


def test_every_page_a_generator_makes_names_its_works_or_the_whole_catalogue(data):
    export = exported(data)
    ids = {w["id"] for w in export["works"]}
    for page in context.iter_pages(export, CONFIG):
        assert page.works is None or set(page.works) <= ids, page.path
        if page.path.startswith("works/"):
            assert page.path.split("/")[1].rsplit(".", 1)[0] in page.works


def test_a_work_s_own_pages_are_those_work_paths_names(data):
    # an incremental build carries every unchanged work's own pages over by these paths, without making them
    export = exported(data)
    made = [p.path for p in context.iter_pages(export, CONFIG) if p.path.startswith(context.WORKS_FOLDER)]
    assert made == [path for w in export["works"] for path in context.work_paths(w["id"])]


def test_a_work_s_brief_has_one_digest_however_its_equal_parts_are_shared_with_other_works():
    # a brief shares equal parts (an author, a venue) with the works read before it: the same content read in another
    # order must digest the same, or every incremental build makes every work's pages (the cards seem to change)
    venue = "Proceedings of Same"
    record = {
        "id": "w1", "kind": "paper", "title": venue, "year": 2023, "venue": venue, "more_authors": 0,
        "authors": [{"name": "A. Author", "id": "a-author"}], "motivations": [], "motivation_status": "none-stated",
        "added": "2026-01-01", "citation_count": None, "techniques": [{"slug": "probing", "by": "curator"}],
        "summary": None,
    }  # fmt: skip
    read_first = context._Brief(record, {})  # its venue is its title's very string
    other = "".join(["Proceedings of ", "Same"])  # an equal string from a work read earlier
    read_later = context._Brief(record, {other: other})
    assert read_first.venue is read_first.title and read_later.venue is not read_later.title
    assert read_first.digest() == read_later.digest()
    changed = context._Brief(dict(record, year=2024), {})
    assert changed.digest() != read_first.digest()
