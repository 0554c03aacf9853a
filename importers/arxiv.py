"""arXiv through its export API (Atom): by ids or by query, paged, versions collapsed to one work.

Asked for ids, the answer is checked against the question: ids arXiv does not know (it answers them with nothing)
and ids that are not arXiv ids at all are named in an error after the works found were delivered.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

from importers.http import RESUME, Polite
from importers.identifiers import is_arxiv_id, strip_version
from importers.records import SourceError, WorkRecord
from importers.text import repaired

BASE_URL = "https://export.arxiv.org/api/query"
INTERVAL = 3.0  # arXiv asks for one request every three seconds
PAGE = 100
NS = {
    "a": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "os": "http://a9.com/-/spec/opensearch/1.1/",
}


def label(spec: dict) -> str:
    return "arxiv"


def fetch(http: Polite, spec: dict) -> Iterator[WorkRecord]:
    """spec: ids (a list) or query, limit (None: every result), base_url."""
    base_url = spec.get("base_url") or BASE_URL
    limit = spec.get("limit")
    http.intervals.setdefault(_host(base_url), INTERVAL)
    if spec.get("ids"):
        yield from _by_ids(http, base_url, [str(i) for i in spec["ids"]])
    elif spec.get("query"):
        yield from _by_query(http, base_url, spec["query"], limit)
    else:
        raise SourceError("arxiv", "give ids or a query")


def _get(http: Polite, base_url: str, params: dict) -> tuple[int, list[WorkRecord]]:
    try:
        body = http.get(base_url, params=params)
    except SourceError as e:
        # arXiv answers a bad id with HTTP 400 and its error feed, whose message is the useful part
        if e.body and b"/api/errors" in e.body:
            parse(e.body)
        raise
    try:
        return parse(body)
    except SourceError:
        http.forget(base_url, params)  # an answer we cannot use is not kept: the next run asks again
        raise


def _by_query(http: Polite, base_url: str, query: str, limit: int | None) -> Iterator[WorkRecord]:
    start, seen, known = 0, set[str](), 0  # known: the total given by the last page that held entries
    while limit is None or start < limit:
        size = PAGE if limit is None else min(PAGE, limit - start)
        params = {"search_query": query, "start": start, "max_results": size}
        total, records = _get(http, base_url, params)
        if not records and start == 0 and total == 0:
            http.forget(base_url, params)  # maybe one of arXiv's passing empty answers: a re-run asks again
            raise SourceError(
                "arxiv",
                f"arXiv has no work matching the query {query!r} (its answer is empty)",
                hint="check the query's syntax, e.g. 'ti:probe AND cat:cs.LG' or 'au:del_maestro'",
            )
        known = total if records else known
        if not records and start < known:
            # arXiv answers an empty page now and then, for a while, well before the end, and says 0 results on it
            # as often as the true total: only the totals of the pages that held entries tell the end. Not cached, so a
            # re-run asks for this page again while the pages before it (the same starts) come from the cache.
            http.forget(base_url, params)
            raise SourceError(
                "arxiv",
                f"arXiv answered an empty page at result {start} of {known} for the query {query!r}",
                hint=f"arXiv does this now and then; {RESUME} (the pages already read come from the cache)",
            )
        new = [r for r in records if r.ids["arxiv"] not in seen]  # pages of one query overlap when results move
        seen.update(r.ids["arxiv"] for r in new)
        yield from new
        # arXiv may answer fewer entries than asked (60 of 100) before the end: the next page starts after the last
        # entry received, not after the last one asked for, or the ones between are never read
        start += len(records)
        if start >= known or not new:  # the end, or a page that repeats what was read: asking on would loop
            return


def by_ids(http: Polite, ids: list[str], base_url: str = BASE_URL) -> Iterator[WorkRecord]:
    """The works arXiv has for these (well-formed) ids, PAGE ids a request; ids it does not know give nothing."""
    http.intervals.setdefault(_host(base_url), INTERVAL)
    for n in range(0, len(ids), PAGE):
        chunk = ids[n : n + PAGE]
        yield from _get(http, base_url, {"id_list": ",".join(chunk), "start": 0, "max_results": PAGE})[1]


def _by_ids(http: Polite, base_url: str, ids: list[str]) -> Iterator[WorkRecord]:
    asked = list(dict.fromkeys(i.strip().removeprefix("arXiv:").removeprefix("arxiv:") for i in ids if i.strip()))
    malformed = [i for i in asked if not is_arxiv_id(i, versioned=True)]
    wanted = [i for i in asked if is_arxiv_id(i, versioned=True)]
    found = set()
    for record in by_ids(http, wanted, base_url):
        found.add(record.ids["arxiv"])
        yield record
    missing = [i for i in wanted if strip_version(i) not in found]
    problems = []
    if missing:
        problems.append(f"{len(missing)} of {len(asked)} id(s) not found on arXiv: {', '.join(missing)}")
    if malformed:
        problems.append(f"not arXiv ids: {', '.join(map(repr, malformed))}")
    if problems:
        raise SourceError(
            "arxiv",
            "; ".join(problems),
            hint="the works found were imported; an arXiv id looks like 2310.01405 or hep-th/9901001",
        )


def _host(url: str) -> str:
    return url.split("//", 1)[-1].split("/", 1)[0]


def parse(body: bytes) -> tuple[int, list[WorkRecord]]:
    """An Atom page -> (total results, records). arXiv's error feed becomes a SourceError."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        kind = "an HTML page" if body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")) else "not XML"
        raise SourceError("arxiv", f"the answer is {kind}: {e}", f"line {e.position[0]}") from None
    except (ValueError, LookupError) as e:  # expat refuses some encodings and some bytes before it parses
        raise SourceError("arxiv", f"the answer cannot be decoded: {e}") from None
    if root.tag.lower().rsplit("}", 1)[-1] == "html":
        raise SourceError(
            "arxiv",
            "the answer is an HTML page, not the API's Atom feed",
            hint="check --base-url, or arXiv may be rate-limiting",
        )
    if root.tag != f"{{{NS['a']}}}feed":
        raise SourceError("arxiv", f"expected an Atom feed, got <{root.tag}>")
    records = []
    for n, entry in enumerate(root.findall("a:entry", NS), 1):
        raw_id = _text(entry, "a:id")
        if "/api/errors" in raw_id:
            raise SourceError("arxiv", f"arXiv reports an error: {_text(entry, 'a:summary')}", raw_id)
        if "/abs/" not in raw_id or not is_arxiv_id(raw_id.rsplit("/abs/", 1)[-1], versioned=True):
            raise SourceError("arxiv", f"entry {n} has no arXiv id (its <id> is {raw_id[:100]!r})")
        records.append(_record(entry, raw_id))
    total = _text(root, "os:totalResults")
    if not total:
        return len(records), records
    if not total.isascii() or not total.isdigit():
        raise SourceError("arxiv", f"totalResults is not a number: {total[:50]!r}")
    return int(total), records


def _text(node, path: str) -> str:
    return " ".join((node.findtext(path, default="", namespaces=NS) or "").split())


def _date(entry, field: str, arxiv_id: str) -> str | None:
    value = _text(entry, field)[:10]
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise SourceError("arxiv", f"<{field.split(':')[-1]}> {value!r} is not a date", arxiv_id) from None


def _record(entry, raw_id: str) -> WorkRecord:
    arxiv_id = strip_version(raw_id.rsplit("/abs/", 1)[-1])
    published = _date(entry, "a:published", arxiv_id)
    updated = _date(entry, "a:updated", arxiv_id)
    comment = _text(entry, "arxiv:comment")
    ids = {"arxiv": arxiv_id}
    if doi := _text(entry, "arxiv:doi"):
        ids["doi"] = doi
    primary = next((c.get("term") for c in entry.findall("arxiv:primary_category", NS) if c.get("term")), None)
    terms = [c.get("term") for c in entry.findall("a:category", NS) if c.get("term")]
    categories = list(dict.fromkeys([primary, *terms] if primary else terms))
    authors, affiliations = [], {}
    for a in entry.findall("a:author", NS):
        name = _text(a, "a:name")
        if not name:
            continue
        authors.append(name)
        places = [" ".join((x.text or "").split()) for x in a.findall("arxiv:affiliation", NS)]
        if places := [p for p in places if p]:
            affiliations[name] = places
    record = repaired(
        WorkRecord(
            source="arxiv",
            kind="paper",
            title=_text(entry, "a:title"),
            authors=authors,
            year=int(published[:4]) if published else None,
            date=published,
            updated=updated,
            venue=_text(entry, "arxiv:journal_ref") or "arXiv",
            abstract=_text(entry, "a:summary") or None,
            url=f"https://arxiv.org/abs/{arxiv_id}",
            ids=ids,
            categories=categories,
            affiliations=affiliations,
            withdrawn=bool(re.search(r"\bwithdrawn\b", comment, re.I)),
        )
    )
    if not record.title:
        raise SourceError("arxiv", "a work without a title", arxiv_id)
    return record
