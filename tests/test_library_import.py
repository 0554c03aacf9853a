"""`kb import bibtex|csl-json|ris FILE`: a researcher's library merged under the identity rules, one bad entry failing
alone with its line named."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from importers import bibtex, csljson, ris
from importers.records import Notice, Skipped, SourceError, WorkRecord

FIXTURES = Path(__file__).parent / "fixtures"
SURVEY = FIXTURES / "library_survey_excerpt.bib"  # a real survey's references.bib, 9 entries verbatim
ZOTERO = FIXTURES / "library_zotero_excerpt.bib"  # a real Zotero export (a review's bibliography), 5 entries verbatim


def read(module, path: Path) -> tuple[list[WorkRecord], list[Skipped], list[Notice]]:
    items = list(module.fetch(None, {"path": str(path)}))
    skipped = [i for i in items if isinstance(i, Skipped)]
    notices = [i for i in items if isinstance(i, Notice) and not isinstance(i, Skipped)]
    return [i for i in items if isinstance(i, WorkRecord)], skipped, notices


def works(data: Path) -> dict[str, dict]:
    out = {}
    for f in (data / "works").glob("*.jsonl"):
        for line in f.read_text().splitlines():
            w = json.loads(line)
            out[w["id"]] = w
    return out


# -- BibTeX, on a real bibliography --------------------------------------------------------------------------------


def test_every_entry_of_a_real_survey_bibliography_becomes_a_record_with_its_identifiers():
    records, skipped, _ = read(bibtex, SURVEY)
    assert skipped == [] and len(records) == 9
    by_title = {r.title: r for r in records}
    patching = by_title["Towards Best Practices of Activation Patching in Language Models: Metrics and Methods"]
    assert patching.ids == {"arxiv": "2309.16042"} and patching.authors == ["Fred Zhang", "Neel Nanda"]
    assert patching.kind == "paper" and patching.year == 2024 and patching.url == "https://arxiv.org/abs/2309.16042"
    # an Alignment Forum post cited by its address inside a sequence (/s/SEQ/p/POST) is that post
    casper = by_title["EIS III: Broad Critiques of Interpretability Research"]
    assert casper.kind == "post" and casper.ids == {"alignmentforum": "gwG9uqw255gafjYN4"}
    # a LessWrong post given as howpublished = {\url{...}}, dated by year, month and day
    lawrence = by_title['Superposition is not "just" neuron polysemanticity']
    assert lawrence.ids == {"lesswrong": "8EyCQKuWo6swZpagS"} and lawrence.date == "2024-04-27"
    # LaTeX decoded; braces that protect case gone; the editors are not authors
    hewitt = by_title["A Structural Probe for Finding Syntax in Word Representations"]
    assert hewitt.authors == ["John Hewitt", "Christopher D. Manning"] and hewitt.ids == {"doi": "10.18653/v1/N19-1419"}
    assert "North American Chapter" in hewitt.venue
    assert by_title["Language Models are Unsupervised Multitask Learners"].kind == "report"
    survey = next(r for r in records if r.title.startswith("Toward Transparent AI"))
    assert survey.authors[0] == "Tilman Räuker"
    assert all(r.abstract is None for r in records)  # a library's abstract is nobody's checked words: not imported


def test_a_real_zotero_export_gives_forum_posts_preprints_and_proceedings_their_identifiers():
    records, skipped, notices = read(bibtex, ZOTERO)
    assert skipped == [] and notices == []
    scrubbing, circuits, whisper, elk, voita = records
    # Zotero files a forum post as a journal article of "AI Alignment Forum": its address makes it the post
    assert scrubbing.kind == "post" and scrubbing.ids == {"alignmentforum": "JvZhhzycHu2Yd57RN"}
    assert scrubbing.authors[:3] == ["Lawrence Chan", "Adrià Garriga-Alonso", "Nicholas Goldowsky-Dill"]
    assert "ryan_greenblatt" in scrubbing.authors and "Buck" in scrubbing.authors  # names as the library has them
    # journal CoRR + eprint + archivePrefix: an arXiv preprint, whose arXiv DOI is not kept beside its id
    assert circuits.ids == {"arxiv": "2307.09458"} and circuits.venue == "arXiv" and circuits.kind == "paper"
    assert whisper.kind == "post" and whisper.ids == {"lesswrong": "thePw6qdyabD8XR4y"} and whisper.venue == "LessWrong"
    assert elk.ids == {} and elk.url.startswith("https://docs.google.com/document/d/1WwsnJQstPq91")
    assert voita.ids == {"doi": "10.18653/v1/D19-1448"} and voita.venue.startswith("Proceedings of the 2019 Conference")
    assert voita.authors == ["Elena Voita", "Rico Sennrich", "Ivan Titov"]


def test_importing_a_real_bibliography_merges_with_the_catalogue_and_twice_changes_nothing(kb, data, tmp_path):
    library = tmp_path / "refs.bib"
    library.write_text(
        SURVEY.read_text()
        + "\n@misc{roger2023coup, title={Coup probes catch catastrophes}, author={Roger, Fabien}, year={2023},"
        " eprint={2311.00001}, eprinttype={arxiv}}\n"
        + "@article{zou, title = {Reading Vectors with Tomography}, author = {Zou, Andy and others}, year = 2023}\n"
    )
    before = works(data)
    first = kb("import", "bibtex", str(library))
    assert first.exit_code == 0, first.output
    assert "added 9, updated 2, merged as duplicates 2, unchanged 0" in first.output
    after = works(data)
    assert len(after) == len(before) + 9

    def without_provenance(work):
        return {k: v for k, v in work.items() if k != "provenance"}

    # recognised by its arXiv id: nothing new but the provenance that says by which rule
    assert without_provenance(after["coup-probes-2023"]) == without_provenance(before["coup-probes-2023"])
    assert after["coup-probes-2023"]["provenance"][-1]["matched_by"] == "same identifier: arxiv 2311.00001"
    # recognised by its title and an author in common: nothing new, and curated values win
    assert without_provenance(after["lat-paper-2023"]) == without_provenance(before["lat-paper-2023"])
    again = kb("import", "bibtex", str(library))
    assert again.exit_code == 0 and "added 0, updated 0, merged as duplicates 0, unchanged 11" in again.output
    assert works(data) == after


def test_a_broken_entry_fails_alone_and_names_its_line(kb, data, tmp_path):
    library = tmp_path / "refs.bib"
    library.write_text(
        "@misc{good1, title={Steering Llama 2 via Contrastive Activation Addition}, author={Rimsky, Nina},"
        " year={2023}, eprint={2312.06681}, archivePrefix={arXiv}}\n"
        "\n"
        "@article{broken, title = {An entry whose brace never closes, author = {Nobody}, year = {2023}}\n"
        "\n"
        "@misc{untitled, author = {Somebody}, year = {2020}}\n"
        "@misc{good2, title={The Geometry of Truth}, author={Marks, Samuel and Tegmark, Max}, year={2023},"
        " url={https://arxiv.org/abs/2310.06824v3}}\n"
    )
    result = kb("import", "bibtex", str(library))
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert f"entry 'broken' skipped: it is not closed (a '}}' is missing) (at {library} line 3)" in out
    assert f"entry 'untitled' skipped: it has no title (at {library} line 5)" in out
    assert "added 2," in out and "failed 2" in out and "Traceback" not in out
    added = {w.get("ids", {}).get("arxiv") for w in works(data).values()}
    assert {"2312.06681", "2310.06824"} <= added


def test_software_is_left_out_with_a_notice_not_an_error(kb, data, tmp_path):
    library = tmp_path / "refs.bib"
    library.write_text(
        "@software{tl, title={TransformerLens}, author={Nanda, Neel}, year={2022}}\n"
        # as the review's Zotero export has it: a program filed as @misc with its repository's address
        "@misc{sae, title = {Sparse Autoencoder Library}, author = {Cooney, Alan}, year = {2024},"
        " url = {https://github.com/ai-safety-foundation/sparse_autoencoder}, howpublished = {ai-safety-foundation}}\n"
        "@misc{paper, title={Steering Llama 2 via Contrastive Activation Addition}, author={Rimsky, Nina},"
        " url={https://github.com/nrimsky/CAA}, eprint={2312.06681}, archivePrefix={arXiv}}\n"
    )
    result = kb("import", "bibtex", str(library))
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "entry 'tl' left out: @software is no kind of work the catalogue holds" in out
    assert "entry 'sae' left out: its address is a code repository (github.com)" in out
    assert "added 1," in out and "failed" not in out  # a paper whose code is on GitHub is still the paper


def test_a_missing_file_is_one_clear_error(kb, tmp_path):
    result = kb("import", "ris", str(tmp_path / "nowhere.ris"))
    assert result.exit_code == 1
    assert "cannot read the file" in result.output and "Traceback" not in result.output


def test_arxiv_ids_are_found_wherever_bibtex_exporters_put_them(tmp_path):
    library = tmp_path / "forms.bib"
    library.write_text(
        "@misc{a, title={A}, eprint={2310.01405v2}, archivePrefix={arXiv}}\n"  # arXiv's own form
        "@online{b, title={B}, eprint={2212.03827}, eprinttype={arxiv}}\n"  # BibLaTeX's, which Zotero reads
        "@article{c, title={C}, journal={arXiv preprint arXiv:2308.10248}, year={2023}}\n"  # Google Scholar's
        "@article{d, title={D}, journal={CoRR}, volume={abs/2202.05262}, year={2022}}\n"  # DBLP's
        "@misc{e, title={E}, doi={10.48550/ARXIV.2206.07697}, howpublished={arXiv}}\n"  # arXiv's DataCite DOI
        "@misc{f, title={F}, howpublished={\\url{https://arxiv.org/pdf/2312.06681.pdf}}}\n"
        "@misc{g, title={G}, eprint={10.2307/1234}, eprinttype={jstor}}\n"  # another archive's: no arXiv id
    )
    records, skipped, _ = read(bibtex, library)
    assert [r.ids.get("arxiv") for r in records] == [
        "2310.01405",
        "2212.03827",
        "2308.10248",
        "2202.05262",
        "2206.07697",
        "2312.06681",
        None,
    ]
    assert records[1].kind == "paper"  # an @online entry for a paper's page is the paper
    assert records[4].ids == {"arxiv": "2206.07697"}  # arXiv's DOI says no more than its id
    assert [r.venue for r in records] == [None, None, "arXiv", "arXiv", "arXiv", None, None]


def test_latex_in_names_and_titles_becomes_unicode():
    text = bibtex.latex_to_text(r"G{\"o}del's {\'E}cole \v{S}koda --- {LLMs} a~b {\ss}")
    assert text == "Gödel's École Škoda — LLMs a b ß"
    assert bibtex.names(r"van der Waals, J. D. and King, Jr., Martin Luther and {OpenAI Team} and others") == (
        ["J. D. van der Waals", "Martin Luther King Jr.", "OpenAI Team"],
        True,
    )


def test_string_macros_and_concatenation_are_expanded():
    text = (
        '@string{nips = "Advances in Neural Information Processing Systems"}\n'
        '@inproceedings{x, title="T", booktitle = nips # " 36", year=2023, month=dec}\n'
    )
    (entry,) = list(bibtex.entries(text))
    assert entry.venue == "Advances in Neural Information Processing Systems 36" and entry.year == "2023"


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(alphabet='@{}()=,"#%\\ \nabtitlemisc0123', max_size=200))
def test_any_text_gives_entries_or_failed_entries_never_an_exception(text):
    for entry in bibtex.entries(text):
        assert entry.kind in ("paper", "report", "web") or entry.kind.startswith(("skip: ", "omit: "))
    for entry in ris.entries(text.replace("@", "TY  - "), "ris"):
        assert isinstance(entry, Notice) or entry.line >= 1


# -- CSL-JSON, in the shape Zotero exports ----------------------------------------------------------------------

# Items shaped as Zotero's "CSL JSON" export writes a preprint, a conference paper and a blog post (field names from
# zotero-schema's CSL mappings); the facts are the works' own (arXiv 2212.03827 and 2310.01405, a LessWrong post).
ZOTERO_CSL = [
    {
        "id": "http://zotero.org/users/1/items/ABCD1234",
        "type": "article",
        "title": "Representation Engineering: A Top-Down Approach to AI Transparency",
        "author": [{"family": "Zou", "given": "Andy"}, {"family": "Phan", "given": "Long"}],
        "issued": {"date-parts": [["2023", 10, 2]]},
        "number": "arXiv:2310.01405",
        "publisher": "arXiv",
        "note": "arXiv:2310.01405 [cs]",
        "DOI": "10.48550/arXiv.2310.01405",
        "URL": "http://arxiv.org/abs/2310.01405",
    },
    "not an item",
    {
        "id": "burns",
        "type": "paper-conference",
        "title": "Discovering <i>Latent Knowledge</i> in Language Models Without Supervision",
        "container-title": "The Eleventh International Conference on Learning Representations",
        "author": [{"family": "Burns", "given": "Collin"}, {"family": "Ye", "given": "Haotian"}],
        "issued": {"date-parts": [[2023]]},
    },
    {"id": "untitled", "type": "article", "author": [{"literal": "Nobody"}]},
    {
        "id": "post",
        "type": "post-weblog",
        "title": "Probes generalise well",
        "container-title": "LessWrong",
        "author": [{"family": "Kolter", "given": "Zico"}],
        "issued": {"raw": "2024-03-01"},
    },
]


def test_csl_json_items_are_read_and_a_bad_item_fails_alone_with_its_line(tmp_path):
    library = tmp_path / "zotero.json"
    library.write_text(json.dumps(ZOTERO_CSL, indent=2))
    records, skipped, _ = read(csljson, library)
    assert [r.title for r in records] == [
        "Representation Engineering: A Top-Down Approach to AI Transparency",
        "Discovering Latent Knowledge in Language Models Without Supervision",
        "Probes generalise well",
    ]
    repe, burns, post = records
    assert repe.ids == {"arxiv": "2310.01405"} and repe.date == "2023-10-02" and repe.venue == "arXiv"
    assert burns.authors == ["Collin Burns", "Haotian Ye"] and burns.venue.startswith("The Eleventh")
    assert post.kind == "post" and post.date == "2024-03-01"
    lines = library.read_text().splitlines()
    for item, skip in zip(("not an item", "untitled"), skipped):
        line = int(skip.where.rsplit(" ", 1)[1])
        assert item in lines[line - 1] or item in lines[line]  # the line the item starts on, or its first field
    assert "an item must be an object" in skipped[0].message and "no title" in skipped[1].message


def test_csl_json_that_is_not_json_is_one_error_with_its_line(tmp_path):
    library = tmp_path / "broken.json"
    library.write_text('[\n  {"type": "article", "title": "A"},\n  {"type": "article" "title": "B"}\n]\n')
    items = csljson.fetch(None, {"path": str(library)})
    try:
        list(items)
    except SourceError as e:
        assert "line 3" in str(e)
    else:
        raise AssertionError("no error")


def test_a_post_imported_from_csl_json_merges_with_the_forum_post_by_title_and_date(kb, data, tmp_path):
    library = tmp_path / "zotero.json"
    library.write_text(json.dumps([ZOTERO_CSL[4]]))
    result = kb("import", "csl-json", str(library))
    assert result.exit_code == 0 and "merged as duplicates 1" in result.output, result.output
    assert works(data)["probe-post-2024"]["date"] == "2024-03-01"  # what the forum record lacked


# -- RIS ---------------------------------------------------------------------------------------------------------

RIS = """TY  - UNPB
TI  - Representation Engineering: A Top-Down Approach to AI Transparency
AU  - Zou, Andy
AU  - Phan, Long
PY  - 2023
DA  - 2023/10/02/
M1  - arXiv:2310.01405
UR  - http://arxiv.org/abs/2310.01405
ER  -

TY  - ELEC
TI  - Superposition is not "just" neuron polysemanticity
AU  - Chan, Lawrence
DA  - 2024/04/27/
UR  - https://www.lesswrong.com/posts/8EyCQKuWo6swZpagS/superposition-is-not-just-neuron-polysemanticity
ER  -

TY  - BLOG
AU  - Nobody
PY  - 2020
ER  -

TY  - JOUR
TI  - A Structural Probe for Finding Syntax in
  Word Representations
AU  - Hewitt, John
T2  - Proceedings of NAACL-HLT 2019
DO  - https://doi.org/10.18653/v1/N19-1419
ER  -
"""


def test_ris_records_of_the_types_tools_write_for_preprints_and_posts(tmp_path):
    library = tmp_path / "lib.ris"
    library.write_text(RIS)
    records, skipped, _ = read(ris, library)
    repe, post, probe = records
    assert repe.kind == "paper" and repe.ids == {"arxiv": "2310.01405"} and repe.date == "2023-10-02"
    assert repe.authors == ["Andy Zou", "Long Phan"]
    assert post.kind == "post" and post.ids == {"lesswrong": "8EyCQKuWo6swZpagS"} and post.year == 2024
    assert probe.title == "A Structural Probe for Finding Syntax in Word Representations"
    assert probe.ids == {"doi": "10.18653/v1/N19-1419"} and probe.venue == "Proceedings of NAACL-HLT 2019"
    (skip,) = skipped
    assert skip.message == "entry skipped: it has no title" and skip.where == f"{library} line 18"


# -- what the catalogue exports, it imports back ---------------------------------------------------------------


def test_each_export_format_imports_back_to_the_same_works(kb, data, tmp_path):
    from kb.ingest.merging import match_text

    before = works(data)
    for fmt, ext, module in (("bibtex", "bib", bibtex), ("csl-json", "json", csljson), ("ris", "ris", ris)):
        out = tmp_path / f"all.{ext}"
        assert kb("export", "--format", fmt, "-o", str(out)).exit_code == 0
        records, skipped, _ = read(module, out)
        assert skipped == [] and len(records) == len(before), fmt
        for r in records:
            (w,) = [w for w in before.values() if match_text(w["title"]) == match_text(r.title)]
            assert r.kind == w["kind"] and r.year == w.get("year"), (fmt, r)
            assert r.ids == w.get("ids", {}), (fmt, r)
            # under each author's canonical name (data/authors.jsonl): 'Zico Kolter' is exported as 'J. Zico Kolter'
            assert [a.split()[-1] for a in r.authors] == [a.split()[-1] for a in w["authors"]], (fmt, r)
        assert kb("import", fmt, str(out)).exit_code == 0
        again = kb("import", fmt, str(out))
        assert again.exit_code == 0 and f"unchanged {len(before)}" in again.output, (fmt, again.output)
    # the only thing an import of the catalogue's own export adds: the venue of an arXiv preprint that had none
    after = works(data)
    for work_id, w in after.items():
        old = before[work_id]
        added = {k: v for k, v in w.items() if k != "provenance" and old.get(k) != v}
        assert added in ({}, {"venue": "arXiv"}), (work_id, added)
        assert not added or (not old.get("venue") and "arxiv" in old["ids"])
