"""OpenAlex: an author's works through its open API (the fallback when Google Scholar blocks us), and works
by identifier in batches (`kb refresh`): abstract, dated citation count and reference list."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator

from importers.http import Polite
from importers.identifiers import ARXIV_DOI_PREFIX, arxiv_from_doi, strip_version
from importers.records import Link, SourceError, WorkRecord
from importers.text import repaired

BASE_URL = "https://api.openalex.org"
# OpenAlex ORs up to 50 values in one filter (`doi:a|b|...`); one page of 50 then holds every answer.
BATCH = 50
# Only what a refresh uses: answers stay small (a full work is ~20 kB, mostly concepts and locations).
FIELDS = (
    "id,doi,display_name,publication_year,publication_date,type,authorships,primary_location,locations,"
    "abstract_inverted_index,cited_by_count,referenced_works"
)
# arXiv registers a DataCite DOI for every paper: OpenAlex finds an arXiv-only work by it.
KINDS = {"article": "paper", "preprint": "paper", "book-chapter": "paper", "report": "report", "dissertation": "report"}


def label(spec: dict) -> str:
    return f"openalex {spec.get('author') or spec.get('author_id')}"


def fetch(http: Polite, spec: dict) -> Iterator[WorkRecord]:
    """spec: author (a name: the best match) or author_id (A...), limit (None: every work), base_url, key, mailto."""
    root = spec.get("base_url") or BASE_URL
    key, mailto = spec.get("key"), spec.get("mailto")
    if not spec.get("author") and not spec.get("author_id"):
        raise SourceError("openalex", "give an author's name or an OpenAlex author id")
    author = spec.get("author_id") or author_id(http, spec["author"], root, key, mailto)
    yield from works(http, author, root, key, spec.get("limit"), mailto)


def get_json(http: Polite, url: str, params: dict, where: str) -> dict:
    """The JSON object OpenAlex answers; an answer that is not one is not kept in the cache for the next run."""
    try:
        return _json(http.get(url, params=params), where)
    except SourceError:
        http.forget(url, params)
        raise


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


def auth_params(key: str | None = None, mailto: str | None = None) -> dict:
    """The one place OpenAlex credentials come from: an API key and a contact address (the "polite pool"),
    as given: kb reads them from its settings ($OPENALEX_API_KEY, $OPENALEX_MAILTO), an importer never does."""
    return {**({"api_key": key} if key else {}), **({"mailto": mailto} if mailto else {})}


def by_ids(
    http: Polite,
    scheme: str,
    values: Iterable[str],
    base_url: str = BASE_URL,
    key: str | None = None,
    mailto: str | None = None,
    today: dt.date | None = None,
) -> Iterator[WorkRecord]:
    """Works by identifier ("openalex" W-ids, "doi" or "arxiv"), BATCH ids a request, in a stable order so that
    a re-run after a failure asks the same pages again and the HTTP cache answers the ones already read."""
    filters = {"openalex": "ids.openalex", "doi": "doi", "arxiv": "doi"}
    if scheme not in filters:
        raise ValueError(f"OpenAlex cannot look works up by {scheme!r}")
    # "," separates filters and "|" alternatives: an id holding one cannot go in a batch (no real DOI seen does)
    wanted = sorted({_lookup_value(scheme, v) for v in values if v and not {",", "|"} & set(v)})
    as_of = (today or dt.date.today()).isoformat()
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        params = {
            "filter": f"{filters[scheme]}:{'|'.join(batch)}",
            "per-page": BATCH,
            "select": FIELDS,
            **auth_params(key, mailto),
        }
        where = f"works by {scheme} {batch[0]}{' ...' if len(batch) > 1 else ''}"
        data = get_json(http, f"{base_url}/works", params, where)
        results = data.get("results")
        if not isinstance(results, list):
            raise SourceError("openalex", "expected a list of results", where)
        for w in results:
            if isinstance(w, dict) and w.get("id") and w.get("display_name"):
                yield _checked(w, as_of)


def _lookup_value(scheme: str, value: str) -> str:
    if scheme == "arxiv":
        return ARXIV_DOI_PREFIX + value.lower()
    if scheme == "openalex":
        return value.rsplit("/", 1)[-1].upper()
    return value.lower().removeprefix("https://doi.org/")


def author_id(
    http: Polite, name: str, base_url: str = BASE_URL, key: str | None = None, mailto: str | None = None
) -> str:
    data = get_json(http, f"{base_url}/authors", {"search": name, **auth_params(key, mailto)}, "authors")
    results = data.get("results") or []
    if not results:
        raise SourceError("openalex", f"no author named {name!r}")
    found = results[0].get("id") if isinstance(results, list) and isinstance(results[0], dict) else None
    if not isinstance(found, str):
        raise SourceError("openalex", f"the best match for {name!r} has no id", "authors")
    return found.rsplit("/", 1)[-1]


def works(
    http: Polite,
    author: str,
    base_url: str = BASE_URL,
    key: str | None = None,
    limit: int | None = None,
    mailto: str | None = None,
) -> Iterator[WorkRecord]:
    """Every work of an OpenAlex author id (A123...), paged with a cursor."""
    cursor: str | None = "*"
    seen, used, as_of = 0, set[str](), dt.date.today().isoformat()
    while cursor and cursor not in used and (limit is None or seen < limit):  # a cursor given twice would loop
        used.add(cursor)
        params = {
            "filter": f"author.id:{author}",
            "per-page": 200,
            "cursor": cursor,
            **auth_params(key, mailto),
        }
        data = get_json(http, f"{base_url}/works", params, f"works of {author}")
        results = data.get("results")
        if not isinstance(results, list):
            raise SourceError("openalex", "expected a list of results", f"works of {author}")
        for w in results:
            seen += 1
            if isinstance(w, dict) and w.get("display_name"):
                yield _checked(w, as_of)
        meta = data["meta"] if isinstance(data.get("meta"), dict) else {}
        cursor = meta.get("next_cursor") if results and isinstance(meta.get("next_cursor"), str) else None


def _checked(w: dict, as_of: str) -> WorkRecord:
    """record(w, as_of), or a SourceError naming the work when the answer puts unexpected types in it."""
    try:
        found = repaired(record(w, as_of))
        if not isinstance(found.year, int) or isinstance(found.year, bool) or not 1000 <= found.year <= 9999:
            found.year = None  # a year that is no year (0, "2023", 1e9) is left out, not passed on
        if not isinstance(found.date, str):
            found.date = None
        return found
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as e:
        raise SourceError(
            "openalex", f"a work the importer cannot read ({type(e).__name__}: {e})", str(w.get("id"))[:100]
        ) from None


def record(w: dict, as_of: str | None = None) -> WorkRecord:
    """One OpenAlex work. With as_of (the day it was read) its citation count is kept, dated."""
    ids = {"openalex": w["id"].rsplit("/", 1)[-1]}
    doi = (w.get("doi") or "").removeprefix("https://doi.org/")
    if arxiv := arxiv_from_doi(doi):
        ids["arxiv"] = arxiv  # arXiv's own DOI names the arXiv id, not a publisher's version
    elif doi:
        ids["doi"] = doi
    for loc in w.get("locations") or []:
        landing = (loc or {}).get("landing_page_url") or ""
        if "arxiv.org/abs/" in landing:
            ids["arxiv"] = strip_version(landing.rsplit("/abs/", 1)[-1])
    source = ((w.get("primary_location") or {}).get("source") or {}).get("display_name")
    return WorkRecord(
        source="openalex",
        kind=KINDS.get(str(w.get("type")), "paper"),
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
        # the reference list, as OpenAlex ids: those of works in the catalogue become "cites" relations
        links=[
            Link("cites", "openalex", ref.rsplit("/", 1)[-1])
            for ref in w.get("referenced_works") or []
            if isinstance(ref, str) and ref
        ],
        citation_count=w["cited_by_count"] if as_of and isinstance(w.get("cited_by_count"), int) else None,
        citations_as_of=as_of if as_of and isinstance(w.get("cited_by_count"), int) else None,
    )


def _abstract(index: dict | None) -> str | None:
    if not index:
        return None
    words = sorted((pos, word) for word, positions in index.items() for pos in positions)
    return " ".join(word for _, word in words)
