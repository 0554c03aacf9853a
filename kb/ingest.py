"""Imported records -> data/: one work per real work, every identifier kept, each merge explained.

A record is matched to a work already in the catalogue (or earlier in the same import) by a shared
identifier (DOI, arXiv id, LessWrong id, ...), else by normalised title, year and first author. Curated
values win; an import only fills what is missing, adds identifiers and relations, and records in the
work's provenance what it contributed and how it was recognised. Importing the same thing twice changes
nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from kb import citations
from kb.datadir import Dataset
from kb.names import author_id, normalise_name, slugify, work_id
from kb.records import Author, Provenance, Relation, Work

TITLE_SIMILARITY = 93  # rapidfuzz ratio (0-100) of normalised titles for a fuzzy match
FILLABLE = ("year", "date", "venue", "abstract", "url")


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


def _title_key(title: str) -> str:
    return slugify(title).replace("-", " ")


def _numbers(title: str) -> list[str]:
    return re.findall(r"\d+", title)


def _surname(name: str) -> str:
    parts = normalise_name(name).split()
    return parts[-1] if parts else ""


class Merger:
    def __init__(self, ds: Dataset, today: dt.date | None = None):
        self.today = today or dt.date.today()
        self.works: dict[str, Work] = {w.id: w for w in ds.works}
        self.authors: dict[str, Author] = {a.id: a for a in ds.authors}
        self.by_id: dict[tuple[str, str], str] = {}
        # per year: work ids and their normalised titles, side by side for rapidfuzz's batch scorer
        self.by_year: dict[int | None, tuple[list[str], list[str], list[list[str]]]] = {}
        self._indexed: set[str] = set()
        for w in ds.works:
            self._index(w)
        self.report = Report()
        self._pending_links: list[tuple[str, object]] = []

    def _index(self, w: Work) -> None:
        for scheme, value in w.ids.items():
            self.by_id[(scheme, value.lower())] = w.id
        ids, keys, numbers = self.by_year.setdefault(w.year, ([], [], []))
        if w.id not in self._indexed:
            self._indexed.add(w.id)
            ids.append(w.id)
            keys.append(_title_key(w.title))
            numbers.append(_numbers(w.title))

    def match(self, record) -> tuple[str | None, str | None]:
        for scheme, value in record.ids.items():
            if (scheme, value.lower()) in self.by_id:
                return self.by_id[(scheme, value.lower())], f"{scheme} {value}"
        from rapidfuzz import fuzz, process

        key = _title_key(record.title)
        first = _surname(record.authors[0]) if record.authors else ""
        years = [record.year - 1, record.year, record.year + 1] if record.year else list(self.by_year)
        digits = _numbers(key)
        for year in years:
            ids, keys, numbers = self.by_year.get(year, ([], [], []))
            for _, _, i in process.extract(key, keys, scorer=fuzz.ratio, score_cutoff=TITLE_SIMILARITY, limit=None):
                w = self.works[ids[i]]
                if digits != numbers[i]:
                    continue  # "GPT-2" and "GPT-3" differ by one character and are two works
                if first and w.authors and _surname(w.authors[0]) != first:
                    continue
                return w.id, f"title, year and first author ({w.title!r})"
        return None, None

    def add(self, record) -> str | None:
        """Merge one record; returns the id of the work it became or joined (None: it was unusable)."""
        from pydantic import ValidationError

        try:
            return self._add(record)
        except ValidationError as e:  # one bad record is reported and skipped; the rest go on
            problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
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
        for name in FILLABLE:
            if getattr(work, name) in (None, "") and getattr(record, name, None) not in (None, ""):
                updates[name] = getattr(record, name)
                contributed.append(name)
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

    def _validated(self, work: Work, updates: dict) -> Work:
        return Work.model_validate({**work.model_dump(), **updates})

    def _remember_links(self, work: str, record) -> None:
        for link in getattr(record, "links", []) or []:
            self._pending_links.append((work, link, record.source))

    def resolve_links(self) -> None:
        """Relations name their target by an identifier; they are added once every record is in."""
        reference_lists: dict[str, tuple[str, list]] = {}  # a record's "cites" links replace the work's whole
        for source, link, origin in self._pending_links:
            if link.type == citations.CITES:
                reference_lists.setdefault(source, (origin, []))[1].append(link)
                continue
            target = self.by_id.get((link.scheme, link.value.lower()))
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
