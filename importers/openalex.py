"""OpenAlex: an author's works through its open API (the fallback when Google Scholar blocks us)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from importers.http import Polite
from importers.records import SourceError, WorkRecord

BASE_URL = "https://api.openalex.org"
KINDS = {"article": "paper", "preprint": "paper", "book-chapter": "paper", "report": "report", "dissertation": "report"}


def _json(body: bytes, where: str) -> dict:
    try:
        data = json.loads(body)
    except ValueError:
        raise SourceError("openalex", "the answer is not JSON", where) from None
    if not isinstance(data, dict):
        raise SourceError("openalex", "expected a JSON object", where)
    if data.get("error"):
        raise SourceError("openalex", str(data.get("message") or data["error"]), where)
    return data


def author_id(http: Polite, name: str, base_url: str = BASE_URL, key: str | None = None) -> str:
    data = _json(
        http.get(f"{base_url}/authors", params={"search": name, **({"api_key": key} if key else {})}), "authors"
    )
    results = data.get("results") or []
    if not results:
        raise SourceError("openalex", f"no author named {name!r}")
    return results[0]["id"].rsplit("/", 1)[-1]


def works(
    http: Polite, author: str, base_url: str = BASE_URL, key: str | None = None, limit: int = 2000
) -> Iterator[WorkRecord]:
    """Every work of an OpenAlex author id (A123...), paged with a cursor."""
    cursor, seen = "*", 0
    while cursor and seen < limit:
        params = {
            "filter": f"author.id:{author}",
            "per-page": 200,
            "cursor": cursor,
            **({"api_key": key} if key else {}),
        }
        data = _json(http.get(f"{base_url}/works", params=params), f"works of {author}")
        results = data.get("results")
        if not isinstance(results, list):
            raise SourceError("openalex", "expected a list of results", f"works of {author}")
        for w in results:
            seen += 1
            if w.get("display_name"):
                yield record(w)
        cursor = (data.get("meta") or {}).get("next_cursor") if results else None


def record(w: dict) -> WorkRecord:
    ids = {"openalex": w["id"].rsplit("/", 1)[-1]}
    if w.get("doi"):
        ids["doi"] = w["doi"].removeprefix("https://doi.org/")
    for loc in w.get("locations") or []:
        landing = (loc or {}).get("landing_page_url") or ""
        if "arxiv.org/abs/" in landing:
            ids["arxiv"] = re.sub(r"v\d+$", "", landing.rsplit("/abs/", 1)[-1])
    source = ((w.get("primary_location") or {}).get("source") or {}).get("display_name")
    return WorkRecord(
        source="openalex",
        kind=KINDS.get(w.get("type"), "paper"),
        title=w["display_name"],
        authors=[
            a["author"]["display_name"]
            for a in w.get("authorships") or []
            if (a.get("author") or {}).get("display_name")
        ],
        year=w.get("publication_year"),
        date=w.get("publication_date"),
        venue=source,
        abstract=_abstract(w.get("abstract_inverted_index")),
        url=(w.get("primary_location") or {}).get("landing_page_url"),
        ids=ids,
    )


def _abstract(index: dict | None) -> str | None:
    if not index:
        return None
    words = sorted((pos, word) for word, positions in index.items() for pos in positions)
    return " ".join(word for _, word in words)
