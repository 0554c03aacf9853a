"""Untrusted text to safe HTML: Markdown for summaries, URLs for links, BibTeX for citing.

Titles, abstracts, author names and URLs come from importers and contributors. Templates autoescape
every value; these helpers cover what escaping cannot: Markdown that must become HTML, and URLs whose
scheme decides whether they may be a link at all.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from urllib.parse import urlsplit

import nh3

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_TAGS = {
    "p",
    "a",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h2",
    "h3",
    "h4",
    "br",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "sub",
}


@cache
def _markdown():
    from markdown_it import MarkdownIt

    # raw HTML in a summary is shown as text, never passed through
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def prepare() -> None:
    """Load the Markdown parser now: before the renderers fork, so that each does not import it again."""
    _markdown()


# One summary is rendered for its work's page and again for each feed that lists the work (the site's, each of its
# techniques' and motivations'): the same text gives the same HTML, so it is rendered once.
@lru_cache(maxsize=4096)
def markdown(text: str | None) -> str:
    """Markdown -> HTML, sanitised: only plain formatting tags; links only to http(s) and mailto."""
    if not text:
        return ""
    html = _markdown().render(text)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes=set(LINK_SCHEMES),
        link_rel="nofollow noopener",
    )


def paragraphs(text: str | None) -> str:
    """Plain text (an abstract as a source gives it) -> escaped HTML paragraphs. Not Markdown: arXiv abstracts
    hold LaTeX ($x_i$, $\\ell_1$) and numbered sentences that Markdown would turn into emphasis and lists."""
    import html

    if not text:
        return ""
    parts = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "".join(f"<p>{html.escape(p, quote=False)}</p>\n" for p in parts if p)


def safe_url(url: str | None) -> str | None:
    """The URL if it may be a link (http, https, mailto), else None: a `javascript:` URL is never a link. Quotes and
    angle brackets in it are percent-encoded (what a browser sends for them anyway), so they end no attribute and
    the link still leads where it said; whitespace inside makes it no URL."""
    if not url:
        return None
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme not in LINK_SCHEMES or re.search(r"\s", url):
        return None
    return url.translate(_URL_QUOTED)


_URL_QUOTED = str.maketrans({c: f"%{ord(c):02X}" for c in "<>\"'`"})


def plain(text) -> str:
    """Text for what the search UI shows as HTML (filter labels, result titles): no character that could make markup.

    Pagefind reads these values as text and its UI inserts filter labels as HTML, so escaping alone is not
    enough: `&lt;img onerror=...&gt;` in the page is `<img onerror=...>` in the label. validate refuses such names
    in data/; this keeps the site safe even from a catalogue built without it. Each such character becomes a
    look-alike that is no markup, so a title still reads as itself ("It’s", "$＆!#*", "p ‹ 0.05")."""
    return str(text).translate(_LOOK_ALIKES)


_LOOK_ALIKES = str.maketrans({"<": "‹", ">": "›", "&": "＆", '"': "”", "'": "’", "`": "ˋ"})


_TAG = re.compile(r"<[^>]*>")


def html_text(html_: str | None) -> str:
    """The text of HTML this module made (sanitised Markdown): tags dropped, entities read."""
    import html

    return html.unescape(_TAG.sub(" ", html_)) if html_ else ""
