"""Search: ranked full text over titles, abstracts, summaries and authors, with filters."""

import json

import pytest

from kb.search import fts_expression


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


@pytest.mark.parametrize(
    "text", ['"', "AND", "a:b", "NOT", "(", "x OR", "-probe", "*", "NEAR(a b)", "'; DROP TABLE work"]
)
def test_no_input_is_an_fts_syntax_error(kb, text):
    assert kb("search", "--json", "--", text).exit_code == 0


def test_fts_expression_quotes_words_and_keeps_operators():
    assert fts_expression('"linear probe" OR lat*') == '"linear probe" OR "lat"*'
    assert fts_expression("probe generalize") == '"probe" AND ("generalise" OR "generalize")'
    assert fts_expression("probe generalize", any_word=True) == '"probe" OR ("generalise" OR "generalize")'
    assert fts_expression("?!") is None
