"""Citing: BibTeX, CSL-JSON and RIS exports that reference managers read back field by field."""

import json

import bibtexparser
import pytest
from bibtexparser.bparser import BibTexParser

from kb.export import cite_key, cite_keys, kind_of, latex_escape, render


def parse_bib(text: str):
    # @online is biblatex's type: bibtexparser drops types outside BibTeX's list unless told
    return bibtexparser.loads(text, BibTexParser(ignore_nonstandard_types=False, common_strings=True)).entries


def work(**kw):
    base = {
        "id": "x",
        "kind": "paper",
        "title": "Representation Engineering: A Top-Down Approach to AI Transparency",
        "authors": [{"id": "andy-zou", "name": "Andy Zou"}, {"id": "j", "name": "J. Zico Kolter"}],
        "more_authors": False,
        "year": 2023,
        "date": "2023-10-02",
        "venue": None,
        "abstract": "We study 50% of LLMs & more_things.",
        "url": "https://arxiv.org/abs/2310.01405",
        "ids": {"arxiv": "2310.01405"},
        "categories": ["cs.LG", "cs.AI"],
    }
    return {**base, **kw}


def test_cite_keys_follow_better_bibtex_default_and_are_unique():
    assert cite_key(work()) == "zouRepresentationEngineeringTopDown2023"
    twins = [work(id="a"), work(id="b"), work(id="c")]
    assert cite_keys(twins) == {
        "a": "zouRepresentationEngineeringTopDown2023",
        "b": "zouRepresentationEngineeringTopDown2023a",
        "c": "zouRepresentationEngineeringTopDown2023b",
    }
    umlaut = work(authors=[{"id": "m", "name": "Jürgen Müller"}], title="Über die Sonde")
    assert cite_key(umlaut) == "mullerUberDieSonde2023"


@pytest.mark.parametrize(
    ("kw", "kind"),
    [
        ({"venue": None}, "preprint"),
        ({"venue": "arXiv"}, "preprint"),
        ({"venue": "ICLR 2024 (spotlight)"}, "conference"),
        ({"venue": "Findings of EMNLP 2023"}, "conference"),
        ({"venue": "IJCNLP-AACL 2025, pp. 395-422"}, "conference"),
        ({"venue": "CLeaR 2025 (PMLR 275)"}, "conference"),
        ({"venue": "Science 391(6787), pp. 787-792"}, "journal"),
        ({"venue": "Transactions on Machine Learning Research (TMLR)"}, "journal"),
        ({"venue": "Philosophical Studies"}, "journal"),
        ({"kind": "post", "venue": "LessWrong"}, "web"),
        ({"kind": "report", "venue": "Anthropic"}, "report"),
    ],
)
def test_entry_kinds_come_from_kind_and_venue(kw, kind):
    assert kind_of(work(**kw)) == kind


def test_latex_specials_are_escaped_and_unicode_kept():
    assert latex_escape("50% & $x_1$ #1 {a} ~ ^ \\ é–ü") == (
        r"50\% \& \$x\_1\$ \#1 \{a\} \textasciitilde{} \textasciicircum{} \textbackslash{} é–ü"
    )


def test_bibtex_round_trips_through_bibtexparser():
    works = [
        work(),
        work(id="c", venue="ICLR 2024", ids={"doi": "10.1/ABC"}, url=None, title="Sparse Probes & Co."),
        work(id="p", kind="post", venue="LessWrong", ids={"lesswrong": "abc"}, url="https://lesswrong.com/posts/a"),
        work(id="j", venue="Philosophical Studies", more_authors=True),
    ]
    entries = {e["ID"]: e for e in parse_bib(render(works, "bibtex"))}
    assert len(entries) == 4
    keys = cite_keys(works)
    assert keys["j"] == "zouRepresentationEngineeringTopDown2023"  # in id order, the first keeps the bare key
    pre = entries[keys["x"]]
    assert pre["ENTRYTYPE"] == "misc"
    assert (pre["eprint"], pre["archiveprefix"], pre["primaryclass"]) == ("2310.01405", "arXiv", "cs.LG")
    assert pre["author"] == "Zou, Andy and Kolter, J. Zico"
    assert pre["year"] == "2023" and pre["abstract"] == r"We study 50\% of {LLMs} \& more\_things.".replace(
        "{LLMs}", "LLMs"
    )
    conf = entries["zouSparseProbesCo2023"]
    assert conf["ENTRYTYPE"] == "inproceedings" and conf["booktitle"] == "ICLR 2024" and conf["doi"] == "10.1/ABC"
    assert conf["title"] == r"Sparse Probes \& Co."
    online = next(e for e in entries.values() if e["ENTRYTYPE"] == "online")
    assert online["url"] == "https://lesswrong.com/posts/a" and online["organization"] == "LessWrong"
    article = next(e for e in entries.values() if e["ENTRYTYPE"] == "article")
    assert article["journal"] == "Philosophical Studies" and article["author"].endswith("and others")


def test_csl_json_has_valid_types_names_and_dates():
    items = json.loads(render([work(), work(id="c", venue="NeurIPS 2023", kind="paper")], "csl-json"))
    by_type = {i["type"]: i for i in items}
    assert set(by_type) == {"article", "paper-conference"}
    pre = by_type["article"]
    assert pre["author"][0] == {"family": "Zou", "given": "Andy"}
    assert pre["issued"] == {"date-parts": [[2023, 10, 2]]}
    assert pre["number"] == "arXiv:2310.01405" and pre["publisher"] == "arXiv"
    assert pre["URL"] == "https://arxiv.org/abs/2310.01405" and pre["abstract"].startswith("We study")
    assert by_type["paper-conference"]["container-title"] == "NeurIPS 2023"


def _parse_ris(text: str) -> list[dict[str, list[str]]]:
    records, current = [], {}
    for line in text.splitlines():
        if not line.strip():
            continue
        tag, sep, value = line.partition("  - ")
        assert sep and len(tag) == 2, line
        if tag == "ER":
            records.append(current)
            current = {}
        else:
            current.setdefault(tag, []).append(value)
    assert current == {}
    return records


def test_ris_parses_back_field_by_field():
    works = [work(), work(id="j", venue="Philosophical Studies", ids={"doi": "10.1007/x"})]
    records = _parse_ris(render(works, "ris"))
    assert len(records) == 2
    pre, journal = records
    assert pre["TY"] == ["RPRT"] and pre["M3"] == ["Preprint"] and pre["AU"] == ["Zou, Andy", "Kolter, J. Zico"]
    assert pre["TI"] == [work()["title"]] and pre["PY"] == ["2023"] and pre["UR"] == [work()["url"]]
    assert pre["AB"] == [work()["abstract"]] and pre["SN"] == ["arXiv:2310.01405"] and pre["PB"] == ["arXiv"]
    assert journal["TY"] == ["JOUR"] and journal["DO"] == ["10.1007/x"] and journal["T2"] == ["Philosophical Studies"]


@pytest.mark.parametrize("fmt", ["bibtex", "csl-json", "ris"])
def test_kb_export_writes_every_matching_work(kb, fmt):
    result = kb("export", "--format", fmt, "-t", "probing")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("Coup probes catch catastrophes") == 1
    assert "Probes generalise well" in result.stdout and "Trimming neurons" not in result.stdout


def test_kb_export_of_the_whole_catalogue_parses(kb, tmp_path):
    out = tmp_path / "all.bib"
    assert kb("export", "-o", str(out)).exit_code == 0
    entries = parse_bib(out.read_text())
    assert len(entries) == 4 and len({e["ID"] for e in entries}) == 4
    coup = next(e for e in entries if e.get("eprint") == "2311.00001")
    assert coup["archiveprefix"] == "arXiv" and coup["ID"] == "rogerCoupProbesCatch2023"
