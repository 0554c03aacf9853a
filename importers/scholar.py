"""Google Scholar author profiles through the `scholarly` library (imported only when used).

scholarly builds its own HTTP client. Google blocks scrapers: a captcha, a 403 or scholarly's
MaxTriesExceededException stops the import with nothing recorded as complete; publications already
filled are kept in a resume file, so running the same command again continues where it stopped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from importers.http import cache_root
from importers.records import AuthorRecord, SourceError, WorkRecord

FALLBACK = 'the same author\'s works can come from OpenAlex instead: kb import openalex --author "{name}"'


def fetch_profile(
    scholar_id: str, fill: bool = False, resume_dir: Path | None = None
) -> tuple[AuthorRecord, list[WorkRecord]]:
    """The profile's owner and every publication on it; with fill=True each publication's page too
    (full author lists and abstracts, one request each)."""
    try:
        from scholarly import scholarly
    except ImportError as e:
        raise SourceError(
            "scholar",
            f"scholarly cannot be imported: {e}",
            hint="pip install scholarly 'bibtexparser<2' (2.x breaks scholarly)",
        ) from e
    state_path = (resume_dir or cache_root() / "scholar") / f"{scholar_id}.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    name = state.get("name", scholar_id)
    try:
        author = scholarly.search_author_id(scholar_id)
        name = author.get("name") or name
        author = scholarly.fill(author, sections=["basics", "publications"])
        publications = author.get("publications") or []
        for n, pub in enumerate(publications):
            key = pub.get("author_pub_id") or pub["bib"].get("title", str(n))
            if fill and key not in state.get("filled", {}):
                state.setdefault("filled", {})[key] = _bib(scholarly.fill(pub))
                _save(state_path, {**state, "name": name})
    except Exception as e:  # scholarly raises its own and requests' errors; all mean "blocked or broken"
        done = len(state.get("filled", {}))
        kept = f"{done} publication(s) already filled are kept for resuming" if fill else "nothing was recorded"
        raise SourceError(
            "scholar",
            f"the profile {scholar_id} could not be read completely ({type(e).__name__}: {e})",
            hint=f"{_blocked(e)} {kept}; run the same command later to resume. " + FALLBACK.format(name=name),
        ) from e
    owner = AuthorRecord(
        name=name, scholar_id=scholar_id, affiliation=author.get("affiliation") or None, homepage=author.get("homepage")
    )
    works = [_record(pub, owner, state.get("filled", {})) for pub in publications if pub.get("bib", {}).get("title")]
    if state_path.exists():
        state_path.unlink()  # complete: nothing left to resume
    return owner, works


def _blocked(e: Exception) -> str:
    text = f"{type(e).__name__} {e}".lower()
    if "maxtries" in text or "captcha" in text or "403" in text or "forbidden" in text:
        return "Google Scholar is blocking automated requests (captcha or 403)."
    return "Google Scholar's answer could not be used."


def _save(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state))


def _bib(pub: dict) -> dict:
    bib = pub.get("bib", {})
    return {
        "authors": [a.strip() for a in re.split(r"\s+and\s+", bib.get("author", "")) if a.strip()],
        "abstract": bib.get("abstract"),
        "venue": bib.get("venue") or bib.get("journal") or bib.get("conference"),
        "url": pub.get("pub_url"),
    }


def _record(pub: dict, owner: AuthorRecord, filled: dict) -> WorkRecord:
    bib = pub["bib"]
    extra = filled.get(pub.get("author_pub_id"), {})
    year = bib.get("pub_year")
    ids = {"scholar": pub["author_pub_id"]} if pub.get("author_pub_id") else {}
    authors = extra.get("authors") or [owner.name]
    return WorkRecord(
        source="scholar",
        kind="paper",
        title=bib["title"],
        authors=authors,
        more_authors=not extra.get("authors"),
        year=int(year) if year and str(year).isdigit() else None,
        venue=extra.get("venue") or bib.get("citation") or None,
        abstract=extra.get("abstract"),
        url=extra.get("url"),
        ids=ids,
    )


def from_spec(http, spec: dict) -> Iterator[WorkRecord | AuthorRecord]:
    """The importer seam: `{"id": ..., "fill": ...}` -> the profile's owner, then its publications.

    scholarly does its own fetching (Google Scholar allows no other client), so `http` goes unused."""
    owner, works = fetch_profile(spec["id"], fill=spec.get("fill", False))
    yield owner
    yield from works
