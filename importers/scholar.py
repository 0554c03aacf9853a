"""Google Scholar author profiles, read with the `scholarly` library's parsers (imported only when used).

scholarly builds its own HTTP client; we drive it page by page instead of letting `scholarly.fill` loop, so that
every page is checked before it is parsed: Google's 403 page and its captcha are recognised as a block at every
stage (profile page N, the page of publication N with --fill), a page that repeats stops the paging, and the number
of pages is bounded. Whatever was parsed before a block is delivered as complete records (a publication from the
list: its title, year, venue line and citation count; with --fill: its full author list and abstract), and where
the import stopped is kept in a resume file under the cache folder: the next `kb import scholar ID` continues there.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

from importers.records import AuthorRecord, Notice, SourceError, WorkRecord
from importers.text import clean, repaired

FALLBACK = 'the same author\'s works can come from OpenAlex instead: kb import openalex --author "{name}"'
# Blocked before the profile gave its owner's name: a Scholar id is no name OpenAlex knows.
FALLBACK_UNNAMED = (
    'the same author\'s works can come from OpenAlex instead: kb import openalex --author "<their name>"'
    " (the name on the profile page https://scholar.google.com/citations?user={id}), or --id with their"
    " OpenAlex author id (https://openalex.org/authors?search=<their name>)"
)
MAX_LOOKUPS = 200  # OpenAlex questions for the full author lists of one profile's cut lists (one request each)
# Publications whose cut author list is read from their own page (view_op=view_citation, "Authors") in one import
# without --fill: one Scholar request each, and Google blocks after a few dozen quick ones; the rest come from OpenAlex
# or arXiv.
MAX_OWN_PAGES = 20
OPENALEX = "https://api.openalex.org"
ARXIV = "https://export.arxiv.org/api/query"
PAGE = 100  # publications per profile page (Google's largest)
MAX_PAGES = 50  # 5,000 publications: more than any real profile; a profile that seems longer is a loop
PROFILE = "/citations?hl=en&user={id}&pagesize={size}&cstart={start}"
RESUME_VERSION = 1


class Blocked(Exception):
    """Google answered with its 403 page, a captcha or the 'unusual traffic' page instead of the page asked for."""


class NotThePage(Exception):
    """Google's answer is a page, but not the one asked for (no profile, no publication): a changed layout?"""


def label(spec: dict) -> str:
    return f"scholar {spec['id']}"


def fetch(http, spec: dict) -> Iterator[WorkRecord | AuthorRecord | Notice]:
    """spec: id (the profile's user=... id), fill (read each publication's page too), openalex_url. The resume file
    always lives under the cache folder: a spec comes from data/sources.toml, which anyone's pull request may change,
    so it never names a path. Google's pages come through scholarly's own client (with our User-Agent); `http` asks
    OpenAlex for the full author list of each publication whose list the profile cut short ("A Zou, L Phan, ..."),
    when there is one."""
    items = profile(spec["id"], fill=bool(spec.get("fill")), resume_dir=_resume_dir(spec))
    if http is None:
        return items
    return _completed(http, items, spec.get("openalex_url") or OPENALEX, spec.get("arxiv_url") or ARXIV)


def _completed(http, items, base_url: str, arxiv_url: str = ARXIV) -> Iterator[WorkRecord | AuthorRecord | Notice]:
    """The items, each publication whose author list is still cut (its own page unread) completed from the OpenAlex
    work, else the arXiv entry, of the same title and a year at most one apart (a Notice names the match); one that
    has no such match is left as it is."""
    import dataclasses

    from importers import openalex

    asked = 0
    for item in items:
        if isinstance(item, WorkRecord) and item.more_authors and item.title and asked < MAX_LOOKUPS:
            asked += 1
            found: WorkRecord | None = _openalex_match(http, openalex, base_url, item)
            shown = f"OpenAlex {found.ids.get('openalex', '?')}" if found else ""
            if found is None:
                found = _arxiv_match(http, arxiv_url, item)
                shown = f"arXiv {found.ids.get('arxiv', '?')}" if found else ""
            if found:
                yield dataclasses.replace(item, authors=found.authors, more_authors=False)
                yield Notice("scholar", f"authors of “{item.title[:80]}” from {shown} (the same title, {found.year})")
                continue
        yield item


def _openalex_match(http, openalex, base_url: str, item: WorkRecord):
    """The OpenAlex record of the same title (letters and digits compared) and a year at most one apart, or None.
    A failure to ask is no reason to lose the profile: the list stays as the profile gave it."""
    years = f",publication_year:{item.year - 1}-{item.year + 1}" if item.year else ""
    params = {"filter": f"title.search:{_words(item.title)}{years}", "per-page": 5, "select": openalex.FIELDS}
    try:
        data = openalex.get_json(http, f"{base_url}/works", params, f"title {item.title[:60]!r}")
    except SourceError:
        return None
    for w in data.get("results") or []:
        if not isinstance(w, dict) or not w.get("display_name"):
            continue
        record = openalex.record(w)
        close = not item.year or not record.year or abs(record.year - item.year) <= 1
        if _words(record.title) == _words(item.title) and close and len(record.authors) >= len(item.authors):
            return record
    return None


def _arxiv_match(http, base_url: str, item: WorkRecord) -> WorkRecord | None:
    """The arXiv entry of the same title (letters and digits compared) and a year at most one apart, listing at least
    the authors the profile showed, or None; a failure to ask leaves the list as the profile gave it."""
    from importers import arxiv

    params = {"search_query": f'ti:"{_words(item.title)}"', "max_results": 5}
    try:
        _, entries = arxiv.parse(http.get(base_url, params=params))
    except SourceError:
        return None
    for record in entries:
        close = not item.year or not record.year or abs(record.year - item.year) <= 1
        if _words(record.title) == _words(item.title) and close and len(record.authors) >= len(item.authors):
            return record
    return None


def _words(title: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", clean(title).lower()))


def _honest_user_agent() -> None:
    """scholarly sends a random browser's User-Agent by default: ours says who we are, every session."""
    from scholarly import _proxy_generator

    from importers.http import USER_AGENT

    _proxy_generator.FAKE_USERAGENT = False
    _proxy_generator.DEFAULT_USER_AGENT = USER_AGENT


def resume_path(scholar_id: str, resume_dir: Path) -> Path:
    return resume_dir / f"{re.sub(r'[^A-Za-z0-9_-]', '_', scholar_id)}.json"


def _resume_dir(spec: dict) -> Path:
    """Where a profile's progress is kept: under the cache folder kb gives (spec["cache_dir"], from $KB_CACHE, never
    from sources.toml), else the system's temporary folder."""
    import tempfile

    return Path(spec.get("cache_dir") or Path(tempfile.gettempdir()) / "safety-kb") / "scholar"


def blocked(html: str) -> str | None:
    """Why a page Google served is a block (its 403 page, a captcha, the 'unusual traffic' page), or None.
    Only the page's title and Google's own markup count: a profile may well list a paper titled "CAPTCHA: ..."."""
    head = html[:50000]
    found = re.search(r"<title[^>]*>(.*?)</title", head, re.I | re.S)
    title = found.group(1).lower() if found else ""
    if "403" in title or "forbidden" in title or "<b>403.</b>" in head:
        return "Google answered 403 Forbidden"
    if "429" in title or "too many requests" in title:
        return "Google answered 429 Too Many Requests"
    markers = ("gs_captcha", "g-recaptcha", "/sorry/index", "unusual traffic from your computer network")
    if "captcha" in title or any(m in head.lower() for m in markers):
        return "Google asks for a captcha"
    return None


class _Pages:
    """scholarly's navigator, with every page checked before scholarly's parsers see it."""

    def __init__(self, nav, expect: str):
        self._nav, self.expect = nav, expect

    def __getattr__(self, name):
        return getattr(self._nav, name)

    def _get_soup(self, url: str):
        from bs4 import BeautifulSoup

        html = self._nav._get_page(f"https://scholar.google.com{url}")
        if not isinstance(html, str):
            raise NotThePage(f"Google's answer to {url} is not a page")
        if why := blocked(html):
            raise Blocked(why)
        soup = BeautifulSoup(html.replace("\xa0", " "), "html.parser")
        if not soup.find(id=self.expect):
            raise NotThePage(f"Google's answer is not the page asked for (it has no #{self.expect})")
        return soup


def profile(
    scholar_id: str, fill: bool = False, resume_dir: Path | None = None, today: dt.date | None = None
) -> Iterator[WorkRecord | AuthorRecord | Notice]:
    """The profile's owner, then every publication on it (with fill=True each publication's page too: full author
    lists and abstracts, one request each). Stops at a block with a SourceError after delivering what it parsed."""
    try:
        from scholarly._navigator import Navigator
        from scholarly.author_parser import AuthorParser
        from scholarly.data_types import PublicationSource
        from scholarly.publication_parser import PublicationParser
    except ImportError as e:
        raise SourceError(
            "scholar",
            f"scholarly cannot be imported: {e}",
            hint="pip install scholarly 'bibtexparser<2' (2.x breaks scholarly)",
        ) from e
    read_on = (today or dt.date.today()).isoformat()
    path = resume_path(scholar_id, resume_dir or _resume_dir({}))
    state = _load(path, scholar_id)
    resumed = bool(state.get("publications") or state.get("filled"))
    _honest_user_agent()
    nav = Navigator()
    nav._new_session(premium=True)  # sessions made before our User-Agent was set are replaced
    nav._new_session(premium=False)
    notices: list[Notice] = []
    stage = "the profile"
    try:
        while state["next_start"] is not None:
            start = state["next_start"]
            stage = f"profile page {start // PAGE + 1}"
            if start // PAGE >= MAX_PAGES:
                notices.append(Notice("scholar", f"stopped after {MAX_PAGES} pages of publications", scholar_id))
                state["next_start"] = None
                break
            pages = _Pages(nav, "gsc_prf_in" if start == 0 else "gsc_a_b")
            soup = pages._get_soup(PROFILE.format(id=scholar_id, size=PAGE, start=start))
            if start == 0:
                author = AuthorParser(pages).get_author(scholar_id)
                AuthorParser(pages)._fill_basics(soup, author)
                state["owner"] = {
                    "name": clean(author.get("name")),
                    "affiliation": clean(author.get("affiliation")) or None,
                    "homepage": author.get("homepage"),
                }
            known = {p["id"] for p in state["publications"]}
            new = 0
            for n, row in enumerate(soup.find_all("tr", class_="gsc_a_tr"), 1):
                try:
                    pub = PublicationParser(pages).get_publication(row, PublicationSource.AUTHOR_PUBLICATION_ENTRY)
                except (AttributeError, IndexError, KeyError, TypeError, ValueError) as e:
                    notices.append(Notice("scholar", f"{stage}, row {n} cannot be read ({type(e).__name__})"))
                    continue
                if pub.get("author_pub_id") in known or not pub.get("bib", {}).get("title"):
                    continue
                known.add(pub["author_pub_id"])
                state["publications"].append(_listed(pub, read_on, row))
                new += 1
            more = soup.find("button", id="gsc_bpf_more")
            # The last page has its "Show more" disabled; a page that brings nothing new is Google repeating one.
            ended = more is None or "disabled" in more.attrs or new == 0
            state["next_start"] = None if ended else start + PAGE
            _save(path, state)
        parser = PublicationParser(_Pages(nav, "gsc_oci_title"))
        if not fill:
            _own_pages(parser, PublicationSource.AUTHOR_PUBLICATION_ENTRY, state, notices, path)
        for n, pub in enumerate(state["publications"] if fill else [], 1):
            if pub["id"] in state["filled"]:
                continue
            stage = f"publication {n} of {len(state['publications'])} (--fill)"
            state["filled"][pub["id"]] = _own_page(parser, PublicationSource.AUTHOR_PUBLICATION_ENTRY, pub)
            _save(path, state)
    except Exception as e:  # a block, or scholarly's own errors (MaxTriesExceeded, DOSException): stop, keep
        yield from _delivered(scholar_id, state, notices)
        _save(path, state)
        raise _stopped(scholar_id, state, stage, e, fill, path) from e
    yield from _delivered(scholar_id, state, notices)
    if resumed:
        yield Notice("scholar", "resumed where the previous import stopped", scholar_id)
    path.unlink(missing_ok=True)  # complete: nothing left to resume


def _own_page(parser, source, pub: dict) -> dict:
    """What a publication's own page (view_op=view_citation) says of it: the full "Authors", abstract, venue, URL."""
    entry = {"container_type": "Publication", "source": source, "author_pub_id": pub["id"]}
    return _details(parser.fill({**entry, "bib": {"title": pub["title"]}, "filled": False}))


def _own_pages(parser, source, state: dict, notices: list[Notice], path: Path) -> None:
    """The full author list of each publication the profile cut short ("A Zou, L Phan, ..."), from its own page,
    MAX_OWN_PAGES at most. A block or a page that cannot be read stops this without failing the import (a Notice says
    so): the lists left cut are completed from OpenAlex or arXiv where the same title matches."""
    cut = [p for p in state["publications"] if p.get("authors_cut") and p["id"] not in state["filled"]]
    for n, pub in enumerate(cut):
        if n == MAX_OWN_PAGES:
            notices.append(Notice("scholar", f"{len(cut) - n} cut author list(s) not read from their own pages"
                                  f" (at most {MAX_OWN_PAGES} a run): completed from OpenAlex or arXiv"))  # fmt: skip
            return
        try:
            state["filled"][pub["id"]] = _own_page(parser, source, pub)
        except Exception as e:  # a block, scholarly's errors, a changed page: the profile's own list stays
            notices.append(Notice("scholar", f"the publications' own pages cannot be read ({type(e).__name__}):"
                                  f" {len(cut) - n} cut author list(s) completed from OpenAlex or arXiv"))  # fmt: skip
            return
        _save(path, state)


def _load(path: Path, scholar_id: str) -> dict:
    fresh = {"version": RESUME_VERSION, "id": scholar_id, "owner": None, "publications": [], "filled": {}}
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {**fresh, "next_start": 0}
    if not isinstance(state, dict) or state.get("version") != RESUME_VERSION or state.get("id") != scholar_id:
        return {**fresh, "next_start": 0}  # a resume file of another version: start again
    return {**fresh, "next_start": 0, **state}


def _save(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False))
    tmp.replace(path)  # a kill mid-write leaves the previous resume file whole


def _listed(pub: dict, today: str, row=None) -> dict:
    bib = pub.get("bib", {})
    year = str(bib.get("pub_year") or "")
    gray = row.find_all("div", class_="gs_gray") if row is not None else []
    names = [n.strip() for n in gray[0].get_text().split(",")] if gray else []
    cut = bool(names) and names[-1] in ("...", "…")  # the profile lists the first few, then "..."
    return {
        "id": pub["author_pub_id"],
        "title": bib["title"],
        "authors": [n for n in names if n and n not in ("...", "…")],
        "authors_cut": cut,
        "year": int(year) if year.isdigit() and 1000 <= int(year) <= 9999 else None,
        "citation": bib.get("citation") or None,
        "cited_by": pub.get("num_citations") if isinstance(pub.get("num_citations"), int) else None,
        "read_on": today,
    }


def _details(pub: dict) -> dict:
    bib = pub.get("bib", {})
    return {
        "authors": [a.strip() for a in re.split(r"\s+and\s+", bib.get("author", "")) if a.strip()],
        "abstract": bib.get("abstract"),
        "venue": bib.get("venue") or bib.get("journal") or bib.get("conference"),
        "url": pub.get("pub_url"),
        "year": bib.get("pub_year") if isinstance(bib.get("pub_year"), int) else None,
    }


def _delivered(scholar_id: str, state: dict, notices: list[Notice]) -> Iterator:
    owner = state.get("owner")
    if owner and owner.get("name"):
        yield repaired(AuthorRecord(scholar_id=scholar_id, **owner))
    name = (owner or {}).get("name") or scholar_id
    for pub in state["publications"]:
        yield _record(pub, name, state["filled"].get(pub["id"], {}))
    yield from notices
    notices.clear()


def _record(pub: dict, owner: str, extra: dict) -> WorkRecord:
    url = extra.get("url") or None
    listed = pub.get("authors") or []
    authors = extra.get("authors") or listed or [owner]
    venue, volume, pages = split_venue(pub.get("citation"))
    return repaired(
        WorkRecord(
            source="scholar",
            kind="paper",
            title=pub["title"],
            authors=authors,
            more_authors=not extra.get("authors") and (not listed or bool(pub.get("authors_cut"))),
            year=pub["year"] or extra.get("year"),
            venue=extra.get("venue") or venue,
            volume=volume,
            pages=pages,
            abstract=extra.get("abstract"),
            url=url if url and url.startswith(("https://", "http://")) else None,
            ids={"scholar": pub["id"]},
            citation_count=pub.get("cited_by"),
            citations_as_of=pub.get("read_on") if pub.get("cited_by") is not None else None,
        )
    )


_PAGES = re.compile(r"[A-Za-z]?\d+(?:\s*[-–]\s*[A-Za-z]?\d+)?")
_VOLUME = re.compile(r"\s(\d+)(?:\s*\(([^)]*)\))?$")


def split_venue(citation: str | None) -> tuple[str | None, str | None, str | None]:
    """A profile's venue line, "International Journal of Heat and Mass Transfer 126, 287-296, 2018", as (name,
    volume, pages): ("International Journal of Heat and Mass Transfer", "126", "287-296"). The year goes (the record
    has it); an issue stays with its volume ("521 (7553)"); a line of another shape is its own name."""
    text = " ".join((citation or "").split())
    text = re.sub(r",\s*(?:1[5-9]|20)\d\d$", "", text)  # the trailing year
    pages = None
    head, _, last = text.rpartition(",")
    if head and _PAGES.fullmatch(last.strip()):
        text, pages = head.strip(), re.sub(r"\s*[-–]\s*", "-", last.strip())
    volume = None
    if found := _VOLUME.search(text):
        volume = found.group(1) + (f" ({found.group(2)})" if found.group(2) else "")
        text = text[: found.start()].strip()
    return (text.rstrip(",").strip() or None), volume, pages


def _stopped(scholar_id: str, state: dict, stage: str, e: Exception, fill: bool, path: Path) -> SourceError:
    listed, filled = len(state["publications"]), len(state["filled"])
    text = f"{type(e).__name__} {e}".lower()
    if isinstance(e, Blocked) or any(w in text for w in ("maxtries", "captcha", "403", "forbidden", "dosexception")):
        why = "Google Scholar is blocking automated requests"
    else:
        why = "Google Scholar's answer could not be used"
    if listed:
        kept = f"{listed} publication(s) from the profile" + (f", {filled} with their own page read" if fill else "")
        kept += " were kept and written"
    else:
        kept = "nothing was recorded"
    named = (state.get("owner") or {}).get("name")
    return SourceError(
        "scholar",
        f"stopped at {stage} of profile {scholar_id}: {why} ({type(e).__name__}: {str(e)[:200]})",
        hint=f"{kept}; run the same command later to resume from {stage} (resume file {path}). "
        + (FALLBACK.format(name=named) if named else FALLBACK_UNNAMED.format(id=scholar_id)),
    )


def fetch_profile(
    scholar_id: str, fill: bool = False, resume_dir: Path | None = None
) -> tuple[AuthorRecord, list[WorkRecord]]:
    """The profile's owner and its publications at once (a block raises a SourceError; what was parsed before it
    stays in the resume file for the next run)."""
    owner, works = None, []
    for item in profile(scholar_id, fill, resume_dir):
        if isinstance(item, AuthorRecord):
            owner = item
        elif isinstance(item, WorkRecord):
            works.append(item)
    return owner or AuthorRecord(name=scholar_id, scholar_id=scholar_id), works
