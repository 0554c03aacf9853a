"""Imported records -> data/: one work per real work, every identifier kept, each merge explained.

The identity rules, in the order they are tried (README's "Importing" section says the same):

1. **The same identifier is the same work.** Any kind: DOI, arXiv, LessWrong/AF, Scholar, OpenAlex, a feed
   item's guid (`feed`, scoped to its feed unless it is a URL), or a canonical URL (the work's `url` or any of
   its `urls`; a cross-post keeps every URL it was seen under, so the next import of either feed is recognised
   by identifier, not by title). DOIs, arXiv and OpenAlex ids are compared without case, the others exactly.
   A URL is no identity for a record whose own identifier of the same kind differs from the work's (two
   comments on one post share the post's address but not their comment ids).
2. **One source never merges two of its own records.** Two records with different identifiers of the same
   kind (two guids of one feed, two comment ids, two arXiv ids) are two works, whatever their titles; a
   record is never fuzzily matched to a work that the same source already delivered.
3. **Titles match only across sources, and only exactly.** The titles must be equal after `match_text`
   (Unicode NFKC, superscripts and dashes folded, case, accents and punctuation dropped): titles one letter,
   number or word apart ("Series A"/"Series B", "Part 1"/"Part 2", "donating"/"donating another") are
   different works. Besides the title: the same kind family (papers and reports; posts and comments: a blog
   post announcing a paper is never the paper), years at most one apart, no conflicting identifier of the
   same kind, dates that agree for posts, and an author in common for papers (any author, so a Scholar
   profile's record that lists only the profile's owner still matches the full author list).
4. **A post that links a work is not that work.** Links to an arXiv id, a DOI or a forum post in a post's
   text become `discusses` relations once every record is in.

Curated values win; an import only fills what is missing, adds identifiers and relations, and records in
the work's provenance what it contributed and how it was recognised (`kb show ID --provenance`). Importing
the same thing twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from importers.records import linked_ids
from kb import citations
from kb.datadir import Dataset
from kb.names import ascii_fold, author_id, identity, normalise_name, work_id
from kb.records import Author, Provenance, Relation, Work
from kb.text import has_markup, safe

FILLABLE = ("year", "date", "venue", "abstract", "url")
POST_DATE_SLACK = dt.timedelta(days=1)  # a feed and a forum may stamp one post in different time zones
KIND_FAMILY = {"paper": "paper", "report": "paper", "post": "post", "comment": "post"}
# dashes and hyphens that NFKC leaves alone; folded to "-" before words are split
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
# Query parameters that follow a link around rather than name what it points to.
_TRACKING = re.compile(r"utm(_.*)?$|fbclid$|gclid$|mc_[ce]id$", re.I)
# Kinds of identifier that name one work wherever they come from: a different one is a different work.
DISTINCT_IDS = ("arxiv", "lesswrong", "alignmentforum")
# arXiv's own DOIs (DataCite, 10.48550/arXiv.ID) name the preprint: a publisher's DOI for it is no conflict.
ARXIV_DOI = "10.48550/arxiv."


def match_text(text: str) -> str:
    """The one normalisation of text for matching, used alike for stored titles and incoming records.

    NFKC folds compatibility forms ("²" -> "2", full-width letters, ligatures), dashes of every kind become
    word breaks, accents go, case goes, and what is left is words of letters and digits joined by spaces.
    """
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return " ".join(re.findall(r"[a-z0-9]+", ascii_fold(text).lower()))


def canonical_url(url: str) -> str:
    """A URL as an identifier: scheme, "www.", a trailing slash, the fragment and tracking parameters do not count;
    the rest of the query does, in any order (a forum comment is `/posts/ID?commentId=C`)."""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    if not host:
        return ""
    query = sorted(p for p in parts.query.split("&") if p and not _TRACKING.match(p.split("=", 1)[0]))
    return f"{host}{parts.path.rstrip('/')}" + (f"?{'&'.join(query)}" if query else "")


@dataclass
class Report:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    merged: list[tuple[str, str]] = field(default_factory=list)  # (work id, how it was recognised)
    skipped: list[str] = field(default_factory=list)  # already there, nothing new
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


def _surname(name: str) -> str:
    parts = normalise_name(name).split()
    return parts[-1] if parts else ""


def _sources(w: Work) -> set[str]:
    return {p.source for p in w.provenance}


def _urls(w: Work) -> list[str]:
    return [u for u in (w.url, *w.urls.values()) if u]


def _cleaned(record):
    """The record with control characters and escape sequences gone from its text: nothing hostile is stored."""
    import dataclasses

    if not dataclasses.is_dataclass(record):
        return record
    fields = {"title": " ".join(safe(record.title).split()), "abstract": safe(record.abstract)}
    fields["authors"] = [" ".join(safe(a).split()) for a in record.authors]
    fields["venue"] = " ".join(safe(record.venue).split()) if record.venue else record.venue
    return dataclasses.replace(record, **fields)


def _one_line_fields(record):
    yield "title", record.title
    for a in record.authors:
        yield "author", a


@dataclass
class _Link:
    type: str
    scheme: str
    value: str


class Merger:
    def __init__(self, ds: Dataset, today: dt.date | None = None):
        self.today = today or dt.date.today()
        self.works: dict[str, Work] = {w.id: w for w in ds.works}
        self.authors: dict[str, Author] = {a.id: a for a in ds.authors}
        self.by_id: dict[tuple[str, str], str] = {}
        self.by_title: dict[str, list[str]] = {}  # match_text(title) -> work ids
        for w in ds.works:
            self._index(w)
        self.report = Report()
        self._pending_links: list[tuple[str, object, str]] = []

    def _index(self, w: Work) -> None:
        for scheme, value in w.ids.items():
            self.by_id[identity(scheme, value)] = w.id
        for url in _urls(w):
            if canonical_url(url):
                self.by_id.setdefault(("url", canonical_url(url)), w.id)
        same = self.by_title.setdefault(match_text(w.title), [])
        if w.id not in same:
            same.append(w.id)

    def lookup(self, scheme: str, value: str) -> str | None:
        """The work an identifier names, or None."""
        return self.by_id.get(identity(scheme, value))

    def match(self, record) -> tuple[str | None, str | None]:
        """(work id, how it was recognised) by the identity rules above, or (None, None): a new work."""
        for scheme, value in record.ids.items():
            if identity(scheme, value) in self.by_id:
                return self.by_id[identity(scheme, value)], f"{scheme} {value}"
        found = self.by_id.get(("url", canonical_url(record.url))) if record.url else None
        if found and not self._conflicting_id(self.works[found], record, DISTINCT_IDS):
            return found, f"url {record.url}"
        for work_id_ in self.by_title.get(match_text(record.title), []):
            w = self.works[work_id_]
            why = self._fuzzy_veto(w, record)
            if why is None:
                evidence = "date" if KIND_FAMILY.get(w.kind) == "post" else "an author in common"
                return w.id, f"title, year and {evidence} ({w.title!r})"
        return None, None

    def _fuzzy_veto(self, w: Work, record) -> str | None:
        """Why an equal title is not enough to make the record this work (None: it is the same work)."""
        if KIND_FAMILY.get(w.kind) != KIND_FAMILY.get(record.kind):
            return "another kind of work"
        if record.source in _sources(w):
            return "the same source delivered both"
        if self._conflicting_id(w, record):
            return "a conflicting identifier"
        if w.year and record.year and abs(w.year - record.year) > 1:
            return "years apart"
        if KIND_FAMILY.get(w.kind) == "post":
            if w.date and record.date:
                if abs(w.date - dt.date.fromisoformat(str(record.date)[:10])) > POST_DATE_SLACK:
                    return "dates disagree"
            elif not (w.year and record.year and w.year == record.year):
                return "no dates to compare"
            return None
        if w.authors and record.authors:
            theirs = {_surname(a) for a in record.authors}
            if not theirs & {_surname(a) for a in w.authors}:
                return "no author in common"
        return None

    @staticmethod
    def _conflicting_id(w: Work, record, schemes=None) -> str | None:
        """The kind of identifier (among schemes; all when None) the work and the record hold different values of,
        or None."""
        for scheme, value in record.ids.items():
            theirs = w.ids.get(scheme)
            if theirs is None or (schemes is not None and scheme not in schemes):
                continue
            if identity(scheme, theirs) == identity(scheme, value):
                continue
            if scheme == "doi" and ARXIV_DOI in (theirs.lower()[: len(ARXIV_DOI)], value.lower()[: len(ARXIV_DOI)]):
                continue
            return scheme
        return None

    def add(self, record) -> str | None:
        """Merge one record; returns the id of the work it became or joined (None: it was unusable)."""
        from pydantic import ValidationError

        record = _cleaned(record)
        marked = next((f for f, v in _one_line_fields(record) if has_markup(v)), None)
        if marked:  # kb validate would refuse the work: this record is skipped, not the whole import
            self.report.errors.append(f"{record.source}: skipped {record.title[:80]!r}: its {marked} looks like markup")
            return None
        try:
            return self._add(record)
        except ValidationError as e:  # one bad record is reported and skipped; the rest go on
            problems = "; ".join(
                ": ".join(x for x in (".".join(map(str, err["loc"])), err["msg"]) if x) for err in e.errors()
            )
            self.report.errors.append(f"{record.source}: skipped {record.title[:80]!r}: {problems}")
            return None

    def _add(self, record) -> str:
        for name, profile in (getattr(record, "author_profiles", None) or {}).items():
            self.author(name, **profile)
        found, how = self.match(record)
        if found is None:
            return self._new(record)
        work = self.works[found]
        updates, contributed = {}, []
        ids = dict(work.ids)
        for scheme, value in record.ids.items():
            if scheme not in ids:
                ids[scheme] = value
                contributed.append(f"ids.{scheme}")
        if ids != work.ids:
            updates["ids"] = ids
        urls = self._more_urls(work, record)
        if urls != work.urls:
            updates["urls"] = urls
            contributed.append("urls")
        for name in FILLABLE:
            value = getattr(record, name, None)
            if getattr(work, name) not in (None, "") or value in (None, ""):
                continue
            year = updates.get("year", work.year)
            if name == "date" and year and not str(value).startswith(str(year)):
                continue  # another version's date (a preprint's, years one apart): no date beats a wrong one
            updates[name] = value
            contributed.append(name)
            if name == "abstract":  # an abstract says which version it is: the source that gave it
                updates["abstract_source"] = record.source
        if record.authors and (
            not work.authors
            or (work.more_authors and not record.more_authors and len(record.authors) > len(work.authors))
        ):
            updates.update(authors=list(record.authors), more_authors=record.more_authors)
            contributed.append("authors")
        if record.withdrawn and not work.withdrawn:
            updates["withdrawn"] = True
            contributed.append("withdrawn")
        extra, fields = citations.extra_updates(work, record)  # categories, dated citation count (kb.citations)
        updates.update(extra)
        contributed += fields
        self._remember_links(found, record)
        if not contributed:
            self.report.skipped.append(found)
            return found
        provenance = [
            *work.provenance,
            Provenance(source=record.source, fetched_at=self.today, fields=contributed, matched_by=how),
        ]
        self.works[found] = self._validated(work, {**updates, "provenance": provenance})
        self._index(self.works[found])
        self.report.merged.append((found, how))
        if found not in self.report.added and found not in self.report.updated:
            self.report.updated.append(found)
        return found

    def _new(self, record) -> str:
        base = work_id(record.title, record.year)
        new_id, n = base, 2
        while new_id in self.works:
            new_id, n = f"{base}-{n}", n + 1
        data = {
            "id": new_id,
            "kind": record.kind,
            "title": record.title,
            "authors": list(record.authors),
            "more_authors": record.more_authors,
            "withdrawn": record.withdrawn,
            "ids": dict(record.ids),
            **{k: getattr(record, k) for k in FILLABLE if getattr(record, k, None) not in (None, "")},
            **({"abstract_source": record.source} if record.abstract else {}),
            **citations.new_fields(record),
            "provenance": [{"source": record.source, "fetched_at": self.today.isoformat()}],
        }
        if data.get("date") and data.get("year") and not str(data["date"]).startswith(str(data["year"])):
            data.pop("date")
        work = Work.model_validate(data)
        self.works[new_id] = work
        self._index(work)
        self.report.added.append(new_id)
        self._remember_links(new_id, record)
        return new_id

    @staticmethod
    def _more_urls(work: Work, record) -> dict[str, str]:
        """The work's urls plus the record's, when it is new: a cross-post keeps every address it has."""
        urls = dict(work.urls)
        url = record.url
        if not url or not canonical_url(url) or canonical_url(url) in {canonical_url(u) for u in _urls(work)}:
            return urls
        name = base = urlsplit(url).netloc.lower().removeprefix("www.")
        n = 2
        while name in urls:
            name, n = f"{base} {n}", n + 1
        urls[name] = url
        return urls

    def _validated(self, work: Work, updates: dict) -> Work:
        return Work.model_validate({**work.model_dump(), **updates})

    def _remember_links(self, work: str, record) -> None:
        links = list(getattr(record, "links", []) or [])
        if KIND_FAMILY.get(record.kind) == "post":  # rule 4: what a post links, it discusses
            known = {(link.scheme, link.value) for link in links}
            text = " ".join(x for x in (record.abstract, getattr(record, "body", None)) if x)
            links += [_Link("discusses", s, v) for s, v in linked_ids(text) if (s, v) not in known]
        for link in links:
            self._pending_links.append((work, link, record.source))

    def resolve_links(self) -> None:
        """Relations name their target by an identifier; they are added once every record is in."""
        reference_lists: dict[str, tuple[str, list]] = {}  # a record's "cites" links replace the work's whole
        for source, link, origin in self._pending_links:
            if link.type == citations.CITES:
                reference_lists.setdefault(source, (origin, []))[1].append(link)
                continue
            target = self.lookup(link.scheme, link.value)
            if not target or target == source:
                continue
            work = self.works[source]
            relation = Relation(type=link.type, target=target)
            if relation not in work.relations:
                self.works[source] = self._validated(work, {"relations": [*work.relations, relation]})
                if source not in self.report.added and source not in self.report.updated:
                    self.report.updated.append(source)
        citations.replace_cites(self, reference_lists)
        self._pending_links.clear()

    def author(self, name: str, **facts) -> None:
        """Record facts about an author (a Scholar id, a LessWrong name) in data/authors.jsonl."""
        facts = {k: v for k, v in facts.items() if v}
        if not facts:
            return
        key = next(
            (a.id for a in self.authors.values() if author_id(name) in {author_id(n) for n in (a.name, *a.aliases)}),
            None,
        )
        if key is None:
            key = author_id(name)
            self.authors[key] = Author(id=key, name=name, **facts)
        else:
            current = self.authors[key]
            missing = {k: v for k, v in facts.items() if getattr(current, k) in (None, "")}
            if missing:
                self.authors[key] = Author.model_validate({**current.model_dump(), **missing})

    def dataset(self, ds: Dataset) -> Dataset:
        return Dataset(
            root=ds.root,
            works=list(self.works.values()),
            authors=list(self.authors.values()),
            techniques=ds.techniques,
            motivations=ds.motivations,
            summaries=ds.summaries,
        )
