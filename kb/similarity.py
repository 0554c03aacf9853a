"""Which works are alike: by their embeddings where those are computed, by shared techniques otherwise."""

from __future__ import annotations

import heapq
from collections import defaultdict
from pathlib import Path


def by_techniques(work_list: list[dict], k: int = 8) -> dict[str, list[str]]:
    """Per work, the k works whose technique sets are most alike (Jaccard), then by id.

    Works with the same set of techniques share one ranking, found through an inverted index, so
    this stays fast with thousands of works over a few dozen techniques.
    """
    works = {w["id"]: w for w in work_list}
    groups: dict[frozenset, list[str]] = defaultdict(list)
    for i in sorted(works):
        groups[frozenset(t["slug"] for t in works[i]["techniques"])].append(i)
    holding: dict[str, list[frozenset]] = defaultdict(list)
    for tags in groups:
        for slug in tags:
            holding[slug].append(tags)
    first = {tags: members[0] for tags, members in groups.items()}  # members are sorted by id
    size = {tags: len(tags) for tags in groups}
    out: dict[str, list[str]] = {}
    for tags, members in groups.items():
        shared: dict[frozenset, int] = defaultdict(int)
        for slug in tags:
            for other in holding[slug]:
                shared[other] += 1
        n = len(tags)
        # Jaccard = |A & B| / |A | B|, with |A | B| = |A| + |B| - |A & B|: no set is built per comparison
        ranked = heapq.nsmallest(k + 1, shared, key=lambda o: (-shared[o] / (n + size[o] - shared[o]), first[o]))
        # every group has a member, so the best k + 1 groups hold enough works even after removing self
        candidates = [i for o in ranked for i in groups[o]][: k + 1]
        for i in members:
            out[i] = [c for c in candidates if c != i][:k]
    return out


def by_embeddings(work_list: list[dict], store_path: Path, k: int = 8, compute: bool = False) -> dict[str, list[str]]:
    """Per work, the k nearest works by cosine of their embeddings; works without a vector (none
    computed yet and compute=False) fall back to shared techniques."""
    import numpy as np

    from kb.embeddings import Store, work_text

    fallback = by_techniques(work_list, k)
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


def semantic_search(conn, store_path: Path, text: str, query, limit: int) -> list[dict]:
    """Works ranked by the cosine between their embedding and the query's, among those the filters allow."""
    import numpy as np

    from kb import catalogue
    from kb.embeddings import Store, work_text

    allowed = {r["id"]: r for r in catalogue.search(conn, query)}
    works = [w for w in catalogue.export(conn)["works"] if w["id"] in allowed]
    if not works:
        return []
    store = Store(store_path)
    X = store.embed([work_text(w) for w in works])
    q = store.embed([text])[0]
    scores = X @ q
    order = np.argsort(-scores, kind="stable")[:limit]
    return [dict(allowed[works[i]["id"]], score=round(float(scores[i]), 4)) for i in order]


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
    import dataclasses

    from kb import catalogue  # noqa: F401 (its NotFound is what a caller catches)

    with ws.connect() as conn:
        return semantic_search(conn, ws.embeddings_path, text, dataclasses.replace(query, limit=None), query.limit)
