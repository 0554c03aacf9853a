"""Any RSS 2.0, Atom 1.0 or RDF feed: fetched with httpx (conditional GET), parsed by feedparser."""

from __future__ import annotations

import datetime as dt
import re
import warnings

from importers.http import Polite
from importers.records import Link, SourceError, WorkRecord, linked_ids


def fetch(http: Polite, url: str) -> list[WorkRecord]:
    return parse(http.get(url), url)


def parse(body: bytes, url: str) -> list[WorkRecord]:
    import feedparser

    # feedparser gets bytes, never the URL: fetching is ours (pacing, caching, conditional GET)
    feed = feedparser.parse(body)
    import xml.sax

    if feed.bozo and isinstance(feed.bozo_exception, xml.sax.SAXParseException) and feed.get("version"):
        # feedparser recovers what it can from broken XML; a half-read feed must not pass as whole
        e = feed.bozo_exception
        raise SourceError(f"feed {url}", f"malformed XML: {e.getMessage()}", f"line {e.getLineNumber()}")
    if not feed.entries:
        if re.search(rb"<html|<!doctype html", body[:2000], re.I):
            raise SourceError(
                f"feed {url}",
                "the answer is an HTML page (a captcha or an error page?), not a feed",
                hint="check the URL: it should be the RSS or Atom link",
            )
        if feed.bozo:
            line = getattr(feed.bozo_exception, "getLineNumber", lambda: None)()
            raise SourceError(
                f"feed {url}", f"not a well-formed feed: {feed.bozo_exception}", f"line {line}" if line else None
            )
        if not feed.get("version"):
            raise SourceError(
                f"feed {url}", "the answer is not a feed", hint="check the URL: it should be the RSS or Atom link"
            )
    site = feed.feed.get("title") or url
    records = []
    for e in feed.entries:
        if not e.get("title"):
            continue
        when = e.get("published_parsed") or e.get("updated_parsed")
        date = dt.date(*when[:3]).isoformat() if when else None
        authors = [a["name"] for a in e.get("authors", []) if a.get("name")]
        if len(authors) <= 1 and e.get("author"):
            authors = [_name(e.author)]  # feedparser mangles RSS's 'email (Name)'; the raw field is reliable
        summary = _plain(e.get("summary", ""))
        records.append(
            WorkRecord(
                source=f"feed:{url}",
                kind="post",
                title=_plain(e.title),
                authors=authors,
                year=int(date[:4]) if date else None,
                date=date,
                venue=site,
                abstract=summary or None,
                url=_web_link(e.get("link"), url, e.get("title", "")),
                ids={"feed": e["id"]} if e.get("id") else {},
                links=_linked(e),
            )
        )
    return records


def _web_link(link: str | None, feed: str, title: str) -> str | None:
    """An item's link, when it is a web address: a `javascript:` or relative link is dropped, the item kept."""
    if not link or re.match(r"https?://\S+$", link):
        return link
    warnings.warn(f"feed {feed}: item {title[:80]!r}: link {link[:80]!r} is not http(s); kept without it", stacklevel=2)
    return None


def _linked(entry) -> list[Link]:
    """The works an item's HTML links to (arXiv, DOI, forum posts): it discusses them.

    Read from the hrefs before the text is flattened, so a link whose text is "the paper" still counts."""
    html = " ".join([entry.get("summary", "")] + [c.get("value", "") for c in entry.get("content", [])])
    hrefs = " ".join(re.findall(r"""href\s*=\s*["']([^"']+)""", html, re.I))
    return [Link("discusses", scheme, value) for scheme, value in linked_ids(hrefs)]


def _name(author: str) -> str:
    """RSS writes 'email (Name)': keep the name."""
    found = re.search(r"\(([^)]+)\)\s*$", author)
    return found.group(1).strip() if found else author.strip()


def _plain(html: str) -> str:
    """Feed text may carry markup: keep the words only (the site escapes whatever is left)."""
    import html as htmllib

    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html or "")).split())


def from_spec(http: Polite, spec: dict) -> list[WorkRecord]:
    """The importer seam: `{"url": ...}` -> the feed's items."""
    return fetch(http, spec["url"])
