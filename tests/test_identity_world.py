"""Identity on the world's data (issue 24): a changelog's #fragment items stay apart, cross-posts between feeds and
between a feed and the forum merge on strong evidence and stay apart otherwise, a publications feed's copy of a
catalogued paper discusses it, generic titles never merge on a surname, and the outcome does not depend on the
order records arrive in. Also: forum threads to the true parent at any depth, and edits at the source."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers import lesswrong
from importers.http import Polite, client
from importers.records import WorkRecord
from kb.ingest.imports import Fetched, apply
from kb.ingest.merging import Merger, match_text, same_text
from kb.store import datadir
from kb.store.datadir import Dataset
from kb.workspace import Workspace
from tests.conftest import SHARED

LAB = "feed:https://lab.example/news/rss"
BLOG = "feed:https://lab.example/blog/rss"
TEXT = (
    "We trained linear probes on the activations of a language model to catch the moment it starts to act on a"
    " hidden goal, and found that probes trained on synthetic examples generalise to the real thing."
)


def feed_item(source, title, date, guid=None, url=None, authors=(), abstract=None, ids=None) -> WorkRecord:
    return WorkRecord(
        source=source, kind="post", title=title, year=int(date[:4]), date=date, authors=list(authors),
        abstract=abstract, url=url, ids=ids or ({"feed": guid} if guid else {}),
    )  # fmt: skip


def paper(source, title, year, authors, **kw) -> WorkRecord:
    return WorkRecord(source=source, kind="paper", title=title, year=year, authors=list(authors), **kw)


def merged(*records) -> list[str]:
    """The work each record became, merged one by one in this order into an empty catalogue (as separate imports)."""
    merger = Merger(Dataset(root=Path("/nonexistent")))
    out = [merger.add(r) for r in records]
    merger.resolve_links()
    return out


def imported_at_once(*records) -> list[str]:
    """The work each record became, merged as one import (kb import, kb sync) does."""
    merger = Merger(Dataset(root=Path("/nonexistent")))
    out = merger.add_all(list(records))
    merger.resolve_links()
    return out


def ws(data: Path) -> Workspace:
    return Workspace(data, data.parent / "kb.sqlite")


# -- fragments, cross-posts, generic titles --------------------------------------------------------------------------


def test_changelog_items_that_differ_only_by_fragment_and_guid_are_distinct_works():
    items = [
        feed_item(
            LAB, f"Release 1.{n}", "2025-01-0" + str(n), guid=f"changelog-{n}", url=f"https://x.example/log#v1-{n}"
        )
        for n in range(1, 6)
    ]
    assert len(set(merged(*items))) == 5
    # the same item again is the same work, by its guid
    first = merged(items[0], dataclasses.replace(items[0], title="Release 1.1 (fixed)"))
    assert first[0] == first[1]


def test_a_changelog_entry_given_a_new_guid_by_a_later_version_of_its_feed_stays_one_work():
    url = "https://x.example/CHANGELOG.md#1068"
    old = feed_item(LAB, "v1.0.68", "2025-08-02", guid=url, url=url)
    new = feed_item(LAB, "v1.0.68", "2025-08-09", guid=url + "#-8340293783787579860", url=url)
    assert len(set(merged(old, new))) == 1 and len(set(merged(new, old))) == 1
    # another title at that entry, or another entry, is another item of the feed
    assert len(set(merged(old, dataclasses.replace(new, title="v1.0.69")))) == 2
    other = feed_item(LAB, "v1.0.68", "2025-08-09", guid="g-2", url="https://x.example/CHANGELOG.md#1069")
    assert len(set(merged(old, other))) == 2


def test_a_changelog_without_guids_gives_one_work_per_fragment_and_a_second_import_changes_nothing(data):
    items = [
        feed_item(LAB, f"Version 2.{n}", f"2025-02-0{n}", url=f"https://x.example/changelog#version-2-{n}")
        for n in range(1, 7)
    ]
    assert len(apply(ws(data), [Fetched("feed", items)]).added) == 6
    again = apply(ws(data), [Fetched("feed", items)])
    assert again.added == [] and again.updated == [] and len(again.skipped) == 6


def test_two_fragments_of_one_page_from_two_feeds_stay_apart():
    a = feed_item(LAB, "Changes in January", "2025-01-31", url="https://x.example/changes#january")
    b = feed_item(BLOG, "Changes in February", "2025-02-28", url="https://x.example/changes#february")
    assert len(set(merged(a, b))) == 2


def test_the_same_post_on_a_news_feed_and_a_product_blog_merges():
    news = feed_item(LAB, "Introducing probes that catch coups", "2025-03-04", guid="https://lab.example/news/coups",
                     url="https://lab.example/news/coups", abstract=TEXT)  # fmt: skip
    blog = feed_item(BLOG, "Introducing Probes That Catch Coups", "2025-03-04", guid="https://lab.example/blog/coups",
                     url="https://lab.example/blog/coups", abstract=TEXT[:150])  # fmt: skip
    a, b = merged(news, blog)
    assert a == b


def test_a_blog_post_and_its_forum_cross_post_weeks_later_merge_on_the_same_text():
    blog = feed_item(LAB, "Catching coups with probes", "2025-03-04", url="https://lab.example/coups", abstract=TEXT)
    forum = feed_item("alignmentforum", "Catching coups with probes", "2025-04-01", authors=["Fabien Roger"],
                      abstract="Cross-posted from our blog. " + TEXT, ids={"alignmentforum": "a" * 17})  # fmt: skip
    assert len(set(merged(blog, forum))) == 1 and len(set(merged(forum, blog))) == 1


def test_equal_titles_with_neither_text_nor_author_in_common_weeks_apart_stay_apart():
    blog = feed_item(LAB, "Catching coups with probes", "2025-03-04", url="https://lab.example/coups", abstract=TEXT)
    forum = feed_item("alignmentforum", "Catching coups with probes", "2025-04-01", authors=["Someone Else"],
                      abstract="I disagree with the post of this name, for three reasons that I give below in turn.",
                      ids={"alignmentforum": "b" * 17})  # fmt: skip
    assert len(set(merged(blog, forum))) == 2


def test_a_lab_post_and_the_forum_post_by_its_author_days_later_merge():
    lab = feed_item(LAB, "Alignment faking in large language models", "2024-12-18", authors=["Ryan Greenblatt"])
    forum = feed_item("lesswrong", "Alignment Faking in Large Language Models", "2024-12-20",
                      authors=["ryan_greenblatt", "Ryan Greenblatt"], ids={"lesswrong": "c" * 17})  # fmt: skip
    assert len(set(merged(lab, forum))) == 1


def test_generic_titles_never_merge_on_a_shared_surname_alone():
    one = paper("openalex", "Introduction", 2019, ["J. Smith"], ids={"openalex": "W1"})
    two = paper("crossref", "Introduction", 2019, ["A. Smith", "B. Jones"], ids={"doi": "10.1/two"})
    assert len(set(merged(one, two))) == 2
    three = paper("openalex", "Deep learning for protein folding", 2019, ["J. Smith"], ids={"openalex": "W3"})
    four = paper("crossref", "Deep learning for protein folding", 2019, ["A. Smith"], ids={"doi": "10.1/four"})
    assert len(set(merged(three, four))) == 2  # another person of the same surname


def test_openalex_preprint_and_published_records_merge_whatever_the_order():
    arxiv = paper("arxiv", "Probing for deception", 2023, ["Ada Lovelace", "Grace Hopper"], ids={"arxiv": "2301.00001"})
    pre = paper("openalex", "Probing for deception", 2023, ["A. Lovelace", "G. Hopper"],
                ids={"openalex": "W10", "arxiv": "2301.00001"})  # fmt: skip
    pub = paper("openalex", "Probing for Deception", 2024, ["Ada Lovelace", "Grace Hopper"],
                ids={"openalex": "W11", "doi": "10.1000/pub.1"}, venue="Journal of Probes")  # fmt: skip
    for order in ([arxiv, pre, pub], [arxiv, pub, pre], [pub, pre, arxiv], [pre, pub, arxiv]):
        assert len(set(merged(*order))) == 1, [r.ids for r in order]


def test_a_paper_under_its_arxiv_v1_title_elsewhere_merges_by_the_same_authors_in_order():
    v2 = paper("arxiv", "Coup probes: catching catastrophes with probes trained off-policy", 2023,
               ["Fabien Roger", "Ada Lovelace"], ids={"arxiv": "2311.00001"})  # fmt: skip
    v1 = paper("semanticscholar", "Coup probes: catching catastrophes with off-policy probes", 2023,
               ["F. Roger", "A. Lovelace"], ids={"s2": "abc"})  # fmt: skip
    assert len(set(merged(v2, v1))) == 1
    sequel = paper("semanticscholar", "Coup probes 2: catching catastrophes with probes trained off-policy", 2024,
                   ["Fabien Roger", "Ada Lovelace"], ids={"s2": "def"})  # fmt: skip
    assert len(set(merged(v2, sequel))) == 2  # another number: another work


def test_a_publications_feed_copy_of_a_catalogued_paper_discusses_it_in_either_order(data, tmp_path):
    title = "Representation engineering: a top-down approach to AI transparency"
    the_paper = paper("arxiv", title, 2023, ["Andy Zou", "Dan Hendrycks"], ids={"arxiv": "2310.01405"})
    the_post = feed_item(LAB, title, "2023-10-03", guid="https://lab.example/pubs/repe")
    for order in ([the_paper, the_post], [the_post, the_paper]):
        copy = shutil.copytree(data, tmp_path / str(order[0].kind) / "data")
        apply(ws(copy), [Fetched("test", list(order))])
        works = {w.kind: w for w in datadir.load(copy).works if w.title == title}
        assert [(r.type, r.target) for r in works["post"].relations] == [("discusses", works["paper"].id)]


def test_provenance_says_which_rule_merged_each_record():
    arxiv = paper("arxiv", "Probing for deception", 2023, ["Ada Lovelace", "Grace Hopper"], ids={"arxiv": "2301.00001"})
    scholar = paper("scholar", "PROBING FOR DECEPTION", 2023, ["G Hopper"], more_authors=True, ids={"scholar": "x:1"})
    oa = paper("openalex", "Probing for deception", 2023, [], ids={"openalex": "W1", "arxiv": "2301.00001"})
    merger = Merger(Dataset(root=Path("/nonexistent")))
    work = {merger.add(r) for r in (arxiv, scholar, oa)}.pop()
    said = [p.matched_by for p in merger.works[work].provenance]
    assert said[0] is None  # it made the work
    assert said[1].startswith("same title, year and an author in common")
    assert said[2] == "same identifier: arxiv 2301.00001"


def test_texts_one_cut_short_are_the_same_and_other_texts_are_not():
    assert same_text(TEXT, TEXT[:140] + "…") and same_text("Cross-posted from the blog. " + TEXT, TEXT)
    assert not same_text(TEXT, "We trained linear probes on the activations of a vision model to find dogs.")
    assert not same_text("Read more", "Read more")  # too short to be evidence


NEWSLETTER = (
    "Welcome to the newsletter of the probes lab. We discuss developments in interpretability and in probes. No"
    " technical background required. This week: a state bill on model audits, and probes that find sleeper agents."
)


def undated(record: WorkRecord) -> WorkRecord:
    return dataclasses.replace(record, date=None, year=None)


def test_a_cross_post_that_opens_with_a_note_merges_when_one_date_is_unknown_and_not_without_text():
    blog = undated(feed_item(LAB, "Catching coups with probes", "2025-03-04", url="https://lab.example/coups",
                             abstract=TEXT + " We then list what failed."))  # fmt: skip
    note = "This is a link post for https://lab.example/coups and https://lab.example/coups-paper. "
    forum = feed_item("lesswrong", "Catching Coups with Probes", "2025-04-01", authors=["Fabien Roger"],
                      abstract=note + TEXT[:120], ids={"lesswrong": "d" * 17})  # fmt: skip
    assert len(set(merged(blog, forum))) == 1 and len(set(merged(forum, blog))) == 1
    silent = dataclasses.replace(forum, abstract=None)  # a title alone, one date unknown: no evidence
    assert len(set(merged(blog, silent))) == 2
    other = dataclasses.replace(forum, abstract="Why I think probes will not catch coups, in three parts below.")
    assert len(set(merged(blog, other))) == 2


def test_a_generic_title_with_a_boilerplate_opening_and_no_date_stays_apart():
    one = undated(feed_item(LAB, "Weekly update", "2025-03-04", url="https://lab.example/w1", abstract=NEWSLETTER))
    two = undated(feed_item(BLOG, "Weekly update", "2025-03-11", url="https://lab.example/w2", abstract=NEWSLETTER))
    assert len(set(merged(one, two))) == 2


def test_a_title_cut_short_or_extended_merges_on_the_same_text_and_a_reply_or_another_issue_does_not():
    issue = feed_item(LAB, "Probes Newsletter #40: model audits", "2024-08-20", url="https://news.example/40",
                      abstract=NEWSLETTER)  # fmt: skip
    copy = feed_item("feed:https://forum.example", "Probes Newsletter #40: model audits plus sleeper agents, an",
                     "2024-08-21", url="https://forum.example/posts/40", abstract=NEWSLETTER)  # fmt: skip
    assert len(set(merged(issue, copy))) == 1 and len(set(merged(copy, issue))) == 1
    inserted = dataclasses.replace(copy, title="Probes Newsletter #40: new model audits")
    assert len(set(merged(issue, inserted))) == 1  # a word inserted
    reply = dataclasses.replace(copy, title="Reply to Probes Newsletter #40: model audits")
    another = dataclasses.replace(copy, title="Probes Newsletter #41: model audits and more")
    part_two = dataclasses.replace(copy, title="Probes Newsletter #40: model audits, part II")
    no_text = dataclasses.replace(copy, abstract="A different text about something else that happened this week.")
    for record in (reply, another, part_two, no_text):
        assert len(set(merged(issue, record))) == 2, record.title


def test_a_collection_page_and_one_of_its_fragment_entries_are_two_works_in_either_order():
    page = feed_item(LAB, "Updates - July 2025", "2025-07-01", url="https://x.example/2025/july/index.html")
    entry = feed_item(BLOG, "Revisiting probes", "2025-07-01", url="https://x.example/2025/july/index.html#probes")
    assert len(set(merged(page, entry))) == 2 and len(set(merged(entry, page))) == 2
    more = feed_item(BLOG, "Updates — July 2025", "2025-07-01", url="https://x.example/2025/july/index.html#more")
    assert len(set(merged(page, more))) == 1  # the page itself, linked at a place in it


def test_an_arxiv_doi_is_the_arxiv_id_in_either_order():
    arxiv = paper("arxiv", "Technical report: models deceive under pressure", 2023, ["J Scheurer"],
                  ids={"arxiv": "2311.07590"})  # fmt: skip
    scholar = paper("scholar", "Models deceive under pressure", 2024, [], ids={"doi": "10.48550/arXiv.2311.07590"})
    assert len(set(merged(arxiv, scholar))) == 1 and len(set(merged(scholar, arxiv))) == 1


ROBUSTNESS = paper("arxiv", "Objective robustness in deep reinforcement learning", 2021,
                   ["Jack Koch", "Lauro Langosco", "Jacob Pfau", "James Le", "Lee Sharkey"],
                   ids={"arxiv": "2105.14111"})  # fmt: skip
MISGENERALISATION = paper(
    "scholar",
    "Goal misgeneralization in deep reinforcement learning",
    2022,
    ["Lauro Langosco Di Langosco", "Jack Koch", "Lee D Sharkey", "Jacob Pfau", "David Krueger"],
)


def test_a_renamed_paper_merges_by_most_of_its_authors_and_another_paper_of_the_team_does_not():
    assert len(set(merged(ROBUSTNESS, MISGENERALISATION))) == 1
    assert len(set(merged(MISGENERALISATION, ROBUSTNESS))) == 1
    fewer = dataclasses.replace(MISGENERALISATION, authors=["Jack Koch", "Lee Sharkey", "Ada Lovelace", "Bo Li"])
    assert len(set(merged(ROBUSTNESS, fewer))) == 2  # two of four in common
    unlike = dataclasses.replace(MISGENERALISATION, title="Reward hacking in the wild")
    assert len(set(merged(ROBUSTNESS, unlike))) == 2  # the same people, another title
    later = dataclasses.replace(MISGENERALISATION, year=2024)
    assert len(set(merged(ROBUSTNESS, later))) == 2  # three years apart


def test_a_renamed_paper_merges_by_its_first_author_and_abstract():
    abstract = "A growing body of work uses probing to investigate the working of neural models, often black boxes."
    v1 = paper("arxiv", "When probes forget: amnesic probing of linguistic properties", 2020, ["Yanai Elazar"],
               abstract=abstract, ids={"arxiv": "2006.00995"})  # fmt: skip
    published = paper(
        "openalex",
        "Amnesic probing: behavioral explanation",
        2021,
        ["Yanai Elazar", "Shauli Ravfogel"],
        abstract=abstract,
        ids={"doi": "10.1162/tacl_a_00359"},
    )
    assert len(set(merged(v1, published))) == 1 and len(set(merged(published, v1))) == 1
    other_author = dataclasses.replace(published, authors=["Shauli Ravfogel", "Yanai Elazar"])
    assert len(set(merged(v1, other_author))) == 2
    other_text = dataclasses.replace(published, abstract="We propose amnesic counterfactuals for probing models.")
    assert len(set(merged(v1, other_text))) == 2


def test_a_forums_linkpost_label_is_not_part_of_the_title():
    assert match_text("[Linkpost] Catching coups") == match_text("Link post: catching coups") == "catching coups"
    assert match_text("Linkposts considered harmful") == "linkposts considered harmful"  # a word, not a label
    blog = feed_item(LAB, "Catching coups with probes", "2025-03-04", url="https://lab.example/coups", abstract=TEXT)
    forum = feed_item("lesswrong", "[Linkpost] Catching coups with probes", "2025-03-06", abstract=TEXT,
                      ids={"lesswrong": "f" * 17})  # fmt: skip
    assert len(set(merged(blog, forum))) == 1


def test_openalexs_preprint_and_published_records_under_two_titles_merge_in_any_order():
    authors = ["Jack Koch", "Lauro Langosco", "Jacob Pfau", "Lee Sharkey"]
    arxiv = paper("arxiv", "Objective robustness in deep reinforcement learning", 2021, authors,
                  ids={"arxiv": "2105.14111"})  # fmt: skip
    preprint = paper("openalex", "Objective robustness in deep reinforcement learning", 2021, authors,
                     ids={"openalex": "W1", "doi": "10.48550/arxiv.2105.14111"})  # fmt: skip
    published = paper("openalex", "Goal misgeneralization in deep reinforcement learning", 2022, authors,
                      ids={"openalex": "W2", "doi": "10.5555/icml.2022.1"})  # fmt: skip
    for order in ([arxiv, preprint, published], [published, preprint, arxiv], [preprint, published, arxiv]):
        assert len(set(merged(*order))) == 1, [r.title for r in order]


# -- the outcome does not depend on arrival order --------------------------------------------------------------------

SCENE = [
    paper("arxiv", "Probing for deception", 2023, ["Ada Lovelace", "Grace Hopper"], ids={"arxiv": "2301.00001"}),
    paper("openalex", "Probing for deception", 2023, ["A. Lovelace", "G. Hopper"],
          ids={"openalex": "W10", "arxiv": "2301.00001"}),
    paper("openalex", "Probing for Deception", 2024, ["Ada Lovelace", "Grace Hopper"],
          ids={"openalex": "W11", "doi": "10.1000/pub.1"}),
    paper("scholar", "PROBING FOR DECEPTION", 2024, ["G Hopper"], more_authors=True, ids={"scholar": "x:1"}),
    paper("openalex", "Introduction", 2019, ["J. Smith"], ids={"openalex": "W1"}),
    paper("crossref", "Introduction", 2019, ["A. Smith"], ids={"doi": "10.1/two"}),
    feed_item(LAB, "Catching coups with probes", "2025-03-04", url="https://lab.example/coups", abstract=TEXT),
    feed_item("alignmentforum", "Catching coups with probes", "2025-04-01", authors=["Fabien Roger"],
              abstract=TEXT, ids={"alignmentforum": "a" * 17}),
    feed_item(BLOG, "Catching coups with probes", "2025-03-05", authors=["Fabien Roger"]),
    feed_item(LAB, "Release 1.1", "2025-01-01", guid="c-1", url="https://x.example/log#v1-1"),
    feed_item(LAB, "Release 1.2", "2025-01-02", guid="c-2", url="https://x.example/log#v1-2"),
    feed_item(BLOG, "Probing for deception", "2023-02-01", guid="https://lab.example/pubs/1"),
    feed_item(LAB, "Probes Newsletter #40: model audits", "2024-08-20", abstract=NEWSLETTER),
    feed_item("lesswrong", "Probes Newsletter #40: model audits plus sleeper agents", "2024-08-21",
              abstract=NEWSLETTER, ids={"lesswrong": "e" * 17}),
    ROBUSTNESS,
    MISGENERALISATION,
    feed_item(LAB, "Updates - July 2025", "2025-07-01", url="https://x.example/july"),
    feed_item(BLOG, "Revisiting probes", "2025-07-01", url="https://x.example/july#probes"),
]  # fmt: skip
EXPECTED = [{0, 1, 2, 3}, {4}, {5}, {6, 7, 8}, {9}, {10}, {11}, {12, 13}, {14, 15}, {16}, {17}]


def partition(order: list[int], merge=imported_at_once) -> list[set[int]]:
    works = merge(*[SCENE[i] for i in order])
    groups: dict[str, set[int]] = {}
    for i, work in zip(order, works, strict=True):
        groups.setdefault(work, set()).add(i)
    return sorted(groups.values(), key=min)


def test_the_scene_merges_as_labelled():
    assert partition(list(range(len(SCENE)))) == EXPECTED


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(range(len(SCENE))))
def test_any_arrival_order_gives_the_same_works(order):
    assert partition(list(order)) == EXPECTED


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(range(4)))
def test_a_papers_versions_imported_one_by_one_in_any_order_are_one_work(order):
    # arXiv, OpenAlex's preprint record, OpenAlex's published record, a Scholar profile's entry: separate imports
    assert partition(list(order), merge=merged) == [{0, 1, 2, 3}]


# -- forum threads and edits at the source ---------------------------------------------------------------------------

USER = {"_id": "uid00000000000001", "slug": "fabien-roger", "username": "Fabien Roger", "displayName": "Fabien Roger"}
POST = {"_id": "post0000000000001", "slug": "p", "title": "Coup probes", "postedAt": "2023-11-08T10:00:00Z",
        "af": False, "htmlBody": "<p>x</p>", "user": USER,
        "pageUrl": "https://www.lesswrong.com/posts/post0000000000001/p"}  # fmt: skip


def comment(cid: str, parent: str | None, day: int, **kw) -> dict:
    return {"_id": cid, "postId": POST["_id"], "parentCommentId": parent, "postedAt": f"2023-11-{day:02d}T00:00:00Z",
            "af": False, "htmlBody": f"<p>Comment {cid}</p>", "user": USER, **kw}  # fmt: skip


def forum(sent: list) -> Polite:
    top, middle = comment("cmt000000000000c1", None, 9), comment("cmt000000000000c2", "cmt000000000000c1", 10)
    deep = comment("cmt000000000000c3", "cmt000000000000c2", 11, post=POST, parentComment=middle)
    by_id = {c["_id"]: c for c in (top, middle)}

    def handler(request):
        body = json.loads(request.content)
        sent.append(body)
        query, variables = body["query"], body["variables"]
        if "GetUserBySlug" in query:
            return httpx.Response(200, json={"data": {"GetUserBySlug": USER}})
        if "comment(" in query:
            return httpx.Response(200, json={"data": {"comment": {"result": by_id.get(variables["id"])}}})
        results = [deep] if variables["offset"] == 0 else []
        return httpx.Response(200, json={"data": {"comments": {"results": results}}})

    return Polite(client(httpx.MockTransport(handler)), "test", cache_dir=None, sleep=lambda s: None)


def test_a_reply_to_a_reply_is_threaded_to_its_parent_comment_at_any_depth(data):
    sent = []
    records = list(lesswrong.Client(forum(sent)).comments_by_user("fabien-roger"))
    apply(ws(data), [Fetched("lesswrong", records)])
    works = {w.ids.get("lesswrong"): w for w in datadir.load(data).works}
    by_pk = {w.id: k for k, w in works.items()}

    def replies_to(cid):
        return [by_pk[r.target] for r in works[cid].relations if r.type == "replies-to"]

    assert replies_to("cmt000000000000c3") == ["cmt000000000000c2"]
    assert replies_to("cmt000000000000c2") == ["cmt000000000000c1"]  # asked for by id: it was not delivered
    assert replies_to("cmt000000000000c1") == [POST["_id"]]
    assert [b["variables"] for b in sent if "comment(" in b["query"]] == [{"id": "cmt000000000000c1"}]


SCHEMA = SHARED / "reference-responses" / "lesswrong" / "forummagnum_schema.gql"


def test_the_query_for_a_comment_by_id_is_valid_against_the_real_schema():
    if not SCHEMA.exists():
        pytest.skip("no ../shared reference responses")
    graphql = pytest.importorskip("graphql")
    from graphql.validation import NoDeprecatedCustomRule

    schema = graphql.build_schema(SCHEMA.read_text(), assume_valid_sdl=True)
    document = graphql.parse(lesswrong.COMMENT_BY_ID)
    assert graphql.validate(schema, document, [*graphql.specified_rules, NoDeprecatedCustomRule]) == []


def test_a_title_corrected_at_the_source_updates_the_work_and_the_report_says_so(data):
    first = feed_item(LAB, "Probes that catch copus", "2025-03-04", guid="https://lab.example/p1", abstract=TEXT)
    (work,) = apply(ws(data), [Fetched("feed", [first])]).added
    fixed = dataclasses.replace(first, title="Probes that catch coups", authors=["Fabien Roger"])
    report = apply(ws(data), [Fetched("feed", [fixed])])
    assert report.edited == {work: ["title", "authors"]} and report.updated == [work]
    stored = {w.id: w for w in datadir.load(data).works}[work]
    assert stored.title == "Probes that catch coups" and stored.authors == ["Fabien Roger"]
    assert apply(ws(data), [Fetched("feed", [fixed])]).edited == {}  # once


def test_an_edit_at_the_source_never_changes_a_curated_work_or_another_sources_value(tmp_path):
    curated = feed_item(LAB, "Probes that catch coups", "2025-03-04", guid="https://lab.example/p1")
    merger = Merger(Dataset(root=tmp_path))
    work = merger.add(curated)
    merger.works[work] = merger.works[work].model_copy(update={"provenance": [
        merger.works[work].provenance[0].model_copy(update={"source": "curated"})]})  # fmt: skip
    merger.add(dataclasses.replace(curated, title="Probes that catch coups!"))
    assert merger.works[work].title == "Probes that catch coups" and merger.report.edited == {}

    merger = Merger(Dataset(root=tmp_path))
    work = merger.add(paper("arxiv", "Probing for deception", 2023, ["Ada Lovelace"], ids={"arxiv": "2301.00001"}))
    merger.add(paper("openalex", "Probing for Deception!", 2023, ["Ada Lovelace"], ids={"arxiv": "2301.00001"}))
    assert merger.works[work].title == "Probing for deception"  # OpenAlex did not make it: arXiv's title stays


def test_the_import_report_prints_what_the_source_changed(capsys):
    from kb.cli import output
    from kb.ingest.merging import Report

    output.import_report(Report(updated=["w"], edited={"w": ["title"]}))
    out = capsys.readouterr().out
    assert "updated 1 at the source: title 1" in out and re.search(r"~\s+w: title", out)


# -- records as pages show them: no dates, no authors, no shared opening (the misses of the old sealed set) ----------

FORUM_ID = "hCsxvMAGpkEuLCE4E"


def test_an_alignment_forum_post_and_its_lesswrong_record_are_one_post_by_their_shared_id():
    af = feed_item(
        "alignmentforum",
        "Cognitive emulation: a naive proposal",
        "2023-02-25",
        ids={"alignmentforum": "n" * 17},
        abstract="This is part of the work done at a lab.",
    )
    lw = feed_item(
        "lesswrong",
        "Cognitive emulation: a naive proposal",
        "2023-02-25",
        authors=["Connor Leahy"],
        ids={"lesswrong": "n" * 17},
        abstract="Crossposted from the AI Alignment Forum.",
    )
    assert len(set(merged(af, lw))) == 1 and len(set(merged(lw, af))) == 1
    merger = Merger(Dataset(root=Path("/nonexistent")))
    merger.add(af)
    assert merger.match(lw)[1] == f"same identifier: lesswrong {'n' * 17}"


def test_a_forum_post_seen_inside_two_sequences_and_on_a_mirror_is_one_post_and_two_posts_are_two():
    ea = "feed:https://forum.effectivealtruism.org"
    one = feed_item(
        ea, "Why alignment could be hard", "2021-09-21", url=f"https://forum.effectivealtruism.org/s/A1/p/{FORUM_ID}"
    )
    two = feed_item(
        ea, "Why alignment could be hard", "2021-09-21", url=f"https://forum.effectivealtruism.org/s/B2/p/{FORUM_ID}"
    )
    mirror = feed_item(
        "feed:https://ea.greaterwrong.com",
        "Why alignment could be hard",
        "2021-09-22",
        url=f"https://ea.greaterwrong.com/posts/{FORUM_ID}/why-alignment-could-be-hard",
    )
    assert len(set(merged(one, two, mirror))) == 1
    another = dataclasses.replace(two, url=f"https://forum.effectivealtruism.org/s/B2/p/{'x' * 17}")
    assert len(set(merged(one, another))) == 2  # one feed's two posts, two ids


def test_one_page_on_an_organisations_old_and_new_domains_merges_under_another_title_and_other_pages_do_not():
    old = feed_item(
        "feed:https://epochai.org/blog",
        "Will we run out of data? Limits of LLM scaling",
        "2024-06-06",
        url="https://epochai.org/blog/will-we-run-out-of-data-limits-of-llm-scaling",
    )
    new = undated(
        feed_item(
            "feed:https://epoch.ai/blog",
            "Will we run out of data to train language models?",
            "2024-06-06",
            url="https://epoch.ai/blog/will-we-run-out-of-data-limits-of-llm-scaling",
        )
    )
    assert len(set(merged(old, new))) == 1 and len(set(merged(new, old))) == 1
    news = feed_item(
        "feed:https://lab.example/news",
        "Towards monosemanticity",
        "2023-10-05",
        url="https://www.lab.example/news/towards-monosemanticity-decomposing-models",
    )
    research = dataclasses.replace(
        news,
        source="feed:https://lab.example/research",
        url="https://lab.example/research/towards-monosemanticity-decomposing-models",
    )
    assert len(set(merged(news, research))) == 1
    stranger = dataclasses.replace(new, url=new.url.replace("epoch.ai", "other-lab.example"))
    assert len(set(merged(old, stranger))) == 2  # another organisation's page of the same name
    short = [
        dataclasses.replace(old, url="https://epochai.org/2024/july-update"),
        dataclasses.replace(new, url="https://epoch.ai/2025/july-update"),
    ]
    assert len(set(merged(*short))) == 2  # a two-word name and other numbers name no one page


def test_equal_titles_on_one_organisations_two_sites_merge_with_nothing_against_them():
    site = feed_item(
        "feed:https://epoch.ai/gradient-updates",
        "Toward an O*NET for AI R&D",
        "2026-06-17",
        url="https://epoch.ai/gradient-updates/toward-an-onet-for-ai-rnd",
    )
    letter = feed_item(
        "feed:https://epochai.substack.com/feed",
        "Toward an O*NET for AI R&D",
        "2026-06-17",
        authors=["JS Denain"],
        url="https://epochai.substack.com/p/toward-an-onet-for-ai-r-and-d",
    )
    assert len(set(merged(undated(site), letter))) == 1
    assert len(set(merged(site, dataclasses.replace(letter, date="2026-09-01")))) == 2  # months apart
    elsewhere = dataclasses.replace(letter, url="https://someone.substack.com/p/toward-an-onet-for-ai-r-and-d")
    assert len(set(merged(undated(site), elsewhere))) == 2  # another organisation's newsletter


# A blog post and its forum copy that says it is one (real titles and date; the text is cut short).
SPEC_GAMING_BLOG = feed_item(
    "feed:https://vkrakovna.wordpress.com/feed/",
    "Specification gaming examples in AI",
    "2018-04-02",
    authors=["Victoria Krakovna"],
)
SPEC_GAMING_COPY = undated(
    feed_item(
        "lesswrong",
        "Specification gaming examples in AI",
        "2018-04-02",
        abstract="[Cross-posted from personal blog]\n\nVarious examples of unintended behaviors.",
        ids={"lesswrong": "A" * 17},
    )
)


def test_a_forum_copy_that_says_it_is_one_merges_with_the_blog_post_and_a_summary_that_does_not_stays_apart():
    blog, copy = SPEC_GAMING_BLOG, SPEC_GAMING_COPY
    assert len(set(merged(blog, copy))) == 1 and len(set(merged(copy, blog))) == 1
    merger = Merger(Dataset(root=Path("/nonexistent")))
    merger.add(blog)
    assert merger.match(copy)[1].startswith("same title, one says it is a copy")
    summary = dataclasses.replace(copy, abstract="This is a brief summary of what we believe are the takeaways.")
    assert len(set(merged(blog, summary))) == 2  # the same title, nothing more: a forum summary of a report
    someone_else = dataclasses.replace(copy, authors=["Ada Lovelace"])
    assert len(set(merged(blog, someone_else))) == 2  # authors on both sides, none in common
    generic = [dataclasses.replace(r, title="Updates") for r in (blog, copy)]
    assert len(set(merged(*generic))) == 2


def test_a_renamed_paper_merges_by_its_abstract_when_one_side_lists_no_authors():
    abstract = (
        "We propose the Gaussian Error Linear Unit (GELU), a high-performing neural network activation function."
        " The GELU nonlinearity is the expected transformation of a stochastic regularizer."
    )
    v1 = paper(
        "arxiv",
        "Bridging nonlinearities and stochastic regularizers with Gaussian error linear units",
        2016,
        ["Dan Hendrycks", "Kevin Gimpel"],
        abstract=abstract,
        ids={"arxiv": "1606.08415"},
    )
    listed = paper("scholar", "Gaussian error linear units (GELUs)", None, [], abstract=abstract)
    assert len(set(merged(v1, listed))) == 1 and len(set(merged(listed, v1))) == 1
    no_word = dataclasses.replace(listed, title="Activation functions revisited")
    assert len(set(merged(v1, no_word))) == 2  # the abstract alone, no title word: not enough without authors
    first = paper(
        "openalex",
        "Scaling out-of-distribution detection",
        2017,
        ["Hendrycks, Dan", "Basart, Steven"],
        abstract=abstract,
    )
    assert len(set(merged(v1, first))) == 1  # the same first author ("Last, First") and abstract: no title word needed


def test_a_papers_title_cut_short_or_with_one_word_changed_merges_unless_its_authors_differ():
    v1 = paper(
        "arxiv",
        "Grad-CAM: why did you say that? Visual explanations from deep networks via gradient-based localization",
        None,
        [],
        ids={"arxiv": "1610.02391"},
    )
    journal = paper(
        "openalex",
        "Grad-CAM: visual explanations from deep networks via gradient-based localization",
        2020,
        ["Ramprasaath R Selvaraju", "Michael Cogswell"],
    )
    assert len(set(merged(v1, journal))) == 1 and len(set(merged(journal, v1))) == 1
    small = paper("arxiv", "The lottery ticket hypothesis: finding small, trainable neural networks", 2018, [])
    sparse = paper(
        "scholar",
        "The lottery ticket hypothesis: finding sparse, trainable neural networks",
        2019,
        ["Jonathan Frankle", "Michael Carbin"],
    )
    assert len(set(merged(small, sparse))) == 1
    assert len(set(merged(dataclasses.replace(small, year=None), sparse))) == 2  # one word changed needs both years
    rebuttal = [
        paper("scholar", "Attention is not explanation in neural models", 2019, ["Sarthak Jain"]),
        paper("scholar", "Attention is not not explanation in neural models", 2019, ["Sarah Wiegreffe"]),
    ]
    assert len(set(merged(*rebuttal))) == 2  # authors on both sides, none in common
    short = [
        paper("arxiv", "Large language models: a survey", 2024, []),
        paper("scholar", "Large language models: a survey of agents", 2024, ["Bo Li"]),
    ]
    assert len(set(merged(*short))) == 2  # five words: too short to say one paper


def test_a_preprint_and_its_journal_version_two_years_apart_merge_only_by_the_same_authors_in_order():
    authors = ["Yue Zhang", "Yafu Li", "Leyang Cui"]
    preprint = paper("openalex", "Siren's song in the AI ocean: a survey on hallucination", 2023, authors)
    journal = paper(
        "openalex",
        "🧜Siren’s Song in the AI Ocean: A Survey on Hallucination",
        2025,
        authors,
        ids={"doi": "10.1162/coli.a.16"},
    )
    assert len(set(merged(preprint, journal))) == 1 and len(set(merged(journal, preprint))) == 1
    shuffled = dataclasses.replace(journal, authors=["Leyang Cui", "Yue Zhang", "Yafu Li"])
    assert len(set(merged(preprint, shuffled))) == 2
    later = dataclasses.replace(journal, year=2026)
    assert len(set(merged(preprint, later))) == 2


def test_a_venues_position_label_and_the_kind_of_apostrophe_are_not_part_of_the_title():
    assert match_text("Position: TRUSTLLM: Trustworthiness in LLMs") == match_text("TrustLLM: trustworthiness in LLMs")
    assert match_text("Siren’s song") == match_text("Siren's Song") == "sirens song"
    assert match_text("Positional encodings: a survey") == "positional encodings a survey"


def test_a_name_written_last_first_or_with_tex_accents_is_the_same_person():
    from kb.ingest.merging import _same_person

    assert _same_person("Hendrycks, Dan", "Dan Hendrycks") and _same_person('Kristof T. Sch\\"utt', "Kristof Schütt")
    assert not _same_person("Hendrycks, Dan", "Dan Hendrickson")


SCENE_PAGES = [
    feed_item(
        "feed:https://epochai.org/blog",
        "Will we run out of data? Limits of LLM scaling",
        "2024-06-06",
        url="https://epochai.org/blog/will-we-run-out-of-data-limits-of-llm-scaling",
    ),
    undated(
        feed_item(
            "feed:https://epoch.ai/blog",
            "Will we run out of data to train language models?",
            "2024-06-06",
            url="https://epoch.ai/blog/will-we-run-out-of-data-limits-of-llm-scaling",
        )
    ),
    SPEC_GAMING_BLOG,
    SPEC_GAMING_COPY,
    feed_item("alignmentforum", "Specification gaming examples in AI", "2018-04-02", ids={"alignmentforum": "A" * 17}),
    undated(
        feed_item(
            "lesswrong",
            "Specification gaming examples in AI",
            "2018-04-02",
            abstract="This is a brief summary of the takeaways of our report.",
            ids={"lesswrong": "B" * 17},
        )
    ),
    paper(
        "arxiv",
        "Bridging nonlinearities and stochastic regularizers with Gaussian error linear units",
        2016,
        ["Dan Hendrycks", "Kevin Gimpel"],
        abstract=TEXT,
        ids={"arxiv": "1606.08415"},
    ),
    paper("scholar", "Gaussian error linear units (GELUs)", None, [], abstract=TEXT),
    paper(
        "openalex", "Stochastic regularizers with Gaussian error linear units", 2018, ["Hendrycks, Dan", "Kevin Gimpel"]
    ),
]
EXPECTED_PAGES = [{0, 1}, {2, 3, 4}, {5}, {6, 7, 8}]


def pages_partition(order) -> list[set[int]]:
    works = imported_at_once(*[SCENE_PAGES[i] for i in order])
    groups: dict[str, set[int]] = {}
    for i, work in zip(order, works, strict=True):
        groups.setdefault(work, set()).add(i)
    return sorted(groups.values(), key=min)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(range(len(SCENE_PAGES))))
def test_the_new_rules_give_the_same_works_in_any_arrival_order(order):
    assert pages_partition(list(order)) == EXPECTED_PAGES
