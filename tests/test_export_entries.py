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


@pytest.mark.parametrize("fmt", ["bibtex", "csl-json", "ris"])
@pytest.mark.parametrize("ids", [["a", "b"], ["b"], []])
def test_entries_assembled_per_work_equal_the_whole_file_formatted_at_once(fmt, ids):
    keys = export.cite_keys(list(WORKS.values()))
    whole = {"bibtex": export.bibtex, "csl-json": export.csl_json, "ris": export.ris}[fmt]
    assert export.Entries(WORKS, keys).text(fmt, ids) == whole([WORKS[i] for i in ids], keys)
