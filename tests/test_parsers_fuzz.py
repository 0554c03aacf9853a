"""Any input to the front-matter parser and the search box ends in a result or the project's own error.

Seeded and derandomized, a few hundred examples each. For a longer run: KB_FUZZ_EXAMPLES=10000 pytest this file.
"""

import os
import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.query import QuerySyntaxError, fts_expression
from kb.store import frontmatter

EXAMPLES = int(os.environ.get("KB_FUZZ_EXAMPLES", "300"))
fuzz = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])

YAML_PIECES = st.sampled_from(
    [
        "work: x",
        "updated: 2026-13-45",
        "updated: 0000-01-01",
        "updated: 2026-02-30 25:61:61",
        "when: 9999-12-31T23:59:60Z",
        "n: 1e999999",
        "n: 0x",
        "? [a, b]\n: c",
        "a: &x [*x]",
        "a: *missing",
        "a: !!python/object:os.system ls",
        "a: !!binary '%%%'",
        "a: !!timestamp 2026-99-99",
        "a: !!int 1.5",
        "a: !!float x",
        "- list",
        "{",
        "'",
        "key:\tvalue",
        "a: |\n  block\n b",
        "---",
        "...",
        "\x00",
        "\ufeff",
    ]
)
FRONT_MATTER = st.one_of(
    st.text(),
    st.builds(
        lambda lines, body: "---\n" + "\n".join(lines) + "\n---\n" + body,
        st.lists(st.one_of(YAML_PIECES, st.text(max_size=30)), max_size=8),
        st.text(max_size=40),
    ),
)


@fuzz
@given(FRONT_MATTER)
def test_the_front_matter_parser_raises_only_its_own_error(text):
    try:
        doc = frontmatter.parse(text)
    except frontmatter.FrontMatterError as e:
        assert e.line >= 1 and str(e)
    else:
        assert isinstance(doc.meta, dict) and doc.body.endswith("\n")


QUERY = st.one_of(
    st.text(),
    st.lists(
        st.one_of(st.sampled_from(['"', "*", "OR", "AND", "NOT", "(", ")", ":", "-", "^", "NEAR", "\\"]), st.text()),
        max_size=8,
    ).map(" ".join),
)


@fuzz
@given(QUERY, st.booleans())
def test_any_search_box_text_is_a_valid_fts5_query_a_syntax_error_or_none(text, any_word):
    try:
        expression = fts_expression(text, any_word=any_word)
    except QuerySyntaxError as e:  # the user is told what was wrong (exit 2)
        assert str(e)
        return
    if expression is None:
        return
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(body)")
    conn.execute("INSERT INTO t VALUES ('probes and generalization of truth')")
    conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone()  # no OperationalError
