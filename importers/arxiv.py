"""arXiv through its export API (Atom): by ids or by query, paged, versions collapsed to one work."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

from importers.http import Polite
from importers.records import SourceError, WorkRecord

BASE_URL = "https://export.arxiv.org/api/query"
INTERVAL = 3.0  # arXiv asks for one request every three seconds
PAGE = 100
NS = {
    "a": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "os": "http://a9.com/-/spec/opensearch/1.1/",
}
_VERSION = re.compile(r"v\d+$")


def fetch(
    http: Polite, ids: list[str] | None = None, query: str | None = None, base_url: str = BASE_URL, limit: int = 1000
) -> Iterator[WorkRecord]:
    http.intervals.setdefault(_host(base_url), INTERVAL)
    start = 0
    while start < limit:
        params = {"start": start, "max_results": min(PAGE, limit - start)}
        if ids:
            params["id_list"] = ",".join(ids)
        if query:
            params["search_query"] = query
        total, records = parse(http.get(base_url, params=params))
        yield from records
        start += PAGE
        if ids or start >= total or not records:
            return


def _host(url: str) -> str:
    return url.split("//", 1)[-1].split("/", 1)[0]


def parse(body: bytes) -> tuple[int, list[WorkRecord]]:
    """An Atom page -> (total results, records). arXiv's error feed becomes a SourceError."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        kind = "an HTML page" if body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")) else "not XML"
        raise SourceError("arxiv", f"the answer is {kind}: {e}", f"line {e.position[0]}") from None
    if root.tag.lower().rsplit("}", 1)[-1] == "html":
        raise SourceError(
            "arxiv",
            "the answer is an HTML page, not the API's Atom feed",
            hint="check --base-url, or arXiv may be rate-limiting",
        )
    if root.tag != f"{{{NS['a']}}}feed":
        raise SourceError("arxiv", f"expected an Atom feed, got <{root.tag}>")
    records = []
    for entry in root.findall("a:entry", NS):
        raw_id = _text(entry, "a:id")
        if "/api/errors" in raw_id:
            raise SourceError("arxiv", f"arXiv reports an error: {_text(entry, 'a:summary')}", raw_id)
        records.append(_record(entry, raw_id))
    total = root.findtext("os:totalResults", default=str(len(records)), namespaces=NS)
    return int(total), records


def _text(node, path: str) -> str:
    return " ".join((node.findtext(path, default="", namespaces=NS) or "").split())


def _record(entry, raw_id: str) -> WorkRecord:
    arxiv_id = _VERSION.sub("", raw_id.rsplit("/abs/", 1)[-1])
    published = _text(entry, "a:published")[:10] or None
    comment = _text(entry, "arxiv:comment")
    ids = {"arxiv": arxiv_id}
    if doi := _text(entry, "arxiv:doi"):
        ids["doi"] = doi
    return WorkRecord(
        source="arxiv",
        kind="paper",
        title=_text(entry, "a:title"),
        authors=[_text(a, "a:name") for a in entry.findall("a:author", NS)],
        year=int(published[:4]) if published else None,
        date=published,
        venue=_text(entry, "arxiv:journal_ref") or "arXiv",
        abstract=_text(entry, "a:summary") or None,
        url=f"https://arxiv.org/abs/{arxiv_id}",
        ids=ids,
        withdrawn=bool(re.search(r"\bwithdrawn\b", comment, re.I)),
    )


def from_spec(http: Polite, spec: dict) -> Iterator[WorkRecord]:
    """The importer seam: `{"ids": [...], "query": ..., "limit": ..., "base_url": ...}` -> records."""
    return fetch(
        http, spec.get("ids") or None, spec.get("query"), spec.get("base_url") or BASE_URL, spec.get("limit", 200)
    )
