"""OpenAlex: an author's works through its open API (the fallback when Google Scholar blocks us)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from importers.http import Polite
from importers.records import SourceError, WorkRecord
from importers.text import repaired

BASE_URL = "https://api.openalex.org"
KINDS = {"article": "paper", "preprint": "paper", "book-chapter": "paper", "report": "report", "dissertation": "report"}


def label(spec: dict) -> str:
    return f"openalex {spec.get('author') or spec.get('author_id')}"


def fetch(http: Polite, spec: dict) -> Iterator[WorkRecord]:
    """spec: author (a name: the best match) or author_id (A...), limit (None: every work), base_url, key."""
    root = spec.get("base_url") or BASE_URL
    key = spec.get("key")
    if not spec.get("author") and not spec.get("author_id"):
        raise SourceError("openalex", "give an author's name or an OpenAlex author id")
    author = spec.get("author_id") or author_id(http, spec["author"], root, key)
    yield from works(http, author, root, key, spec.get("limit"))


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
    found = results[0].get("id") if isinstance(results, list) and isinstance(results[0], dict) else None
    if not isinstance(found, str):
        raise SourceError("openalex", f"the best match for {name!r} has no id", "authors")
    return found.rsplit("/", 1)[-1]


def works(
    http: Polite, author: str, base_url: str = BASE_URL, key: str | None = None, limit: int | None = None
) -> Iterator[WorkRecord]:
    """Every work of an OpenAlex author id (A123...), paged with a cursor."""
    cursor, seen, used = "*", 0, set()
    while cursor and cursor not in used and (limit is None or seen < limit):  # a cursor given twice would loop
        used.add(cursor)
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
            if isinstance(w, dict) and w.get("display_name"):
                yield _checked(w)
        meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
        cursor = meta.get("next_cursor") if results and isinstance(meta.get("next_cursor"), str) else None


def _checked(w: dict) -> WorkRecord:
    """record(w), or a SourceError naming the work when the answer puts unexpected types in it."""
    try:
        found = repaired(record(w))
        if not isinstance(found.year, int) or isinstance(found.year, bool) or not 1000 <= found.year <= 9999:
            found.year = None  # a year that is no year (0, "2023", 1e9) is left out, not passed on
        if not isinstance(found.date, str):
            found.date = None
        return found
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as e:
        raise SourceError(
            "openalex", f"a work the importer cannot read ({type(e).__name__}: {e})", str(w.get("id"))[:100]
        ) from None


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
