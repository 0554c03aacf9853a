"""Exports held to what Zotero's own importers read.

The tables below state, as data, the parts of Zotero's field maps these exports rely on, read in the zotero/translators
repository (commit 2814370161d05d799086825fac8d499db3a33aa3: BibTeX.js `bibtex2zoteroTypeMap`, `fieldMap`,
`inputFieldMap`, `processField`'s eprint/eprinttype and howpublished rules; RIS.js `exportTypeMap`/`importTypeMap`,
`fieldMap`, `degenerateImportFieldMap`) and in zotero/zotero-schema's CSL mappings (`csl.types`, `csl.fields`) and item
types. Each test reads our output the way those maps say Zotero does and checks the Zotero fields it ends up with.
"""

from __future__ import annotations

import json

import bibtexparser
import pytest
from bibtexparser.bparser import BibTexParser

from kb.export import render
from tests.test_export import work  # the same work, each test varying what it needs

# -- BibTeX.js --------------------------------------------------------------------------------------------------
BIBTEX_TYPES = {"article": "journalArticle", "inproceedings": "conferencePaper", "techreport": "report"}
BIBTEX_TYPES |= {"online": "webpage", "misc": "document"}  # misc: Zotero's own export of a preprint, read back
BIBTEX_FIELDS = {  # BibTeX field -> Zotero field (fieldMap, inputFieldMap, processField)
    "title": "title",
    "author": "creators",
    "date": "date",
    "year": "date",
    "journal": "publicationTitle",
    "booktitle": "publicationTitle",
    "publisher": "publisher",
    "institution": "publisher",  # backupPublisher, used when there is no publisher
    "organization": "publisher",
    "doi": "DOI",
    "url": "url",
    "abstract": "abstractNote",
    "eprint": "extra",  # with eprinttype: "arXiv: ID" (eprintIds)
    "eprinttype": "extra",
    "howpublished": "extra",  # "Published: ..." unless it is a URL
}
BIBTEX_IGNORED = {"archiveprefix", "primaryclass"}  # Zotero skips them; arXiv's and natbib's styles read them
EPRINT_TYPES = {"arxiv": "arXiv"}  # eprintIds: the eprinttype Zotero knows, and the Extra label it writes

# -- RIS.js -----------------------------------------------------------------------------------------------------
RIS_TYPES = {"JOUR": "journalArticle", "CONF": "conferencePaper", "RPRT": "report", "BLOG": "blogPost"}
RIS_FIELDS = {  # (tag, Zotero item type) -> Zotero field; a tag with no type reads the same for all
    ("TI", None): "title",
    ("AU", None): "creators",
    ("PY", None): "date",
    ("DA", None): "date",
    ("DO", None): "DOI",
    ("UR", None): "url",
    ("AB", None): "abstractNote",
    ("DB", None): "archive",
    ("AN", None): "archiveLocation",
    ("ID", None): None,  # ignored
    ("T2", "journalArticle"): "publicationTitle",
    ("T2", "conferencePaper"): "conferenceName",
    ("T2", "blogPost"): "blogTitle",
    ("PB", "report"): "institution",
    ("SN", "report"): "reportNumber",
    ("M3", "report"): "reportType",
}
# M1 is a journal article's issue and JO a journal's abbreviation to Zotero: our exports use neither
RIS_MISREAD = {"M1", "JO", "UNPB"}

# -- zotero-schema's CSL mappings -----------------------------------------------------------------------------------
CSL_TYPES = {
    "article": "preprint",
    "paper-conference": "conferencePaper",
    "article-journal": "journalArticle",
    "report": "report",
    "post-weblog": "blogPost",
}
CSL_FIELDS = {  # CSL variable -> base field, and the field it is on each item type (base-mapped fields)
    "title": "title",
    "author": "creators",
    "issued": "date",
    "DOI": "DOI",
    "URL": "url",
    "abstract": "abstractNote",
    "note": "extra",
    "number": {"preprint": "archiveID", "report": "reportNumber"},
    "publisher": {"preprint": "repository", "report": "institution"},
    "container-title": {"conferencePaper": "proceedingsTitle", "journalArticle": "publicationTitle"}
    | {"blogPost": "blogTitle"},
    "id": None,  # the item's key, not a field
}


KINDS = {  # one work of each kind the exports tell apart, and the Zotero item type it must become
    "preprint": (work(), {"bibtex": "document", "ris": "report", "csl": "preprint"}),
    "conference": (
        work(id="c", venue="NeurIPS 2023", ids={"arxiv": "2306.03341", "doi": "10.5555/1"}),
        {"bibtex": "conferencePaper", "ris": "conferencePaper", "csl": "conferencePaper"},
    ),
    "journal": (
        work(id="j", venue="Transactions on Machine Learning Research", ids={"doi": "10.5555/2"}),
        {"bibtex": "journalArticle", "ris": "journalArticle", "csl": "journalArticle"},
    ),
    "report": (
        work(id="r", kind="report", venue="Anthropic", ids={}, url="https://example.org/r"),
        {"bibtex": "report", "ris": "report", "csl": "report"},
    ),
    "post": (
        work(id="p", kind="post", venue="LessWrong", ids={"lesswrong": "8EyCQKuWo6swZpagS"}, date="2024-04-27"),
        {"bibtex": "webpage", "ris": "blogPost", "csl": "blogPost"},
    ),
}


def zotero_reads_bibtex(entry: dict) -> dict:
    """The Zotero item BibTeX.js makes of one entry (only the fields these exports use)."""
    item = {"itemType": BIBTEX_TYPES[entry["ENTRYTYPE"]]}
    extra = []
    for name, value in entry.items():
        if name in ("ENTRYTYPE", "ID") or name in BIBTEX_IGNORED:
            continue
        assert name in BIBTEX_FIELDS, f"Zotero's BibTeX importer does not read {name!r}"
        target = BIBTEX_FIELDS[name]
        if name not in ("url", "doi"):  # Zotero unescapes LaTeX: the braces that protect case go
            value = value.replace("{", "").replace("}", "")
        if name == "howpublished":
            if value.startswith(("http://", "https:/")):
                item["url"] = value
            else:
                extra.append(f"Published: {value}")
        elif target != "extra":
            item.setdefault(target, value)
    if entry.get("eprinttype", "").lower() in EPRINT_TYPES and entry.get("eprint"):
        extra.append(f"{EPRINT_TYPES[entry['eprinttype'].lower()]}: {entry['eprint']}")
    item["extra"] = extra
    return item


@pytest.mark.parametrize("kind", KINDS)
def test_bibtex_entries_become_the_right_zotero_items_with_the_arxiv_id_kept(kind):
    w, types = KINDS[kind]
    (entry,) = bibtexparser.loads(render([w], "bibtex"), BibTexParser(ignore_nonstandard_types=False)).entries
    item = zotero_reads_bibtex(entry)
    assert item["itemType"] == types["bibtex"]
    assert item["title"] == w["title"] and item["date"] == w["date"]
    if w["ids"].get("arxiv"):  # Zotero reads eprinttype + eprint only; archivePrefix alone would be lost
        assert f"arXiv: {w['ids']['arxiv']}" in item["extra"]
        assert entry["archiveprefix"] == "arXiv"  # kept for arXiv's own form and natbib styles
    if w["ids"].get("doi"):
        assert item["DOI"] == w["ids"]["doi"]
    if kind == "preprint":
        assert item["publisher"] == "arXiv"
    elif kind in ("conference", "journal"):
        assert item["publicationTitle"] == w["venue"]
    else:  # a report's institution, a post's site: Zotero's publisher
        assert item["publisher"] == w["venue"]


def zotero_reads_ris(text: str) -> dict:
    tags = [(line[:2], line[6:]) for line in text.splitlines() if line.strip() and line[:2] != "ER"]
    ty = tags[0][1]
    assert ty not in RIS_MISREAD and ty in RIS_TYPES, ty
    item_type = RIS_TYPES[ty]
    item: dict = {"itemType": item_type}
    for tag, value in tags[1:]:
        assert tag not in RIS_MISREAD, f"Zotero misreads {tag}"
        key = (tag, item_type) if (tag, item_type) in RIS_FIELDS else (tag, None)
        assert key in RIS_FIELDS, f"Zotero's RIS importer has no field for {tag} on a {item_type}"
        if RIS_FIELDS[key]:
            item.setdefault(RIS_FIELDS[key], value)
    return item


@pytest.mark.parametrize("kind", KINDS)
def test_ris_records_use_types_and_tags_zoteros_ris_importer_maps(kind):
    w, types = KINDS[kind]
    item = zotero_reads_ris(render([w], "ris"))
    assert item["itemType"] == types["ris"]
    assert item["title"] == w["title"] and item["url"] == w["url"]
    if w["ids"].get("arxiv"):  # archive and loc. in archive, which Zotero keeps for papers and reports
        assert item["archive"] == "arXiv" and item["archiveLocation"] == f"arXiv:{w['ids']['arxiv']}"
    if kind == "preprint":
        assert item["institution"] == "arXiv" and item["reportType"] == "Preprint"
        assert item["reportNumber"] == "arXiv:2310.01405"
    elif kind == "report":
        assert item["institution"] == w["venue"]
    else:
        field = {"conference": "conferenceName", "journal": "publicationTitle", "post": "blogTitle"}[kind]
        assert item[field] == w["venue"]


def zotero_reads_csl(item: dict) -> dict:
    zotero = {"itemType": CSL_TYPES[item["type"]]}
    for name, value in item.items():
        if name == "type":
            continue
        assert name in CSL_FIELDS, f"zotero-schema maps no field from CSL {name!r}"
        target = CSL_FIELDS[name]
        if isinstance(target, dict):
            assert zotero["itemType"] in target, f"CSL {name} is lost on a {zotero['itemType']}"
            target = target[zotero["itemType"]]
        if target:
            zotero[target] = value
    return zotero


@pytest.mark.parametrize("kind", KINDS)
def test_csl_items_use_types_and_variables_zotero_maps_to_fields_of_that_type(kind):
    w, types = KINDS[kind]
    (item,) = json.loads(render([w], "csl-json"))
    zotero = zotero_reads_csl(item)
    assert zotero["itemType"] == types["csl"] and zotero["title"] == w["title"]
    arxiv = w["ids"].get("arxiv")
    if kind == "preprint":
        assert zotero["archiveID"] == f"arXiv:{arxiv}" and zotero["repository"] == "arXiv"
    elif arxiv:  # no number field on a conference paper: Zotero's Extra, in its own "arXiv: ID" form
        assert zotero["extra"] == f"arXiv: {arxiv}"
