"""The merge rules for what a refresh brings beyond the bibliographic record: arXiv categories, a dated
citation count and the reference list ("cites" relations).

Kept apart from the general merge rules (kb.ingest.merging calls these three functions) because they differ from them:
- categories fill an empty list, like any missing value;
- a citation count is a dated reading: a newer reading from the same source with another count replaces the
  stored one; a count from another source only fills a gap (counts of different sources are not comparable);
- a reference list is the source's fact, not a curator's: a record that carries one REPLACES the work's
  "cites" relations whole, and never touches the hand-made relations of any other type.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kb.store.records import Citations, Provenance, Relation

CITES = "cites"


def extra_updates(work, record) -> tuple[dict, list[str]]:
    """(updates, contributed field names) for a record merged into an existing work."""
    updates: dict[str, Any] = {}
    contributed: list[str] = []
    categories = list(getattr(record, "categories", None) or [])
    if categories and not work.categories:
        updates["categories"] = categories
        contributed.append("categories")
    new = reading(record)
    old = work.citations
    if new and (old is None or (old.source == new.source and new.as_of > old.as_of and new.count != old.count)):
        updates["citations"] = new
        contributed.append("citations")
    return updates, contributed


def new_fields(record) -> dict:
    """The same fields for a record that becomes a new work."""
    out: dict[str, Any] = {}
    if getattr(record, "categories", None):
        out["categories"] = list(record.categories)
    if new := reading(record):
        out["citations"] = new.model_dump(mode="json")
    return out


def reading(record) -> Citations | None:
    count, as_of = getattr(record, "citation_count", None), getattr(record, "citations_as_of", None)
    if count is None or count < 0 or not as_of:
        return None
    return Citations(count=count, as_of=dt.date.fromisoformat(as_of[:10]), source=record.source.split(" ")[0])


def replace_cites(merger, reference_lists: dict[str, tuple[str, list]]) -> None:
    """work id -> (source, its cites links): each work's "cites" relations become exactly the links that name a
    work of the catalogue (other than itself); relations of other types stay as they are."""
    for work_id, (source, links) in reference_lists.items():
        work = merger.works[work_id]
        targets = []
        for link in links:
            target = merger.lookup(link.scheme, link.value)
            if target and target != work_id and target not in targets:
                targets.append(target)
        kept = [r for r in work.relations if r.type != CITES]
        relations = kept + [Relation(type=CITES, target=t) for t in sorted(targets)]
        if {(r.type, r.target) for r in relations} == {(r.type, r.target) for r in work.relations}:
            continue
        merger.works[work_id] = merger._validated(
            work, {"relations": relations, "provenance": _noted(work.provenance, source, merger.today)}
        )
        if work_id in merger.report.skipped:  # nothing else was new, but its reference list was
            merger.report.skipped.remove(work_id)
        if work_id not in merger.report.added and work_id not in merger.report.updated:
            merger.report.updated.append(work_id)


def _noted(provenance: list, source: str, today: dt.date) -> list:
    """Provenance that says the source gave the reference list: added to the source's entry of today if the
    same merge already wrote one, else a new entry."""
    last = provenance[-1] if provenance else None
    if last and last.source == source and str(last.fetched_at)[:10] == today.isoformat():
        return [*provenance[:-1], last.model_copy(update={"fields": [*last.fields, CITES]})]
    return [*provenance, Provenance(source=source, fetched_at=today, fields=[CITES])]
