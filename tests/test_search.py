"""Search: ranked full text over titles, abstracts, summaries and authors, with filters."""

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kb.query import QuerySyntaxError, fts_expression, identifier_candidates


def ids(result):
    assert result.exit_code == 0, result.stderr
    return [w["id"] for w in json.loads(result.stdout)]


def test_words_are_found_in_titles_abstracts_summaries_and_authors(kb):
    assert ids(kb("search", "takeover", "--json")) == ["coup-probes-2023"]  # abstract
    assert ids(kb("search", "classifier", "--json")) == ["coup-probes-2023"]  # summary body
    assert ids(kb("search", "Hengyuan", "--json")) == ["old-pruning-2016"]  # author


def test_a_title_match_ranks_above_an_abstract_match(kb):
    # 'probes' is in two titles and in one abstract; stemming makes 'probe' match 'probes'.
    found = ids(kb("search", "probe", "--json"))
    assert set(found[:2]) == {"coup-probes-2023", "probe-post-2024"}
    assert found[2] == "lat-paper-2023"


def test_british_and_american_spellings_match_each_other(kb):
    assert ids(kb("search", "generalization", "--json")) == ids(kb("search", "generalisation", "--json"))
    assert set(ids(kb("search", "generalization", "--json"))) == {"lat-paper-2023", "probe-post-2024"}


def test_technique_filter_includes_the_subtree(kb):
    under_reading = ids(kb("list", "--technique", "representation-reading", "--json"))
    assert sorted(under_reading) == ["coup-probes-2023", "lat-paper-2023", "probe-post-2024"]
    assert ids(kb("list", "-t", "lat", "--json")) == ["lat-paper-2023"]


def test_filters_combine(kb):
    assert ids(kb("search", "probes", "-t", "probing", "--since", "2024", "--json")) == ["probe-post-2024"]
    assert ids(kb("list", "--until", "2020", "--json")) == ["old-pruning-2016"]
    assert ids(kb("list", "--kind", "post", "--json")) == ["probe-post-2024"]
    assert ids(kb("list", "--venue", "lesswr", "--json")) == ["probe-post-2024"]
    assert ids(kb("list", "-m", "monitoring", "--json")) == ["coup-probes-2023"]
    assert ids(kb("list", "--limit", "1", "--json")) == ["probe-post-2024"]  # newest first


def test_author_filter_knows_aliases_and_whole_name_parts(kb):
    assert sorted(ids(kb("list", "--author", "Zico Kolter", "--json"))) == ["lat-paper-2023", "probe-post-2024"]
    assert sorted(ids(kb("list", "--author", "kolter", "--json"))) == ["lat-paper-2023", "probe-post-2024"]
    assert ids(kb("list", "--author", "kol", "--json")) == []


def test_when_no_work_has_every_word_any_word_counts(kb):
    rows = json.loads(kb("search", "tomography zebra", "--json").stdout)
    assert [r["id"] for r in rows] == ["lat-paper-2023"] and rows[0]["any_word"] is True
    assert "showing works with any of them" in kb("search", "tomography zebra").stdout


def test_an_unknown_technique_is_an_error_with_suggestions(kb):
    result = kb("list", "--technique", "reading")
    assert result.exit_code == 1
    assert "unknown technique 'reading'; did you mean representation-reading?" in result.stderr


def test_results_carry_their_tags(kb):
    row = json.loads(kb("search", "coup", "--json").stdout)[0]
    assert row["techniques"] == ["probing"] and row["motivations"] == ["monitoring"]
    assert "«" in (row["snippet"] or "") or row["snippet"] is None


@pytest.mark.parametrize("text", ["x OR", "-probe", "NEAR(a b)", "'; DROP TABLE work"])
def test_no_input_is_an_fts_syntax_error(kb, text):
    assert kb("search", "--json", "--", text).exit_code == 0


@pytest.mark.parametrize("text", ["AND", "NOT", "(", "*", "?", "..."])
def test_a_query_with_no_word_is_a_usage_error_not_every_work(kb, text):
    result = kb("search", "--json", "--", text)
    assert result.exit_code == 2 and "nothing to search for" in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"linear probe', 'unbalanced quote: the " at character 1 is never closed'),
        ('probe "', 'unbalanced quote: the " at character 7'),
        ("titel:probe", "unknown field 'titel:'; search fields are abstract, author, authors, motivation"),
        ("a:b", "unknown field 'a:'"),
        ("?", "nothing to search for in '?': a query needs a word of letters or digits"),
        ("' ...", "nothing to search for"),
        ("OR -", "nothing to search for"),
    ],
)
def test_a_query_that_cannot_be_read_is_a_usage_error_saying_what_is_wrong(kb, text, message):
    result = kb("search", "--", text)
    assert result.exit_code == 2
    assert message in result.stderr and result.stdout == ""


def test_not_excludes_the_works_that_match_also_at_the_start(kb):
    every = set(ids(kb("list", "--json")))
    with_probe = set(ids(kb("search", "probe", "--json")))
    assert with_probe and with_probe != every
    assert set(ids(kb("search", "NOT probe", "--json"))) == every - with_probe
    assert ids(kb("search", "probes NOT takeover", "--json")) and "coup-probes-2023" not in ids(
        kb("search", "probes NOT takeover", "--json")
    )


def test_fields_search_one_part_of_a_work(kb):
    assert ids(kb("search", "title:probes", "--json")) == ["coup-probes-2023", "probe-post-2024"] or set(
        ids(kb("search", "title:probes", "--json"))
    ) == {"coup-probes-2023", "probe-post-2024"}
    assert ids(kb("search", "abstract:takeover", "--json")) == ["coup-probes-2023"]
    assert ids(kb("search", "title:takeover", "--json")) == []
    assert ids(kb("search", 'author:"Andy Zou"', "--json")) == ["lat-paper-2023"]
    assert ids(kb("search", "Title:tomography", "--json")) == ["lat-paper-2023"]  # field names are case-blind


def test_a_query_naming_a_technique_finds_the_works_tagged_with_it_and_its_narrower_ones(kb):
    # no title, abstract or summary says 'linear probing' (the technique's name) or 'representation reading'
    assert set(ids(kb("search", '"linear probing"', "--json"))) == {"coup-probes-2023", "probe-post-2024"}
    assert set(ids(kb("search", "technique:LAT", "--json"))) == {"lat-paper-2023"}
    reading = set(ids(kb("search", '"representation reading"', "--json")))
    assert reading == {"coup-probes-2023", "probe-post-2024", "lat-paper-2023"}
    assert ids(kb("search", "motivation:monitoring", "--json")) == ["coup-probes-2023"]


@pytest.mark.parametrize(
    "pasted",
    [
        "coup-probes-2023",
        "2311.00001",
        "2311.00001v2",
        "arXiv:2311.00001",
        "arxiv:2311.00001v1",
        "https://arxiv.org/abs/2311.00001v2",
        "http://arxiv.org/pdf/2311.00001v3.pdf",
        "https://arxiv.org/html/2311.00001",
        "https://doi.org/10.48550/arXiv.2311.00001",
        "doi:10.48550/arxiv.2311.00001",
        " 2311.00001 ",
        "arxiv.org/abs/2311.00001",
        "www.arxiv.org/abs/2311.00001v2",
        "doi.org/10.48550/arXiv.2311.00001",
    ],
)
def test_every_form_of_an_identifier_people_paste_finds_the_work(kb, pasted):
    result = kb("show", pasted, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "coup-probes-2023"
    assert ids(kb("search", pasted, "--json")) == ["coup-probes-2023"]


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("https://doi.org/10.1145/3442188.3445922", [("doi", "10.1145/3442188.3445922")]),
        ("doi:10.1145/3442188.3445922", [("doi", "10.1145/3442188.3445922")]),
        ("10.1145/3442188.3445922", [("doi", "10.1145/3442188.3445922")]),
        ("https://dx.doi.org/10.1145/ABC", [("doi", "10.1145/abc")]),
        (
            "https://www.lesswrong.com/posts/WCj7WgFSLmyKaMwPR/some-title",
            [("lesswrong", "WCj7WgFSLmyKaMwPR"), ("lesswrong", "WCj7WgFSLmyKaMwPR")],
        ),
        (
            "https://www.alignmentforum.org/posts/WCj7WgFSLmyKaMwPR",
            [("alignmentforum", "WCj7WgFSLmyKaMwPR"), ("lesswrong", "WCj7WgFSLmyKaMwPR")],
        ),
        ("W2963403868", [("openalex", "w2963403868")]),
        ("https://openalex.org/W2963403868", [("openalex", "w2963403868")]),
        ("openalex.org/W2963403868", [("openalex", "w2963403868")]),
        ("doi.org/10.1145/ABC", [("doi", "10.1145/abc")]),
        ("lesswrong.com/posts/WCj7WgFSLmyKaMwPR/x", [("lesswrong", "WCj7WgFSLmyKaMwPR")] * 2),
        ("hep-th/9901001v2", [("arxiv", "hep-th/9901001")]),
        ("probing", []),
        ("https://example.com/paper", []),
    ],
)
def test_identifier_forms_are_read_into_scheme_and_value(pasted, expected):
    assert identifier_candidates(pasted) == expected


def test_an_unknown_identifier_says_so(kb):
    result = kb("show", "arXiv:9999.99999")
    assert result.exit_code == 1 and "no work 'arXiv:9999.99999'" in result.stderr
    assert ids(kb("search", "arXiv:9999.99999", "--json")) == []


def test_search_json_carries_urls_and_identifiers(kb):
    row = json.loads(kb("search", "coup", "--json").stdout)[0]
    assert row["ids"] == {"arxiv": "2311.00001"}
    assert "url" in row


def test_sort_orders_listings(kb):
    assert ids(kb("list", "--sort", "title", "--json")) == [
        "coup-probes-2023",
        "probe-post-2024",
        "lat-paper-2023",
        "old-pruning-2016",
    ]
    assert ids(kb("list", "--sort", "oldest", "--json"))[0] == "old-pruning-2016"
    assert ids(kb("search", "probe", "--sort", "oldest", "--json"))[0] == "coup-probes-2023"


def test_snippets_read_as_text_not_markdown(kb):
    row = json.loads(kb("search", "classifier", "--json").stdout)[0]
    assert row["snippet"] and "*" not in row["snippet"] and "linear" in row["snippet"]


def test_datasette_and_sqlite_utils_search_the_work_table_itself(kb, data):
    import sqlite_utils

    assert kb("build").exit_code == 0
    db = sqlite_utils.Database(data.parent / "build" / "catalogue.sqlite")
    assert db["work"].detect_fts() == "work_fts"  # what Datasette's ?_search= looks for
    found = [r["id"] for r in db["work"].search("takeover")]
    assert found == ["coup-probes-2023"]
    assert {r["id"] for r in db["work"].search("probes")} >= {"coup-probes-2023", "probe-post-2024"}


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "b", " ", '"', "*", ":", "(", ")", "-", "^", "OR", " NOT ", " AND ", "title:", "x:"]),
        max_size=12,
    ).map("".join)
)
def test_any_text_either_searches_or_is_a_syntax_error_never_an_fts_failure(text):
    import sqlite3

    from kb.query import QuerySyntaxError, parse

    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE f USING fts5(title, abstract, author_names, summary_text,"
        " technique_names, motivation_names)"
    )
    try:
        parsed = parse(text)
    except QuerySyntaxError:
        return
    for expr in (parsed.include, parsed.exclude, parse(text, any_word=True).include):
        if expr:
            conn.execute("SELECT * FROM f WHERE f MATCH ?", (expr,)).fetchall()


def test_fts_expression_quotes_words_and_keeps_operators():
    assert fts_expression('"linear probe" OR lat*') == '"linear probe" OR "lat"*'
    assert fts_expression("probe generalize") == '"probe" AND ("generalise" OR "generalize")'
    assert fts_expression("probe generalize", any_word=True) == '"probe" OR ("generalise" OR "generalize")'
    with pytest.raises(QuerySyntaxError, match="nothing to search for"):
        fts_expression("?!")


def test_a_question_s_stop_words_are_not_required_words():
    expected = '"compare" AND "linear" AND "probes" AND "LAT"'
    assert fts_expression("which papers compare linear probes and LAT?") == expected
    assert fts_expression("the") == '"the"'  # nothing but stop words: searched as typed
    assert fts_expression('"the probe" AND title:of') == '"the probe" AND title : "of"'  # quoted and fielded stay


def test_a_question_in_a_sentence_finds_what_its_words_find(kb):
    assert ids(kb("search", "which works are about trimming neurons?", "--json")) == ["old-pruning-2016"]
    assert ids(kb("search", "trimming neurons", "--json")) == ["old-pruning-2016"]


def _with_critique(data):
    """old-pruning-2016 critiques coup-probes-2023 (and lat-paper-2023 discusses it, from the fixture)."""
    path = data / "works" / "papers.jsonl"
    works = [json.loads(line) for line in path.read_text().splitlines()]
    for w in works:
        if w["id"] == "old-pruning-2016":
            w["relations"] = [{"type": "critiques", "target": "coup-probes-2023"}]
    path.write_text("".join(json.dumps(w) + "\n" for w in works))


def test_a_relation_filter_finds_the_works_holding_it_by_their_own_words_or_their_target_s(kb, data):
    _with_critique(data)
    rows = json.loads(kb("search", "coup", "--relation", "critiques", "--json").stdout)
    assert [(r["id"], r["via"]) for r in rows] == [("old-pruning-2016", "critiques coup-probes-2023")]
    assert ids(kb("search", "trimming", "--relation", "critiques", "--json")) == ["old-pruning-2016"]
    assert ids(kb("search", "tomography", "--relation", "critiques", "--json")) == []
    assert ids(kb("search", "coup relation:discusses", "--json")) == ["lat-paper-2023"]
    assert ids(kb("list", "--relation", "critiques", "--json")) == ["old-pruning-2016"]
    assert ids(kb("search", "relation:discusses", "--json")) == ["lat-paper-2023"]
    assert "critiques coup-probes-2023" in kb("search", "coup", "--relation", "critiques").stdout


def test_an_unknown_relation_is_a_usage_error_naming_the_relations(kb):
    result = kb("search", "probe relation:refutes")
    assert result.exit_code == 2
    assert "unknown relation 'refutes'" in result.stderr and "critiques" in result.stderr
    assert kb("search", "probe", "--relation", "refutes").exit_code == 2


@pytest.mark.parametrize("question", ["critiques of coup probes", "coup probes failed to replicate"])
def test_a_question_for_related_works_lists_them_first_then_the_works_on_its_subject(kb, data, question):
    _with_critique(data)
    rows = json.loads(kb("search", question, "--json").stdout)
    assert [r["id"] for r in rows][:2] == ["old-pruning-2016", "coup-probes-2023"]
    assert rows[0]["via"] == "critiques coup-probes-2023" and "via" not in rows[1]


def test_a_question_for_related_works_with_none_lists_the_works_on_its_subject(kb):
    assert ids(kb("search", "extensions of trimming neurons", "--json")) == ["old-pruning-2016"]


_QUESTION_PARTS = [*'abc :"', "critiques of ", "replicate", " the ", "OR ", "failed to "]


@given(st.lists(st.sampled_from(_QUESTION_PARTS), max_size=12).map("".join))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_a_question_for_related_works_always_keeps_a_subject_word(text):
    from kb.query import STOP_WORDS, asks_relation

    asked = asks_relation(text)
    if asked:
        subject, types = asked
        assert any(w.lower() not in STOP_WORDS for w in subject.split()) and types


def test_works_with_every_word_come_first_then_works_with_some_of_them_said_so(kb):
    rows = json.loads(kb("search", "probes takeover", "--json").stdout)
    assert [(r["id"], r["any_word"]) for r in rows][:1] == [("coup-probes-2023", False)]
    assert len(rows) > 1 and all(r["any_word"] for r in rows[1:])
    lines = kb("search", "probes takeover").stdout.splitlines()
    assert lines[0].startswith("coup-probes-2023")
    assert "works with some of the words of 'probes takeover':" in lines
    assert ids(kb("search", "probes takeover", "-n", "1", "--json")) == ["coup-probes-2023"]


def test_a_page_announcing_a_work_comes_right_after_the_work_it_discusses(kb, data):
    # a lab's feed item under the paper's title, linked to it (not merged): bm25 favours its shorter text
    announcement = {
        "id": "probes-catch-catastrophes-page-2023",
        "kind": "post",
        "title": "Coup probes catch catastrophes",
        "year": 2023,
        "url": "https://lab.example/research/coup-probes",
        "relations": [{"type": "discusses", "target": "coup-probes-2023"}],
    }
    with (data / "works" / "posts.jsonl").open("a") as f:
        f.write(json.dumps(announcement) + "\n")
    assert ids(kb("search", "coup probes catastrophes", "--json"))[:2] == [
        "coup-probes-2023",
        "probes-catch-catastrophes-page-2023",
    ]
    by_year = ids(kb("search", "coup probes catastrophes", "--sort", "year", "--json"))
    assert set(by_year[:2]) == {"coup-probes-2023", "probes-catch-catastrophes-page-2023"}  # a sort asked for is kept


def _discussing(edges):
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE relation (source_pk INTEGER, type TEXT, target_pk INTEGER)")
    conn.executemany("INSERT INTO relation VALUES (?, 'discusses', ?)", edges)
    return conn


def test_a_chain_of_discussions_follows_the_work_at_its_end_and_loses_no_row():
    from kb.catalogue import _after_what_they_discuss

    rows = [{"pk": pk} for pk in (1, 2, 3, 4)]  # ranked 1, 2, 3, 4: 1 discusses 2, which discusses 3
    ordered = _after_what_they_discuss(_discussing([(1, 2), (2, 3)]), rows)
    assert [r["pk"] for r in ordered] == [3, 2, 1, 4]


@settings(max_examples=200, deadline=None)
@example(n=4, edges=[(0, 1), (1, 2)])  # a chain
@given(
    n=st.integers(min_value=0, max_value=12),
    edges=st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14)), max_size=20),
)
def test_reordering_by_discussion_keeps_every_row_once_and_each_discussion_after_a_work_it_discusses(n, edges):
    from kb.catalogue import _after_what_they_discuss

    rows = [{"pk": pk} for pk in range(n)]
    ordered = [r["pk"] for r in _after_what_they_discuss(_discussing([e for e in edges if e[0] != e[1]]), rows)]
    assert sorted(ordered) == list(range(n))
    for source, target in edges:
        if source < target < n:  # it discussed a row ranked below it: it now comes after one such row
            assert any(ordered.index(t) < ordered.index(source) for s, t in edges if s == source and t < n)
