"""The catalogue this repository ships: valid, summarised where it matters, and honest about its facts."""

import json
import re

import pytest

from kb import datadir, validate
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
            assert w.year is None or w.year >= 2000 + int(w.ids["arxiv"][:2]), w.id
        if "doi" in w.ids:
            assert w.ids["doi"].startswith("10."), w.id


def test_the_readme_query_finds_the_off_policy_paper(tmp_path):
    from click.testing import CliRunner

    from kb.cli import cli as app

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
    for v in verified:
        w = by_title[v["title"]]
        assert w.year == v["year"], w.id
        assert w.ids.get("arxiv") == v.get("arxiv_id"), w.id
        assert w.ids.get("doi") == v.get("doi"), w.id
        # authors we keep are the verified ones, in order; a list known to be partial says so
        assert w.authors == v["authors"][: len(w.authors)] or w.more_authors, w.id
