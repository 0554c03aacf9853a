"""Which works are alike: by their embeddings where those are computed, by shared techniques otherwise."""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence, Set
from fractions import Fraction
from pathlib import Path
from typing import Any

# a work record: the catalogue's (kb.catalogue.workrecord) or any dict with its keys
Work = Mapping[str, Any]


def by_techniques(work_list: Sequence[Work], k: int = 8, only: Set[str] | None = None) -> dict[str, list[str]]:
    """Per work (or per work of `only`), the k works whose technique sets are most alike (Jaccard), then by id.

    Works with the same set of techniques share one ranking. A set's best matches are found without scoring every
    set that shares a technique with it (thousands, at 10,000 works): the Jaccard index of sets A and B depends only
    on |A & B| and |B|, so each part S of A and each size m give one score, and the sets whose overlap with A is
    exactly S, of size m, are read from an index in id order until k + 1 works are found.
    """
    works = {w["id"]: w for w in work_list}
    groups: dict[frozenset, list[str]] = defaultdict(list)  # in the order of their first work's id
    for i in sorted(works):
        groups[frozenset(t["slug"] for t in works[i]["techniques"])].append(i)
    holding: dict[tuple[frozenset, int], list[frozenset]] = defaultdict(list)  # (part, size) -> sets, in id order
    for tags in groups:
        for part in _parts(tags):
            holding[(part, len(tags))].append(tags)
    sizes = sorted({len(tags) for tags in groups})
    out: dict[str, list[str]] = {}
    for tags, members in groups.items():
        if only is not None and only.isdisjoint(members):  # ranked against every work, for these works only
            continue
        candidates = _best(tags, groups, holding, sizes, k + 1)
        for i in members:
            if only is None or i in only:
                out[i] = [c for c in candidates if c != i][:k]
    return out


def _parts(tags: frozenset) -> list[frozenset]:
    """Every non-empty subset (works have a handful of techniques)."""
    items = sorted(tags)
    return [frozenset(c) for r in range(1, len(items) + 1) for c in itertools.combinations(items, r)]


def _overlapping_exactly(part: frozenset, tags: frozenset, sets: list[frozenset]):
    """The sets whose overlap with `tags` is `part` itself (each set is then met under one part only)."""
    return (other for other in sets if not (other & tags) - part)


def _best(tags, groups, holding, sizes, wanted: int) -> list[str]:
    """The first `wanted` works of the sets ranked by Jaccard with `tags` (highest first, then by first id)."""
    n = len(tags)
    by_score: dict[Fraction, list[tuple[frozenset, list[frozenset]]]] = defaultdict(list)
    for part in _parts(tags):
        s = len(part)
        for m in sizes:
            if m >= s and (part, m) in holding:
                by_score[Fraction(s, n + m - s)].append((part, holding[(part, m)]))
    found: list[str] = []
    for score in sorted(by_score, reverse=True):
        lists = [_overlapping_exactly(part, tags, sets) for part, sets in by_score[score]]
        for other in heapq.merge(*lists, key=lambda o: groups[o][0]):
            found.extend(groups[other])
            if len(found) >= wanted:
                return found[:wanted]
    return found


def by_embeddings(
    work_list: Sequence[Work], store_path: Path, k: int = 8, compute: bool = False
) -> dict[str, list[str]]:
    """Per work, the k nearest works by cosine of their embeddings; works without a vector (none
    computed yet and compute=False) fall back to shared techniques. Raises MissingExtra without numpy when asked
    to compute."""
    from kb.embeddings import MissingExtra, Store, numpy_or_missing, work_text

    fallback = by_techniques(work_list, k)
    try:
        np = numpy_or_missing()
    except MissingExtra:
        if compute:
            raise
        return fallback
    if not compute and not store_path.exists():
        return fallback
    store = Store(store_path)
    texts = [work_text(w) for w in work_list]
    if compute:
        vectors = dict(enumerate(store.embed(texts)))
    else:
        vectors = store.cached(texts)
    if len(vectors) < 2:
        return fallback
    have = sorted(vectors)
    X = np.stack([vectors[i] for i in have])
    sims = X @ X.T
    np.fill_diagonal(sims, -np.inf)
    out = dict(fallback)
    for row, i in enumerate(have):
        order = np.argsort(-sims[row], kind="stable")[:k]
        out[work_list[i]["id"]] = [work_list[have[j]]["id"] for j in order]
    return out


def semantic_search(conn, store_path: Path, text: str, query, limit: int | None) -> list[dict]:
    """Works ranked by the cosine between their embedding and the query's, among those the filters allow."""
    from kb import catalogue
    from kb.embeddings import Store, numpy_or_missing, work_text

    np = numpy_or_missing()

    allowed = {r["id"]: r for r in catalogue.search(conn, query)}
    works = [w for w in catalogue.export(conn)["works"] if w["id"] in allowed]
    if not works:
        return []
    store = Store(store_path)
    X = store.embed([work_text(w) for w in works])
    q = store.embed([text])[0]
    scores = X @ q
    order = np.argsort(-scores, kind="stable")[:limit]  # None: every allowed work
    return [dict(allowed[works[i]["id"]], score=round(float(scores[i]), 4)) for i in order]


# Reciprocal rank fusion's constant (Cormack, Clarke and Buettcher 2009): a work's fused score is the sum over the
# rankings of 1 / (RRF_K + rank), so a work high in one ranking and absent from the other still counts, and no
# score scale has to be matched between bm25 and a cosine.
RRF_K = 60


def fuse(rankings: list[list[str]], k: int = RRF_K) -> list[str]:
    """Ids ranked by reciprocal rank fusion of several rankings (ties by first appearance)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda key: -scores[key])


def hybrid_search(conn, store_path: Path, text: str, query, limit: int) -> list[dict]:
    """Works ranked by reciprocal rank fusion of full-text (bm25) and meaning (embeddings), among those the
    filters allow."""
    from kb import catalogue

    words = catalogue.search(conn, query._replace(text=text, limit=None, sort=None))
    meaning = semantic_search(conn, store_path, text, query._replace(text=None, limit=None, sort=None), None)
    by_id = {r["id"]: r for r in meaning} | {r["id"]: r for r in words}
    # works found through a relation the query asks for ("critiques of CCS") answer it: they stay first, in order
    related = [r["id"] for r in words if r.get("via")]
    fused = fuse([[r["id"] for r in words if not r.get("via")], [r["id"] for r in meaning if r["id"] not in related]])
    return [by_id[i] for i in (related + fused)[:limit]]


# -- the workflows behind `kb similar` and `kb search --semantic` ---------------------------------------


def similar_to(ws, work: str, limit: int = 10, note=print) -> list[dict]:
    """The works nearest to one work by meaning (embeddings), or by shared techniques without the methods extra.

    Raises kb.catalogue.NotFound for a work the catalogue does not hold."""
    from kb import catalogue
    from kb.embeddings import MissingExtra
    from kb.query import Query

    with ws.connect() as conn:
        target = catalogue.get_work(conn, work)["id"]
        works = catalogue.export(conn)["works"]
        try:
            related = by_embeddings(works, ws.embeddings_path, k=limit, compute=True)
        except MissingExtra as e:
            note(f"{e}; ranking by shared techniques instead")
            related = by_techniques(works, k=limit)
        by_id = {r["id"]: r for r in catalogue.search(conn, Query(limit=None))}
    return [by_id[i] for i in related[target]]


def search_by_meaning(ws, text: str, query) -> list[dict]:
    """Works ranked by meaning among those the query's filters allow.

    Raises kb.embeddings.MissingExtra without the methods extra, kb.catalogue.NotFound for a bad filter."""
    from kb import catalogue  # noqa: F401 (its NotFound is what a caller catches)

    with ws.connect() as conn:
        return semantic_search(conn, ws.embeddings_path, text, query._replace(limit=None), query.limit)


def search_hybrid(ws, text: str, query) -> list[dict]:
    """Works ranked by words and meaning together (reciprocal rank fusion), among those the query's filters allow.

    Raises kb.embeddings.MissingExtra without the methods extra, kb.catalogue.NotFound for a bad filter."""
    with ws.connect() as conn:
        return hybrid_search(conn, ws.embeddings_path, text, query, query.limit)
