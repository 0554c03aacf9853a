"""Authors' forum posts presenting their paper, one announcement under two page names, and one template in two feeds
(issue 24, the misses of the third sealed set; BENCHMARKS.md "## Merging", Round 8).

Each test states one rule of kb/ingest/merging.py as a reader would check it. A forum post presenting a paper is
its own work that `discusses` the paper (rule 5; CONTRIBUTING.md, "One work per real work", says why); two records
of one post become one work and `kb show --provenance` names the rule that joined them; the nearest records that are
two works stay two."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers import lesswrong
from importers.records import WorkRecord
from kb.ingest.merging import Merger
from kb.store.datadir import Dataset
from tests.test_identity_sites import post

MAZE = WorkRecord(
    source="curated",
    kind="paper",
    title="Understanding and Controlling a Maze-Solving Policy Network",
    year=2023,
    authors=[
        *("Ulisse Mini", "Peli Grietzer", "Mrinank Sharma", "Austin Meek", "Monte MacDiarmid"),
        "Alexander Matt Turner",  # the post's "Alex Turner"
    ],
    ids={"arxiv": "2310.08043"},
)
MAZE_POST = WorkRecord(
    source="lesswrong",
    kind="post",
    title="Paper: Understanding and Controlling a Maze-Solving Policy Network",
    year=2023,
    date="2023-10-13",
    authors=["Alex Turner"],
    abstract="Mrinank, Austin, and Alex wrote a paper on the results. We ran a few new experiments.",
    url="https://www.lesswrong.com/posts/DKtWikjcdApRj3rWr/paper-understanding-and-controlling-a-maze-solving-policy",
    ids={"lesswrong": "DKtWikjcdApRj3rWr"},
)
CAA = WorkRecord(
    source="curated",
    kind="paper",
    title="Steering Llama 2 via Contrastive Activation Addition",
    year=2024,
    authors=["Nina Rimsky", "Nick Gabrieli", "Julian Schulz", "Meg Tong", "Evan Hubinger", "Alexander Matt Turner"],
    ids={"arxiv": "2312.06681"},
)
CAA_POST = WorkRecord(
    source="lesswrong",
    kind="post",
    title="Steering Llama-2 with contrastive activation additions",
    year=2024,
    date="2024-01-02",
    authors=["Nina Rimsky"],
    abstract='By just adding e.g. a "sycophancy vector" to one bias term, we outperform supervised finetuning.',
    url="https://www.lesswrong.com/posts/v7f8ayBxLhmMFRzpa/steering-llama-2-with-contrastive-activation-additions",
    ids={"lesswrong": "v7f8ayBxLhmMFRzpa"},
)
NEWS, NEWS_ONLY = "feed:https://www.anthropic.com/rss", "feed:https://www.anthropic.com/news/rss"
BEDROCK = "Amazon Bedrock: Approved for Use in FedRAMP High and DoD IL4/5 Workloads"


def feed_post(source, title, date, url, abstract=None) -> WorkRecord:
    """A feed's item whose summary is its title where none is given, as many feeds give it."""
    return post(source, title, date, url, abstract or title)


def merged(*records) -> Merger:
    merger = Merger(Dataset(root=Path("/nonexistent")))
    for record in records:
        merger.add(record)
    merger.resolve_links()
    return merger


def links(merger: Merger) -> set[tuple[str, str, str]]:
    """(title of the work, relation, title of its target) of every relation among the works."""
    works = merger.works
    return {(w.title, r.type, works[r.target].title) for w in works.values() for r in w.relations}


def matched_by(merger: Merger) -> list[str]:
    """What `kb show --provenance` says of each record merged into another's work."""
    return [p.matched_by or "" for w in merger.works.values() for p in w.provenance[1:]]


def test_an_authors_forum_post_titled_paper_colon_its_title_discusses_the_paper_and_stays_its_own_work():
    for order in ((MAZE, MAZE_POST), (MAZE_POST, MAZE)):
        merger = merged(*order)
        assert len(merger.works) == 2  # the post keeps its own text, date, address and comments
        assert links(merger) == {(MAZE_POST.title, "discusses", MAZE.title)}
    for label in ("[Paper] ", "New paper: ", "Preprint: "):
        other_label = dataclasses.replace(MAZE_POST, title=label + MAZE.title)
        assert links(merged(MAZE, other_label)) == {(other_label.title, "discusses", MAZE.title)}


def test_a_post_titled_as_a_paper_by_someone_not_among_its_authors_is_linked_only_by_what_it_links():
    stranger = dataclasses.replace(MAZE_POST, authors=["Someone Else"])
    assert links(merged(MAZE, stranger)) == set()  # a reader's review of the paper links it in its text, or not at all
    citing = dataclasses.replace(stranger, abstract="A review of https://arxiv.org/abs/2310.08043 read closely.")
    assert links(merged(MAZE, citing)) == {(citing.title, "discusses", MAZE.title)}


def test_an_authors_post_under_the_papers_title_but_for_function_words_and_plurals_discusses_the_paper():
    merger = merged(CAA, CAA_POST)
    assert len(merger.works) == 2
    assert links(merger) == {(CAA_POST.title, "discusses", CAA.title)}
    for title in ("Steering Llama 3 with contrastive activation additions", "Steering Llama-2 with activations"):
        assert links(merged(CAA, dataclasses.replace(CAA_POST, title=title))) == set()  # another number, a word less
    assert links(merged(CAA, dataclasses.replace(CAA_POST, authors=["Someone Else"]))) == set()


def test_a_linkpost_to_an_arxiv_page_discusses_that_paper_whatever_its_title():
    answer = {
        "_id": "HWxLQvzJGeXoLPJWd",
        "slug": "actadd-steering-language-models-without-optimization",
        "title": "ActAdd: Steering Language Models without Optimization",
        "pageUrl": "https://www.lesswrong.com/posts/HWxLQvzJGeXoLPJWd/actadd",
        "url": "https://arxiv.org/abs/2308.10248",
        "postedAt": "2023-09-06T00:00:00Z",
        "htmlBody": "<p>We wrote up the GPT-2 steering vector work as a full paper.</p>",
        "user": {"_id": "u1", "slug": "turntrout", "username": "TurnTrout", "displayName": "TurnTrout"},
    }
    paper = WorkRecord(
        source="curated",
        kind="paper",
        title="Activation Addition: Steering Language Models Without Optimization",
        year=2023,
        authors=["Alexander Matt Turner", "Lisa Thiergart"],
        ids={"arxiv": "2308.10248"},
    )
    merger = merged(paper, lesswrong.post_record(answer, "lesswrong"))
    assert links(merger) == {(answer["title"], "discusses", paper.title)}


def test_one_announcement_under_two_page_names_that_differ_in_a_function_word_is_one_post():
    first = feed_post(
        NEWS_ONLY,
        f"Claude in {BEDROCK}",
        "2025-06-11",
        "https://www.anthropic.com/news/claude-in-amazon-bedrock-fedramp-high",
    )
    second = feed_post(
        NEWS,
        f"Claude on {BEDROCK}",
        "2025-06-11",
        "https://www.anthropic.com/news/claude-on-amazon-bedrock-fedramp-high",
    )
    merger = merged(first, second)
    assert len(merger.works) == 1
    assert matched_by(merger)[0].startswith("same title but for function words, one organisation's sites, 0 day(s)")
    elsewhere = dataclasses.replace(second, source="feed:https://cursor.com/rss", url="https://cursor.com/blog/claude")
    assert len(merged(first, elsewhere).works) == 2  # another organisation's site: nothing but the title
    months_later = dataclasses.replace(second, date="2025-08-11")
    assert len(merged(first, months_later).works) == 2


def test_titles_that_differ_in_a_version_a_product_or_a_month_are_two_posts_whatever_the_site():
    grok = feed_post(NEWS, "Grok on Amazon Bedrock", "2026-07-20", "https://x.ai/news/grok-amazon-bedrock")
    for title in ("Grok 4.6 on Amazon Bedrock", "Grok on Google Vertex", "Grok on Amazon Bedrock in July"):
        other = feed_post(NEWS_ONLY, title, "2026-07-20", "https://x.ai/news/" + title.lower().replace(" ", "-"))
        assert len(merged(grok, other).works) == 2, title


def test_two_feeds_notices_from_one_template_that_name_different_addresses_are_two_posts():
    title = "[NOTICE] This feed is no longer maintained"
    notice = "{} publishes an official RSS feed. This scraper is retired; the feed XML will be deleted in ~90 days. "
    hamel = feed_post(
        "feed:https://example.org/feed_hamel.xml",
        title,
        "2026-04-18",
        "https://hamel.dev/index.xml",
        notice.format("Hamel's blog") + "Recommended alternative: https://hamel.dev/index.xml",
    )
    openai = feed_post(
        "feed:https://example.org/feed_openai.xml",
        title,
        "2026-04-18",
        "https://openai.com/blog/rss.xml",
        notice.format("OpenAI") + "Recommended alternative: https://openai.com/blog/rss.xml",
    )
    assert len(merged(hamel, openai).works) == 2
    # one post copied to two feeds keeps the address it links, or loses it on one side: still one post
    copy = dataclasses.replace(openai, abstract=notice.format("Hamel's blog") + "Recommended alternative:")
    assert len(merged(hamel, copy).works) == 1


SCENE = [MAZE, MAZE_POST, CAA, CAA_POST]


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(range(len(SCENE))))
def test_posts_presenting_papers_are_linked_alike_in_any_arrival_order(order):
    merger = Merger(Dataset(root=Path("/nonexistent")))
    merger.add_all([SCENE[i] for i in order])
    merger.resolve_links()
    assert links(merger) == {
        (MAZE_POST.title, "discusses", MAZE.title),
        (CAA_POST.title, "discusses", CAA.title),
    }


def test_a_lab_page_under_its_papers_four_word_title_extended_by_a_word_discusses_the_paper():
    the_paper = WorkRecord(source="curated", kind="paper", title="Auditing Games for Sandbagging", year=2025)
    page = feed_post(
        "feed:https://www.anthropic.com/research/rss",
        "Auditing games for sandbagging detection",
        "2025-12-09",
        "https://www.anthropic.com/research/auditing-games-sandbagging",
    )
    assert links(merged(the_paper, page)) == {(page.title, "discusses", the_paper.title)}
    shorter = dataclasses.replace(page, title="Auditing games for detection")  # not the paper's words in order
    assert links(merged(the_paper, shorter)) == set()


def test_a_lab_page_under_a_short_title_discusses_the_work_of_that_title_only_on_the_same_day():
    essay = WorkRecord(
        source="curated",
        kind="report",
        title="Interpretability Dreams",
        year=2023,
        date="2023-05-24",
        authors=["Chris Olah"],
        url="https://transformer-circuits.pub/2023/interpretability-dreams/index.html",
    )
    page = feed_post(
        "feed:https://www.anthropic.com/research/rss",
        "Interpretability Dreams",
        "2023-05-24",
        "https://www.anthropic.com/research/interpretability-dreams",
    )
    assert links(merged(essay, page)) == {(page.title, "discusses", essay.title)}
    assert links(merged(essay, dataclasses.replace(page, date="2023-09-01"))) == set()  # two words name many works
    editorial = dataclasses.replace(essay, title="Introduction")
    assert links(merged(editorial, dataclasses.replace(page, title="Introduction"))) == set()  # no word of its own


def test_a_page_names_a_paper_by_its_title_cut_at_its_end_or_with_one_qualifier_not_by_words_put_in_anywhere():
    kaplan = WorkRecord(
        source="arxiv",
        kind="paper",
        title="Scaling Laws for Neural Language Models",
        year=2020,
        date="2020-01-23",
        authors=["Jared Kaplan", "Sam McCandlish"],
        ids={"arxiv": "2001.08361"},
    )
    lab = "feed:https://lab.example/rss"
    another = feed_post(
        lab,
        "Scaling laws for autoregressive generative modeling of neural language models and images",
        "2020-10-28",
        "https://lab.example/blog/scaling-generative",
    )
    assert links(merged(kaplan, another)) == set()  # another paper's title: words put in and words added
    extended = dataclasses.replace(another, title="Scaling laws for neural language models: what we found")
    assert links(merged(kaplan, extended)) == {(extended.title, "discusses", kaplan.title)}
    planning = WorkRecord(
        source="arxiv", kind="paper", title="Planning in a recurrent neural network that plays Sokoban", year=2024
    )
    sokoban = "Planning behavior in a recurrent neural network that plays Sokoban"
    qualified = dataclasses.replace(another, title=sokoban, date="2024-07-22", year=2024)
    assert links(merged(planning, qualified)) == {(qualified.title, "discusses", planning.title)}
    negated = dataclasses.replace(qualified, title="Planning not in a recurrent neural network that plays Sokoban")
    assert links(merged(planning, negated)) == set()  # a negation is no qualifier


def test_a_pages_short_title_that_opens_a_papers_title_names_it_only_where_the_papers_subtitle_begins():
    weak = WorkRecord(
        source="arxiv",
        kind="paper",
        title="Weak-to-Strong Generalization: Eliciting Strong Capabilities With Weak Supervision",
        year=2023,
    )
    page = feed_post(
        "feed:https://openai.com/rss", "Weak-to-strong generalization", "2023-12-14", "https://openai.com/index/w2s"
    )
    assert links(merged(weak, page)) == {(page.title, "discusses", weak.title)}
    agents = WorkRecord(source="arxiv", kind="paper", title="Reward Models for Language Agents in Web Tasks", year=2025)
    phrase = dataclasses.replace(page, title="Reward models for language agents", date="2025-03-01", year=2025)
    assert links(merged(agents, phrase)) == set()  # a common phrase that opens the title, cut before its end
    colon = dataclasses.replace(agents, title="Reward Models for Language Agents: Web Tasks")
    assert links(merged(colon, phrase)) == {(phrase.title, "discusses", colon.title)}
    cut = WorkRecord(
        source="arxiv",
        kind="paper",
        title="Constitutional Classifiers: Defending against Universal Jailbreaks across Thousands of Hours of Red"
        " Teaming",
        year=2025,
    )
    six = dataclasses.replace(
        page, title="Constitutional Classifiers: Defending against universal jailbreaks", date="2025-02-03", year=2025
    )
    assert links(merged(cut, six)) == {(six.title, "discusses", cut.title)}  # six words: a paper's own bound
