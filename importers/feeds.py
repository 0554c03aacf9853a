"""Any RSS 2.0, Atom 1.0 or RDF feed: fetched with httpx (conditional GET), parsed by feedparser.

We decode the bytes ourselves before feedparser sees them, in the encoding the feed declares: bytes invalid in it
are read as windows-1252 (the usual culprit) and reported with the item that holds them, instead of feedparser
silently re-reading the whole feed in another encoding. A link that is not http(s) (`javascript:`, `data:`) is
dropped with a notice; the work is kept.
"""

from __future__ import annotations

import bisect
import codecs
import datetime as dt
import re
from collections.abc import Iterator
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from importers.http import Polite
from importers.records import Link, Notice, SourceError, WorkRecord, discussed
from importers.text import clean, repaired

_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']", re.I)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"))
_BOMS16 = ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_ITEM = re.compile(r"<(?:[\w-]+:)?(?:item|entry)[\s>/]")


def label(spec: dict) -> str:
    return f"feed {spec['url']}"


def fetch(http: Polite, spec: dict) -> Iterator[WorkRecord | Notice]:
    """spec: url."""
    url = spec["url"]
    try:
        records, notices = parse_all(http.get(url), url)
    except SourceError:
        http.forget(url)  # an answer that is no feed (an error page served with 200) is not kept for the next run
        raise
    yield from notices
    yield from records


def parse(body: bytes, url: str) -> list[WorkRecord]:
    return parse_all(body, url)[0]


def parse_all(body: bytes, url: str) -> tuple[list[WorkRecord], list[Notice]]:
    """The feed's works, and what the user should know about them (bytes replaced, links dropped)."""
    import feedparser

    where = f"feed {url}"
    text, encoding, bad, notices = _decode(body, where)
    try:
        # feedparser gets bytes, never the URL: fetching is ours (pacing, caching, conditional GET). The text is
        # UTF-8 now, and the header says so, which overrides whatever the XML declaration still claims.
        feed = feedparser.parse(
            text.encode("utf-8"), response_headers={"content-type": "application/xml; charset=utf-8"}
        )
    except Exception as crash:  # a third-party parser on hostile bytes: any crash means the answer is unusable
        raise SourceError(where, f"the feed cannot be parsed ({type(crash).__name__}: {crash})") from None
    import xml.sax

    if feed.bozo and isinstance(feed.bozo_exception, xml.sax.SAXParseException) and feed.get("version"):
        # feedparser recovers what it can from broken XML; a half-read feed must not pass as whole
        bad_xml = feed.bozo_exception
        raise SourceError(where, f"malformed XML: {bad_xml.getMessage()}", f"line {bad_xml.getLineNumber()}")
    if not feed.entries:
        if re.search(r"<html|<!doctype html", text[:2000], re.I):
            raise SourceError(
                where,
                "the answer is an HTML page (a captcha or an error page?), not a feed",
                hint="check the URL: it should be the RSS or Atom link",
            )
        if feed.bozo:
            line = getattr(feed.bozo_exception, "getLineNumber", lambda: None)()
            raise SourceError(where, f"not a well-formed feed: {feed.bozo_exception}", f"line {line}" if line else None)
        if not feed.get("version"):
            raise SourceError(
                where, "the answer is not a feed", hint="check the URL: it should be the RSS or Atom link"
            )
    site = clean(feed.feed.get("title")) or url
    starts = [m.start() for m in _ITEM.finditer(text)]  # where each item begins, to find who holds a bad byte
    bad_items: dict[int, list[int]] = {}
    for offset, line in bad:
        bad_items.setdefault(bisect.bisect_right(starts, offset) - 1, []).append(line)
    if -1 in bad_items:
        lines = bad_items.pop(-1)
        notices.append(Notice(where, f"bytes invalid in {encoding} read as windows-1252", _lines(lines)))
    records = []
    for n, e in enumerate(feed.entries):
        title = clean(_plain(_str(e.get("title"))))  # an Atom title may be HTML: its words only
        name = f"item {n + 1} “{title[:80]}”" if title else f"item {n + 1}"
        if n in bad_items:
            notices.append(
                Notice(where, f"{name}: bytes invalid in {encoding} read as windows-1252", _lines(bad_items[n]))
            )
        if not title:
            continue
        try:
            record = _record(e, url, site, title)
        except Exception as error:  # feedparser's entries hold what hostile XML made of them: one item that cannot
            # be read is that item's problem, said with its place; the feed's other items are kept
            line = f"line {text.count(chr(10), 0, starts[n]) + 1}" if n < len(starts) else None
            notices.append(Notice(where, f"{name}: skipped, it cannot be read ({type(error).__name__}: {error})", line))
            continue
        link = _str(e.get("link"))
        if link and not record.url and link != _str(e.get("id")):  # feedparser gives an Atom id as the link
            notices.append(Notice(where, f"{name}: its link {clean(link)[:100]!r} is not http(s): dropped, work kept"))
        records.append(record)
    return records, notices


def _str(value) -> str:
    """A text field of an entry, or "" where feedparser left None or something else (an empty Atom element)."""
    return value if isinstance(value, str) else ""


def _lines(lines: list[int]) -> str:
    shown = sorted(set(lines))
    return "line " + ", ".join(map(str, shown[:5])) + (" ..." if len(shown) > 5 else "")


def _declared(body: bytes) -> tuple[bytes, str]:
    """The body without its byte-order mark, and its encoding: the mark's, else the declaration's, else UTF-8."""
    for bom, name in _BOMS + _BOMS16:
        if body.startswith(bom):
            return body, name
    found = _DECLARATION.match(body[:500])
    return body, (found.group(1).decode("ascii", "replace").strip() if found else "utf-8")


def _decode(body: bytes, where: str) -> tuple[str, str, list[tuple[int, int]], list[Notice]]:
    """(text, encoding used, [(offset in text, line) of each byte invalid in it], notices)."""
    body, declared = _declared(body)
    notices = []
    try:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9._:-]*", declared):  # Python's lookup forgives 'utf-\x85': we do not
            raise LookupError(declared)
        codec = codecs.lookup(declared)
    except (LookupError, ValueError):  # 'aTF-8', 'utf-\x85': a typo in the declaration, not a reason to give up
        codec = codecs.lookup("utf-8")
        notices.append(Notice(where, f"the feed declares an unknown encoding {clean(declared)[:40]!r}: read as UTF-8"))
    if not _charset(codec.name):  # 'idna', 'rot13', 'unicode_escape': Python codecs, not a feed's charset
        notices.append(Notice(where, f"the feed declares {clean(declared)[:40]!r}, not a text encoding: read as UTF-8"))
        codec = codecs.lookup("utf-8")
    if codec.name.startswith(("utf-16", "utf-32")) and not body.startswith(tuple(b for b, _ in _BOMS + _BOMS16)):
        codec = codecs.lookup("utf-8")  # a declaration that contradicts the ASCII-readable bytes it is written in
    try:
        return body.decode(codec.name), codec.name, [], notices
    except UnicodeDecodeError:
        pass
    except (UnicodeError, LookupError, ValueError, TypeError):  # 'rot13', 'idna': names of codecs, not of charsets
        notices.append(Notice(where, f"the feed declares {clean(declared)[:40]!r}, not a text encoding: read as UTF-8"))
        codec = codecs.lookup("utf-8")
    # Decode run by run: the bytes invalid in the encoding are read as windows-1252 (the usual culprit) and remembered.
    parts: list[str] = []
    bad: list[tuple[int, int]] = []
    length, line, rest = 0, 1, body
    while rest:
        try:
            parts.append(rest.decode(codec.name))
            break
        except UnicodeDecodeError as e:
            good = rest[: e.start].decode(codec.name, errors="replace")
            wrong = rest[e.start : max(e.end, e.start + 1)].decode("cp1252", errors="replace")
            parts += [good, wrong]
            length, line = length + len(good), line + good.count("\n")
            bad.append((length, line))
            length, line = length + len(wrong), line + wrong.count("\n")
            rest = rest[max(e.end, e.start + 1) :]
    return "".join(parts), codec.name, bad, notices


def _charset(name: str) -> bool:
    """Whether a codec reads a document's bytes as a charset does: ASCII as itself (the markup is ASCII), any byte
    with errors="replace" (how bytes invalid in it are read)."""
    sample = b"<?xml version='1.0'?>\n<rss a=\"1\">&amp; x-y.z/0_9 C:\\u0041\\n</rss>"
    try:
        same = sample.decode(name, "replace") == sample.decode("ascii")
        return same and isinstance(b"\xff\xfe".decode(name, "replace"), str)
    except Exception:  # a codec refusing its own sample ('idna' refuses errors="replace"; 'hex' wants hex) is none
        return False


def _date(e) -> str | None:
    when = e.get("published_parsed") or e.get("updated_parsed")
    try:
        day = dt.date(*when[:3]) if when else None
    except (TypeError, ValueError):  # year 0, day 31 of February: a date the feed got wrong is no date
        return None
    return day.isoformat() if day else None


def _record(e, url: str, site: str, title: str) -> WorkRecord:
    date = _date(e)
    authors = [a["name"] for a in e.get("authors", []) if isinstance(a, dict) and a.get("name")]
    if len(authors) <= 1 and e.get("author"):
        authors = [_name(e.author)]  # feedparser mangles RSS's 'email (Name)'; the raw field is reliable
    summary = _plain(_str(e.get("summary")))
    return repaired(
        WorkRecord(
            source=f"feed:{url}",
            kind="post",
            title=title,
            authors=authors,
            year=int(date[:4]) if date else None,
            date=date,
            venue=site,
            abstract=summary or None,
            url=_link(e.get("link"), url),
            ids={"feed": _guid(e["id"], url)} if e.get("id") else {},
            links=_linked(e),
        )
    )


# A guid that is a URI (a permalink, tag:, urn:uuid:) names its item everywhere; any other ("1", "post-42") only
# within its feed, so it is kept with the feed's address: two blogs' item "1" are two works.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S")


def _guid(guid: str, feed: str) -> str:
    return guid if _URI.match(guid) else f"{feed}#{guid}"


def _link(link: str | None, base: str) -> str | None:
    """The item's absolute http(s) link, or None (relative links are resolved against the feed's URL)."""
    if not link:
        return None
    try:
        # a space or another character a URL cannot hold ('/a b', '/é') is percent-encoded, as a browser does: the
        # link is the item's address still, and a stored URL holds no space
        parts = urlsplit(urljoin(base, link.strip()))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return None
        return urlunsplit(parts._replace(**{k: quote(getattr(parts, k), safe=_URL_SAFE) for k in _ESCAPED}))
    except ValueError:  # a link urllib cannot split ('http://[x') is no link
        return None


_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"  # RFC 3986's reserved characters and '%' (an escape already made) stay as they are
_ESCAPED = ("path", "query", "fragment")  # the host is left alone: a name in another script is no path


def _linked(entry) -> list[Link]:
    """The works an item's HTML (summary and content) links to: it discusses them."""
    contents = entry.get("content") if isinstance(entry.get("content"), list) else []
    texts = [_str(entry.get("summary"))] + [_str(c.get("value")) for c in contents if isinstance(c, dict)]
    return discussed(" ".join(texts))


def _name(author: str) -> str:
    """RSS writes 'email (Name)': keep the name."""
    found = re.search(r"\(([^)]+)\)\s*$", author)
    return found.group(1).strip() if found else author.strip()


def _plain(html: str) -> str:
    """Feed text may carry markup: keep the words only (the site escapes whatever is left)."""
    import html as htmllib

    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html or "")).split())
