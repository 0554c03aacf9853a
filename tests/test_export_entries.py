"""The site's per-technique citation files are assembled from entries formatted once per work: byte for byte
what the one-shot formatters give."""

import pytest

from kb import export

WORKS = {
    "a": {
        "id": "a",
        "title": "Représentation {engineering}",
        "authors": [{"name": "Andy Zou"}, {"name": "Dan Hendrycks"}],
        "more_authors": True,
        "year": 2023,
        "date": "2023-10-02",
        "venue": "arXiv",
        "kind": "paper",
        "ids": {"arxiv": "2310.01405"},
        "categories": ["cs.LG"],
        "url": "https://arxiv.org/abs/2310.01405",
        "abstract": 'Line one\nline two: 100% "quoted"',
    },
    "b": {
        "id": "b",
        "title": "A post",
        "authors": [{"name": "aogara"}],
        "more_authors": False,
        "year": None,
        "date": None,
        "venue": "LessWrong",
        "kind": "post",
        "ids": {},
        "url": None,
        "abstract": None,
    },
}


def text(fmt: str, works: dict[str, dict], keys: dict[str, str], ids: list[str]) -> str:
    """A citation file as the site assembles it: each work's entry made alone, then joined."""
    return export.joined(fmt, [export.entry(fmt, works[i], keys[i]) for i in ids])


@pytest.mark.parametrize("fmt", ["bibtex", "csl-json", "ris"])
@pytest.mark.parametrize("ids", [["a", "b"], ["b"], []])
def test_entries_assembled_per_work_equal_the_whole_file_formatted_at_once(fmt, ids):
    keys = export.cite_keys(list(WORKS.values()))
    whole = {"bibtex": export.bibtex, "csl-json": export.csl_json, "ris": export.ris}[fmt]
    assert text(fmt, WORKS, keys, ids) == whole([WORKS[i] for i in ids], keys)


@pytest.mark.parametrize("fmt", ["bibtex", "csl-json", "ris"])
def test_entries_are_made_from_the_cited_fields_alone(fmt):
    """The site rewrites a technique's citation files only when a cited field changes: no other field may count."""
    keys = export.cite_keys(list(WORKS.values()))
    full = dict(WORKS["a"], summary={"body": "text"}, added="2026-11-25", citation_count=7, motivations=[], urls={})
    projected = {f: full[f] for f in export.CITED_FIELDS if f in full}
    assert text(fmt, {"a": projected}, keys, ["a"]) == text(fmt, {"a": full}, keys, ["a"])
    for field, value in CHANGED.items():  # and each of these shows in every format
        changed = dict(full, **{field: value})
        assert text(fmt, {"a": changed}, keys, ["a"]) != text(fmt, {"a": full}, keys, ["a"]), field


CHANGED = {
    "title": "Another title",
    "authors": [{"name": "Someone Else"}],
    "date": "2024-01-02",
    "ids": {"arxiv": "2401.00001"},
    "url": "https://example.org/",
    "abstract": "Other words.",
}
