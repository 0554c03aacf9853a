"""Untrusted text to HTML: what each helper keeps and what it never lets through."""

from hypothesis import given, settings
from hypothesis import strategies as st

from kb.website.markup import markdown, paragraphs, plain, safe_url


def test_an_abstract_is_text_not_markdown_so_latex_and_numbers_survive():
    abstract = "We bound $x_i$ and $y_j$ by $\\ell_1$ norms.\n2. Then *stars* <b>stay</b> & so do `ticks`.\n\nNext."
    html = paragraphs(abstract)
    assert html == (
        "<p>We bound $x_i$ and $y_j$ by $\\ell_1$ norms. 2. Then *stars* &lt;b&gt;stay&lt;/b&gt; &amp; so do "
        "`ticks`.</p>\n<p>Next.</p>\n"
    )


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text())
def test_paragraphs_never_let_markup_through(text):
    html = paragraphs(text)
    inner = html.replace("<p>", "").replace("</p>", "")
    assert "<" not in inner and ">" not in inner


def test_a_summary_is_markdown_and_links_only_to_the_web():
    html = markdown("**Bold** and [a link](https://example.org) and [bad](javascript:alert(1))")
    assert "<strong>Bold</strong>" in html and 'href="https://example.org"' in html and 'href="javascript' not in html


def test_a_search_title_keeps_every_character_readable_and_none_that_makes_markup():
    assert (
        plain("The Internal State of an LLM Knows When It's Lying")
        == "The Internal State of an LLM Knows When It’s Lying"
    )
    assert plain('What you can cram into a single $&!#* vector: "p < 0.05"') == (
        "What you can cram into a single $＆!#* vector: ”p ‹ 0.05”"
    )


@settings(max_examples=300)
@given(st.text())
def test_a_search_title_never_holds_a_character_that_makes_markup(text):
    assert not set("<>&\"'`") & set(plain(text)) and len(plain(text)) == len(text)


def test_a_url_with_quotes_or_angle_brackets_stays_a_link_with_them_encoded():
    assert safe_url('https://x.example/a"b<c>') == "https://x.example/a%22b%3Cc%3E"
    assert safe_url("https://x.example/it's") == "https://x.example/it%27s"
    assert safe_url("javascript:alert(1)") is None and safe_url("https://x.example/a b") is None
