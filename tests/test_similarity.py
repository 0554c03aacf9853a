"""Related works by shared techniques: the fast ranking gives exactly what scoring every pair of works gives."""

from hypothesis import given, settings
from hypothesis import strategies as st

from kb.similarity import by_techniques

SLUGS = ["probing", "lat", "ccs", "pruning", "steering", "saes"]


def scored_pairwise(works: list[dict], k: int) -> dict[str, list[str]]:
    """The definition: works grouped by their set of techniques; the sets that share a technique ranked by Jaccard
    (highest first), then by their first work's id; their works in id order; the first k other than the work."""
    by_set: dict[frozenset, list[str]] = {}
    for w in sorted(works, key=lambda w: w["id"]):
        by_set.setdefault(frozenset(t["slug"] for t in w["techniques"]), []).append(w["id"])
    out = {}
    for w in works:
        mine = frozenset(t["slug"] for t in w["techniques"])
        ranked = sorted(
            (other for other in by_set if mine & other),
            key=lambda other: (-len(mine & other) / len(mine | other), by_set[other][0]),
        )
        candidates = [i for other in ranked for i in by_set[other]][: k + 1]
        out[w["id"]] = [c for c in candidates if c != w["id"]][:k]
    return out


catalogues = st.lists(st.sets(st.sampled_from(SLUGS), max_size=4), min_size=1, max_size=60).map(
    lambda sets: [{"id": f"w{i:03d}", "techniques": [{"slug": s} for s in sorted(tags)]} for i, tags in enumerate(sets)]
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(catalogues, st.integers(min_value=1, max_value=8))
def test_related_works_are_those_scoring_every_pair_gives(works, k):
    assert by_techniques(works, k) == scored_pairwise(works, k)


def test_a_work_s_nearest_neighbours_share_most_of_its_techniques():
    works = [
        {"id": "a", "techniques": [{"slug": "probing"}, {"slug": "lat"}]},
        {"id": "b", "techniques": [{"slug": "probing"}]},
        {"id": "c", "techniques": [{"slug": "lat"}, {"slug": "probing"}]},
        {"id": "d", "techniques": [{"slug": "pruning"}]},
    ]
    assert by_techniques(works, k=2) == {"a": ["c", "b"], "b": ["a", "c"], "c": ["a", "b"], "d": []}


@settings(max_examples=200, deadline=None, derandomize=True)
@given(catalogues, st.integers(min_value=1, max_value=8), st.data())
def test_related_works_ranked_for_some_works_are_those_ranked_for_all(works, k, data):
    # an incremental site build ranks only the works whose pages it makes, against every work
    only = data.draw(st.sets(st.sampled_from([w["id"] for w in works])))
    every = by_techniques(works, k)
    assert by_techniques(works, k, only=only) == {i: every[i] for i in only}
