"""The catalogue this repository ships: valid, summarised where it matters, and honest about its facts."""

import json
import re

import pytest

from kb.store import datadir, validate
from tests.conftest import REPO, SHARED

CENTRAL = [
    "representation-engineering-2023",
    "geometry-of-truth-2023",
    "discovering-latent-knowledge-2023",
    "coup-probes-2023",
    "probing-classifiers-2022",
    "simple-probes-sleeper-agents-2024",
    "activation-addition-2023",
    "contrastive-activation-addition-2024",
    "network-trimming-2016",
    "pruning-cnns-resource-efficient-inference-2017",
    "lottery-ticket-hypothesis-2019",
    "toy-models-superposition-2022",
    "indirect-object-identification-circuit-2023",
]


@pytest.fixture(scope="module")
def shipped():
    return datadir.load(REPO / "data")


def test_shipped_data_is_valid(shipped):
    assert [str(p) for p in validate.check(shipped)] == []


def test_central_works_have_summaries(shipped):
    summarised = {s.meta.work for s in shipped.summaries}
    assert len(summarised) >= 15
    assert set(CENTRAL) <= summarised


def test_every_summary_says_why_the_work_matters(shipped):
    for s in shipped.summaries:
        assert s.meta.xrisk, s.path


def test_every_motivation_has_its_evidence_and_no_abstract_is_a_curators(shipped):
    """Issue 23: each shipped motivation carries a status with a quote or reasoning (the schema holds them to it), a
    work whose authors state no x-risk motivation carries no stated tag, and an abstract always says its version."""
    statuses = {t.status for w in shipped.works for t in w.motivations}
    assert statuses <= {"stated", "partly-stated", "inferred"}
    for w in shipped.works:
        for t in w.motivations:
            assert (t.quote and t.where) if t.status != "inferred" else t.reasoning, (w.id, t.slug)
        assert not w.abstract or w.abstract_source, w.id
    assert "none-stated" not in {m.slug for m in shipped.motivations}  # a derived status, not a tag


def test_identifiers_are_well_formed(shipped):
    for w in shipped.works:
        if "arxiv" in w.ids:
            assert re.fullmatch(r"\d{4}\.\d{4,5}", w.ids["arxiv"]), w.id
            # a preprint is never older than its arXiv id; a work published elsewhere may be posted there later
            # (Scaling Monosemanticity: Transformer Circuits 2024, arXiv 2605.29358)
            assert w.year is None or w.year >= 2000 + int(w.ids["arxiv"][:2]) or w.venue not in (None, "arXiv"), w.id
        if "doi" in w.ids:
            assert w.ids["doi"].startswith("10."), w.id


def test_the_readme_query_finds_the_off_policy_paper(tmp_path):
    from click.testing import CliRunner

    from kb.cli.commands import cli as app

    result = CliRunner().invoke(
        app,
        [
            "--data",
            str(REPO / "data"),
            "--db",
            str(tmp_path / "kb.sqlite"),
            "search",
            "probe generalization",
            "--technique",
            "probing",
            "--since",
            "2022",
            "--json",
        ],
    )
    assert "off-policy-probe-generalisation-2026" in [w["id"] for w in json.loads(result.stdout)]


@pytest.mark.skipif(
    not (SHARED / "catalogue" / "works-verified.json").exists(), reason="no ../shared beside the checkout"
)
def test_bibliographic_facts_match_the_verified_list(shipped):
    verified = json.loads((SHARED / "catalogue" / "works-verified.json").read_text())["works"]
    by_title = {w.title: w for w in shipped.works}
    by_arxiv = {w.ids["arxiv"]: w for w in shipped.works if "arxiv" in w.ids}
    for v in verified:
        w = by_arxiv.get(v.get("arxiv_id")) or by_title[v["title"]]  # a later version may be retitled
        # the year of the version cited: the preprint's, or its venue's when it was published (a year later at most)
        assert w.year == v["year"] or (w.venue not in (None, "arXiv") and w.year == v["year"] + 1), w.id
        assert v.get("arxiv_id") in (None, w.ids.get("arxiv")), w.id  # a later arXiv posting may be added
        assert v.get("doi") in (None, w.ids.get("doi")), w.id  # a venue's DOI found since may be added
        # authors we keep are the verified ones, in order; a list known to be partial says so
        # the verified authors, in order, as far as either list goes (a partial list says so with more_authors)
        n = min(len(w.authors), len(v["authors"]))
        assert w.authors[:n] == v["authors"][:n] or w.more_authors, w.id
        assert len(w.authors) >= len(v["authors"]) or w.more_authors, w.id  # none dropped without saying so
