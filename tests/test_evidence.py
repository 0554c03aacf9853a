"""Issue 23: every motivation with its evidence, every abstract the authors' own, suggestions kept apart."""

import json

import pytest

from kb.store import datadir, validate


def problems(data):
    return [str(p) for p in validate.check(datadir.load(data))]


def rewrite_work(data, work_id, **fields):
    """Change one work of the fixture's papers.jsonl in place (its line number stays)."""
    path = data / "works" / "papers.jsonl"
    works = [json.loads(line) for line in path.read_text().splitlines()]
    for w in works:
        if w["id"] == work_id:
            w.update(fields)
            for key in [k for k, v in fields.items() if v is None]:
                del w[key]
    path.write_text("".join(json.dumps(w) + "\n" for w in works))


def line_of(data, work_id):
    path = data / "works" / "papers.jsonl"
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if f'"{work_id}"' in line)


STATED = {"slug": "monitoring", "status": "stated", "where": "abstract"}


# -- kb validate ------------------------------------------------------------------------------------------


def test_a_stated_motivation_without_a_quote_is_refused_at_its_line(data):
    rewrite_work(data, "lat-paper-2023", motivations=[STATED])
    found = problems(data)
    line = line_of(data, "lat-paper-2023")
    assert any(
        p.startswith(f"data/works/papers.jsonl:{line}:") and "give the authors' words (quote)" in p for p in found
    )


def test_a_partly_stated_motivation_needs_its_place_too(data):
    rewrite_work(
        data, "lat-paper-2023", motivations=[{"slug": "monitoring", "status": "partly-stated", "quote": "We study"}]
    )
    assert any("partly-stated: give the authors' words (quote) and where they stand" in p for p in problems(data))


def test_a_quote_said_to_be_from_the_abstract_must_stand_in_it(data):
    rewrite_work(data, "lat-paper-2023", motivations=[dict(STATED, quote="We study deceptive takeover.")])
    assert "work lat-paper-2023: motivation 'monitoring': its quote is not in the abstract" in " ".join(problems(data))


def test_a_quote_from_the_abstract_may_differ_from_it_in_whitespace_only(data):
    rewrite_work(data, "lat-paper-2023", motivations=[dict(STATED, quote="We study\n generalization  of probe")])
    assert problems(data) == []
    rewrite_work(data, "lat-paper-2023", motivations=[dict(STATED, quote="We study generalisation of probe")])
    assert any("its quote is not in the abstract" in p for p in problems(data))  # a spelling is not whitespace


def test_a_quote_from_a_section_is_not_held_to_the_abstract(data):
    quote = {
        "slug": "monitoring",
        "status": "stated",
        "quote": "Takeover is the risk.",
        "where": "section: Introduction",
    }
    rewrite_work(data, "lat-paper-2023", motivations=[quote])
    assert problems(data) == []


def test_an_inferred_motivation_needs_reasoning_and_no_quote(data):
    rewrite_work(data, "lat-paper-2023", motivations=[{"slug": "monitoring", "status": "inferred"}])
    assert any("is inferred: give the reasoning" in p for p in problems(data))
    rewrite_work(
        data,
        "lat-paper-2023",
        motivations=[{"slug": "monitoring", "status": "inferred", "reasoning": "r", "quote": "We study"}],
    )
    assert any("a quote makes it stated or partly-stated" in p for p in problems(data))


def test_a_bare_motivation_slug_asks_for_its_status_and_evidence(data):
    rewrite_work(data, "lat-paper-2023", motivations=["monitoring"])
    assert any("motivation 'monitoring' needs its status and evidence" in p for p in problems(data))


def test_an_unknown_place_for_a_quote_is_refused(data):
    rewrite_work(data, "lat-paper-2023", motivations=[dict(STATED, quote="We study", where="page 3")])
    assert any("where 'page 3'" in p for p in problems(data))


def test_an_abstract_without_its_source_is_refused(data):
    rewrite_work(data, "lat-paper-2023", abstract_source=None)
    assert any("abstract without abstract_source" in p for p in problems(data))


def test_a_summary_names_only_motivations_its_work_carries(data):
    rewrite_work(data, "coup-probes-2023", motivations=None)
    assert any("motivation 'monitoring' is not on work coup-probes-2023" in p for p in problems(data))


# -- what a reader sees --------------------------------------------------------------------------------------


def test_show_gives_each_motivation_with_its_quote_or_reasoning(data, kb):
    rewrite_work(
        data,
        "lat-paper-2023",
        motivations=[{"slug": "monitoring", "status": "inferred", "reasoning": "Probes are what monitors use."}],
    )
    out = " ".join(kb("show", "coup-probes-2023").stdout.split())  # a long quote is wrapped
    assert "x-risk motivation: stated by the authors" in out
    assert "monitoring: stated (abstract): \u201cProbes trained off-policy detect takeover attempts.\u201d" in out
    out = " ".join(kb("show", "lat-paper-2023").stdout.split())
    assert "x-risk motivation: inferred by readers; the authors state none" in out
    assert "monitoring: inferred (curator): Probes are what monitors use." in out
    assert "x-risk motivation: none stated by the authors" in kb("show", "old-pruning-2016").stdout


def test_a_draft_summary_changes_nothing_a_reader_sees_as_reviewed(data, kb):
    rewrite_work(
        data,
        "lat-paper-2023",
        motivations=[{"slug": "monitoring", "status": "inferred", "reasoning": "Probes."}],
        provenance=[{"source": "curated", "fetched_at": "2026-12-07"}],
    )
    before = json.loads(kb("show", "lat-paper-2023", "--json", "--provenance").stdout)
    (data / "summaries" / "lat-paper-2023.md").write_text(
        "---\nwork: lat-paper-2023\nstatus: draft\ncontributors: [Me]\nmotivations: [monitoring]\n"
        "motivation_stated_by: authors\nxrisk: The authors say so.\n---\n\nText.\n"
    )
    after = json.loads(kb("show", "lat-paper-2023", "--json", "--provenance").stdout)
    assert after["motivations"] == before["motivations"]
    assert (
        after["provenance"]
        == before["provenance"]
        == [{"source": "curated", "fetched_at": "2026-12-07", "fields": [], "matched_by": None}]
    )
    assert after["motivation_status"] == before["motivation_status"] == "inferred"
    assert "stated by the authors" not in kb("show", "lat-paper-2023").stdout


def test_a_curator_note_is_shown_as_the_curators_and_never_exported_as_an_abstract(data, kb):
    rewrite_work(data, "old-pruning-2016", curator_note="Removes neurons whose outputs are mostly zero.")
    shown = kb("show", "old-pruning-2016").stdout
    assert "curator's note (not the authors' abstract):" in shown and "\nabstract" not in shown
    for fmt, field in (("bibtex", "abstract ="), ("ris", "AB  -"), ("csl-json", '"abstract"')):
        out = kb("export", "--format", fmt).stdout
        assert "mostly zero" not in out, fmt
        assert field in out, fmt  # the authors' abstracts of the other works are exported
    assert "abstract (arXiv v1):" in kb("show", "coup-probes-2023").stdout
    # a note is searched as a summary is: what a curator wrote still finds the work
    assert [r["id"] for r in json.loads(kb("search", "mostly zero", "--json").stdout)] == ["old-pruning-2016"]


def test_stats_and_motivations_count_by_status(data, kb):
    rewrite_work(
        data, "lat-paper-2023", motivations=[{"slug": "monitoring", "status": "inferred", "reasoning": "Probes."}]
    )
    stats = json.loads(kb("stats", "--json").stdout)
    assert stats["by_motivation_status"] == {"stated": 1, "inferred": 1, "none-stated": 2}
    assert stats["motivations_by_status"] == {"inferred": 1, "stated": 1}
    rows = {m["slug"]: m for m in json.loads(kb("motivations", "--json").stdout)}
    assert (rows["monitoring"]["stated"], rows["monitoring"]["inferred"], rows["monitoring"]["works"]) == (1, 1, 2)


def test_stated_lists_only_works_whose_authors_state_a_motivation(data, kb):
    rewrite_work(
        data, "lat-paper-2023", motivations=[{"slug": "monitoring", "status": "inferred", "reasoning": "Probes."}]
    )
    ids = lambda result: [r["id"] for r in json.loads(result.stdout)]  # noqa: E731
    assert ids(kb("list", "--stated", "--json")) == ["coup-probes-2023"]
    assert ids(kb("list", "--stated", "-m", "monitoring", "--json")) == ["coup-probes-2023"]
    assert sorted(ids(kb("list", "-m", "monitoring", "--json"))) == ["coup-probes-2023", "lat-paper-2023"]
    assert ids(kb("search", "probes", "--stated", "--json")) == ["coup-probes-2023"]


# -- suggestions stay suggestions -----------------------------------------------------------------------------

SUGGESTED_TECHNIQUE = {"slug": "probing", "by": "rule", "confidence": 0.8, "evidence": "abstract: 'probe'"}
SUGGESTED_MOTIVATION = {
    "slug": "monitoring",
    "status": "inferred",
    "by": "model",
    "confidence": 0.7,
    "reasoning": "a probe on the embedding: p = 0.70",
}


@pytest.fixture
def suggested(data):
    rewrite_work(data, "lat-paper-2023", techniques=["lat", SUGGESTED_TECHNIQUE], motivations=[SUGGESTED_MOTIVATION])
    return data


def test_filters_ignore_suggestions_unless_asked(suggested, kb):
    ids = lambda *args: sorted(r["id"] for r in json.loads(kb(*args, "--json").stdout))  # noqa: E731
    assert ids("list", "-t", "probing") == ["coup-probes-2023", "probe-post-2024"]
    assert ids("list", "-m", "monitoring") == ["coup-probes-2023"]
    assert ids("list", "-t", "probing", "--include-suggested") == [
        "coup-probes-2023",
        "lat-paper-2023",
        "probe-post-2024",
    ]
    assert ids("list", "-m", "monitoring", "--include-suggested") == ["coup-probes-2023", "lat-paper-2023"]
    assert ids("search", "probes", "-t", "probing") == ["coup-probes-2023", "probe-post-2024"]
    tree = {t["slug"]: t for t in json.loads(kb("techniques", "--json").stdout)}
    assert tree["probing"]["direct"] == 2  # counts as the filter does


def test_suggestions_are_kept_apart_and_marked_in_rows_json_and_show(suggested, kb):
    row = next(r for r in json.loads(kb("list", "--json").stdout) if r["id"] == "lat-paper-2023")
    assert row["techniques"] == ["lat"] and row["suggested_techniques"] == ["probing"]
    assert row["motivations"] == [] and row["suggested_motivations"] == ["monitoring"]
    listed = kb("list").stdout
    assert "lat-paper-2023 · 2023 · lat · suggested: probing, monitoring" in listed
    shown = kb("show", "lat-paper-2023").stdout
    assert "techniques: lat (curator)" in shown
    assert "suggested techniques (not curated): probing (rule, 0.80)" in shown
    assert "monitoring: inferred (suggested, model, 0.70): a probe on the embedding" in shown
    assert "x-risk motivation: none stated by the authors" in shown  # a suggestion is no one's statement


def test_a_search_for_a_technique_name_does_not_find_a_suggestion(suggested, kb):
    assert sorted(r["id"] for r in json.loads(kb("search", "technique:probing", "--json").stdout)) == [
        "coup-probes-2023",
        "probe-post-2024",
    ]


# -- the site -------------------------------------------------------------------------------------------------


def test_pages_show_the_quote_and_keep_suggestions_out_of_the_filters(suggested, tmp_path):
    from tests.test_site import build

    rewrite_work(suggested, "probe-post-2024", motivations=None)
    out = tmp_path / "_site"
    build(suggested, out)
    coup = (out / "works" / "coup-probes-2023.html").read_text()
    assert '<q class="quote">Probes trained off-policy detect takeover attempts.</q>' in coup
    assert 'data-pagefind-filter="x-risk motivation">stated by the authors<' in coup
    lat = (out / "works" / "lat-paper-2023.html").read_text()
    assert "Suggested by an automatic tagger, not curated" in lat
    assert 'data-pagefind-filter="technique">Linear probing<' not in lat
    assert 'data-pagefind-filter="motivation">' not in lat
    page = (out / "motivations" / "monitoring.html").read_text()
    stated = page[page.index('id="stated-h"') : page.index('id="partly-h"')]
    inferred = page[page.index('id="inferred-h"') : page.index('id="suggested-h"')]
    suggestions = page[page.index('id="suggested-h"') :]
    assert "coup-probes-2023" in stated and "Probes trained off-policy" in stated
    assert "lat-paper-2023" not in stated + inferred and "lat-paper-2023" in suggestions
    probing = (out / "techniques" / "probing.html").read_text()
    works, suggestions = probing.split('id="suggested-h"')
    assert "lat-paper-2023" not in works and "lat-paper-2023" in suggestions


# -- the evidence-first tagger ------------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kb.tagging import CONCERNS, MOTIVATION_CUES, STAKES, EvidenceTagger, sentences  # noqa: E402

TAXONOMY = (
    [{"slug": "probing", "name": "Linear probing", "keywords": ["linear probe", "probing"]}],
    [{"slug": slug, "name": slug} for slug in MOTIVATION_CUES],
)
# words the rules look for, among ordinary ones, so that generated texts often come close to a statement
WORDS = [
    *STAKES,
    *CONCERNS,
    *(w for cues in MOTIVATION_CUES.values() for w in cues),
    "the",
    "model",
    "we",
    "probe",
    "AI",
    ".",
]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(
        st.one_of(st.sampled_from(WORDS), st.text(max_size=12)),
        max_size=40,
    ).map(lambda parts: " ".join(parts)),
    st.sampled_from([" ", "\n", ". ", "! ", "\n\n"]),
)
def test_the_tagger_never_says_stated_without_a_sentence_of_its_input(text, joiner):
    text = joiner.join(text.split(" "))
    for p in EvidenceTagger(*TAXONOMY).propose(text):
        assert p.evidence and p.evidence in text
        if p.kind == "motivation":
            assert p.status in ("stated", "partly-stated")
            assert p.evidence == p.evidence.strip()
            assert p.evidence in sentences(text)  # a whole sentence of the input, not a piece of one


def test_the_tagger_says_stated_only_with_catastrophic_stakes_in_the_sentence():
    tagger = EvidenceTagger(*TAXONOMY)
    misuse = "We defend against jailbreaks. Our probes detect harmful outputs."
    assert [(p.slug, p.status, p.evidence) for p in tagger.propose(misuse) if p.kind == "motivation"] == [
        ("control", "partly-stated", "We defend against jailbreaks."),  # CONTRIBUTING.md's own example of partly
        ("monitoring", "partly-stated", "Our probes detect harmful outputs."),
    ]
    assert [p for p in tagger.propose("Our probes detect edges in images.") if p.kind == "motivation"] == []
    text = "We train linear probes. They could detect a catastrophic action before it takes effect."
    found = {(p.kind, p.slug): p for p in tagger.propose(text)}
    assert found[("motivation", "monitoring")].status == "stated"
    assert found[("motivation", "monitoring")].evidence == (
        "They could detect a catastrophic action before it takes effect."
    )
    assert found[("technique", "probing")].evidence == "linear probes"


def test_kb_tag_quotes_the_abstracts_sentence_and_the_suggestion_stays_out_of_filters(data, kb):
    sentence = "Our probes could detect a catastrophic takeover attempt."
    work = {
        "id": "zz-untagged-2024",
        "kind": "paper",
        "title": "Untagged",
        "year": 2024,
        "abstract": f"We read activations. {sentence} Nothing else.",
        "abstract_source": "arXiv v1",
    }
    path = data / "works" / "papers.jsonl"
    path.write_text(path.read_text() + json.dumps(work) + "\n")
    assert kb("tag", "--rules-only").exit_code == 0
    tag = next(t for t in json.loads(kb("show", "zz-untagged-2024", "--json").stdout)["motivations"])
    assert (tag["slug"], tag["status"], tag["by"], tag["where"], tag["quote"]) == (
        "monitoring",
        "stated",
        "rule",
        "abstract",
        sentence,
    )
    assert kb("validate").exit_code == 0  # the quote stands in the abstract, as validate checks
    ids = lambda *args: [r["id"] for r in json.loads(kb("list", *args, "--json").stdout)]  # noqa: E731
    assert "zz-untagged-2024" not in ids("--stated") + ids("-m", "monitoring")
    assert "zz-untagged-2024" in ids("--stated", "--include-suggested")


# -- the evidence-first tagger, fitted ------------------------------------------------------------------------------

import numpy as np  # noqa: E402

from kb import evidence_model, tagging  # noqa: E402

STATES = "A deceptive model could cause a catastrophic takeover unless we detect it."
FILLER = ("We train linear probes on activations.", "Accuracy reaches 91% on six datasets.", "Code is released.")


def synthetic_works(n=60, seed=0):
    """Works whose abstracts state a monitoring motivation (with a curated quote) or state none."""
    import random

    rng = random.Random(seed)
    works = []
    for i in range(n):
        stating = i % 2 == 0
        body = rng.sample(FILLER, 3)
        if stating:
            body.insert(rng.randrange(4), STATES)
        motivations = (
            [{"slug": "monitoring", "status": "stated", "by": "curator", "quote": STATES, "where": "abstract"}]
            if stating
            else [{"slug": "auditing", "status": "inferred", "by": "curator", "reasoning": "a reader's view"}]
        )
        works.append(
            {
                "id": f"synthetic-{i}",
                "title": f"Work {i}",
                "abstract": " ".join(body),
                "abstract_source": "arXiv v1",
                "motivations": motivations,
                "techniques": [{"slug": "probing", "by": "curator"}],
            }
        )
    return works


@pytest.fixture(scope="module")
def fitted():
    return EvidenceTagger(*TAXONOMY).fit(synthetic_works())


def test_the_fitted_tagger_learns_which_sentence_states_a_motivation_and_quotes_it(fitted):
    found = [p for p in fitted.propose(" ".join([FILLER[0], STATES, FILLER[1]])) if p.kind == "motivation"]
    assert [(p.slug, p.status, p.evidence) for p in found] == [("monitoring", "stated", STATES)]
    assert [p for p in fitted.propose(" ".join(FILLER)) if p.kind == "motivation"] == []


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from([STATES, *FILLER, *WORDS]), max_size=30).map(" ".join))
def test_the_fitted_tagger_never_says_stated_without_a_whole_sentence_of_its_input(fitted, text):
    for p in fitted.propose(text):
        assert p.evidence and p.evidence in text
        if p.kind == "motivation":
            assert p.status in ("stated", "partly-stated")
            assert p.evidence in sentences(text)


def test_the_tagger_learns_nothing_from_the_held_out_part():
    works = synthetic_works()
    sealed = [w for w in works if tagging.held_out(w["id"])]
    assert sealed and len(sealed) < len(works)
    before = EvidenceTagger(*TAXONOMY).fit(tagging.fitting_set(works)).motivation_model
    for w in sealed:  # the held-out works' labels turned upside down change nothing the tagger learns
        w["motivations"] = [{"slug": "control", "status": "stated", "by": "curator", "quote": w["abstract"]}]
    after = EvidenceTagger(*TAXONOMY).fit(tagging.fitting_set(works)).motivation_model
    assert after.threshold == before.threshold
    assert after.sentence.coef_.tolist() == before.sentence.coef_.tolist()
    assert not any(tagging.held_out(w["id"]) for w in tagging.fitting_set(works))


def test_works_added_after_the_freeze_are_scored_alone_and_never_learned_from():
    works = synthetic_works()
    added = frozenset(w["id"] for w in tagging.fitting_set(works)[:6])  # six the tagger would otherwise learn from
    result = tagging.evaluate_evidence(works, *TAXONOMY, "added", added)
    assert result["part"] == "added" and "6 works named as added" in result["split"]
    assert result["motivation_works"] == 6
    for w in works:  # the added works' labels turned upside down change nothing the tagger learns ...
        if w["id"] in added:
            w["motivations"] = [{"slug": "control", "status": "stated", "by": "curator", "quote": w["abstract"]}]
    again = tagging.evaluate_evidence(works, *TAXONOMY, "added", added)
    assert again["threshold"] == result["threshold"]
    assert again["stated"] != result["stated"]  # ... only what it is scored against


def test_with_too_few_curated_statements_the_tagger_keeps_its_rules():
    works = synthetic_works(n=10)  # five stating works: fewer than evidence_model.MIN_STATING_WORKS
    tagger = EvidenceTagger(*TAXONOMY).fit(works)
    assert tagger.motivation_model is None
    assert [p.slug for p in tagger.propose(STATES) if p.kind == "motivation"] == ["deception"]  # the rules' choice


class _Fixed:
    """A fitted model's stand-in that gives these probabilities, whatever it is shown."""

    def __init__(self, p):
        self.p = np.array(p)

    def predict(self, X):
        return self.p


def test_a_statement_is_filed_under_the_motivation_it_names_over_a_likelier_topic_it_does_not_name():
    # the topic model leans to control (0.5) over deception (0.4), but the one stating sentence names deception
    # alone: the old rule filed it under control, the likeliest topic, with a sentence that never names control
    cues = {slug: tagging._stems(tagging.MOTIVATION_CUES[slug]) for slug in ("deception", "control")}
    model = evidence_model.MotivationModel(list(cues), cues, tagging._STAKES, tagging._CONCERNS)
    said = "Models could deceive their overseers."
    text = " ".join([said, FILLER[0]])
    model.sentence, model.topic = _Fixed([0.8, 0.05]), _Fixed([0.4, 0.5])
    assert model.score(sentences(text), text) == {"deception": (pytest.approx(0.8 * 0.4), said)}


def test_a_sentence_about_scheming_models_is_filed_under_deception_over_a_likelier_topic():
    # the standard's words for deception at scale: before they were cues, neither motivation named the sentence and
    # the likelier topic (monitoring, 0.5 against 0.4) took it at half its score
    cues = {slug: tagging._stems(tagging.MOTIVATION_CUES[slug]) for slug in ("deception", "monitoring")}
    model = evidence_model.MotivationModel(list(cues), cues, tagging._STAKES, tagging._CONCERNS)
    for said in (
        "Highly capable AI systems could secretly pursue misaligned goals, which we call scheming.",
        "Our results suggest a risk of alignment faking in future models.",
        "A model may learn to hide its goals from its developers.",
    ):
        text = " ".join([said, FILLER[0]])
        model.sentence, model.topic = _Fixed([0.8, 0.05]), _Fixed([0.4, 0.5])
        assert model.score(sentences(text), text) == {"deception": (pytest.approx(0.8 * 0.4), said)}


def test_the_topic_learns_a_motivation_from_words_its_cue_list_does_not_hold():
    # works on debate, quoted for monitoring, and works on data filtering, quoted for nothing: "debate" is no cue
    assert not tagging._stems(MOTIVATION_CUES["monitoring"]).search("Two models debate.")
    texts = [f"Two models debate question {i} before a judge." for i in range(10)]
    texts += [f"We filter pretraining data with classifier {i}." for i in range(10)]
    labels = {"monitoring": np.array([1.0] * 10 + [0.0] * 10)}
    words = evidence_model.WordTopic(["monitoring"]).fit(texts, labels)
    debate, filtering = words.logits(["A judge reads the debate.", "Filtered pretraining data."])[:, 0]
    assert debate > 0.5 and filtering < -0.5  # log-odds leaning clearly each way, not a model that learned nothing


def test_the_topic_model_weighs_word_scores_from_models_that_never_saw_the_work():
    # a work's own label turned upside down leaves its own row of the word model's scores as it was (out of fold),
    # while it changes what the works of other folds are scored by
    works = synthetic_works()
    slugs = list(MOTIVATION_CUES)
    words = lambda: evidence_model.WordTopic(slugs)  # noqa: E731
    before = evidence_model.learned_logits(words, works, slugs, b"kb-words")[1]
    works[0]["motivations"] = [{"slug": "control", "status": "stated", "by": "curator", "quote": STATES}]
    after = evidence_model.learned_logits(words, works, slugs, b"kb-words")[1]
    assert after[0].tolist() == before[0].tolist()
    assert not np.array_equal(after, before)


def unit_vectors(texts):
    """A stand-in for MiniLM: a text's vector from the hash of each of its words, normalised (deterministic)."""
    import hashlib

    out = np.zeros((len(texts), 16))
    for i, text in enumerate(texts):
        for word in text.lower().split():
            out[i, hashlib.blake2b(word.encode(), digest_size=1).digest()[0] % 16] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def test_the_topic_learns_a_motivation_from_an_embedding_that_shares_no_word_with_its_cues():
    # two subjects no cue and no shared stem names, set apart only by where their vectors point
    near = {f"text {i}": np.array([1.0, 0.1 * i]) for i in range(10)}
    far = {f"other {i}": np.array([0.1 * i, 1.0]) for i in range(10)}
    vectors = evidence_model.Embeddings(lambda texts: np.array([{**near, **far}[t] for t in texts]))
    labels = {"monitoring": np.array([1.0] * 10 + [0.0] * 10)}
    topic = evidence_model.VectorTopic(["monitoring"], vectors).fit([*near, *far], labels)
    vectors.known |= {"new near": np.array([1.0, 0.3]), "new far": np.array([0.3, 1.0])}
    leaning_near, leaning_far = topic.logits(["new near", "new far"])[:, 0]
    assert leaning_near > 0.5 and leaning_far < -0.5


def test_given_embeddings_the_tagger_reads_them_asking_once_per_abstract_and_still_quotes_its_input():
    asked: list[str] = []

    def embed(texts):
        asked.extend(texts)
        return unit_vectors(texts)

    works = synthetic_works()
    plain = EvidenceTagger(*TAXONOMY).fit(works).motivation_model
    tagger = EvidenceTagger(*TAXONOMY, embed).fit(works)
    model = tagger.motivation_model
    assert plain.embedding is None and model.embedding is not None
    assert len(model.topic.coef_) == len(plain.topic.coef_) + 1  # one more feature: the embedding's log-odds
    assert sorted(asked) == sorted({w["abstract"] for w in works})  # each abstract once, folds inside folds too
    text = " ".join([FILLER[0], STATES, FILLER[1]])
    for p in tagger.propose(text):
        assert p.evidence in text and (p.kind != "motivation" or p.evidence in sentences(text))


def test_the_evaluation_says_what_the_tagger_read_to_choose_a_motivation(kb):
    works = synthetic_works()
    assert tagging.evaluate_evidence(works, *TAXONOMY, "held-out")["reads"] == tagging.READS_WORDS
    with_vectors = tagging.evaluate_evidence(works, *TAXONOMY, "held-out", embed=unit_vectors)
    assert with_vectors["reads"] == tagging.READS_EMBEDDING and "embedding" in tagging.READS_EMBEDDING
    # the shipped catalogue of the tests has too few statements to fit on: rules alone, no topic model to describe
    figures = json.loads(kb("tag", "eval", "--rules-only", "--json").stdout)["evidence-first"]
    assert figures["threshold"] is None and figures["reads"] is None


def test_kb_tag_with_embeddings_hands_them_to_the_evidence_tagger_and_embeds_the_abstracts_before_the_lock(
    data, kb, monkeypatch
):
    asked: list[list[str]] = []
    handed = []

    def embed(texts):
        asked.append(list(texts))
        return unit_vectors(texts)

    def retag(ds, suggestions, embed=None):  # runs under data/'s lock
        handed.append((embed, len(asked)))
        return retag_as_shipped(ds, suggestions, embed)

    retag_as_shipped = tagging.retag
    monkeypatch.setattr(tagging, "_embedder", lambda ws, note: embed)
    monkeypatch.setattr(tagging, "retag", retag)
    assert kb("tag").exit_code == 0
    [(given, before_the_lock)] = handed
    assert given is embed  # the evidence-first tagger under the lock gets the same embeddings
    works = [json.loads(line) for f in (data / "works").glob("*.jsonl") for line in f.read_text().splitlines()]
    abstracts = {w["abstract"] for w in works if w.get("abstract")}
    assert abstracts and any(abstracts <= set(call) for call in asked[:before_the_lock])


def test_a_newton_step_through_the_rows_system_equals_the_direct_one():
    rng = np.random.default_rng(0)
    Z, d = rng.normal(size=(8, 30)), rng.uniform(0.05, 0.25, size=8)  # more features than rows: Woodbury
    penalty, gradient = rng.uniform(0.5, 5.0, size=30), rng.normal(size=30)
    direct = np.linalg.solve((Z * d[:, None]).T @ Z + np.diag(penalty), gradient)
    assert np.allclose(evidence_model._newton(Z, penalty)(d, gradient), direct)


def test_a_threshold_weighted_more_toward_recall_never_stands_higher():
    model = evidence_model.MotivationModel([], {}, tagging._STAKES, tagging._CONCERNS)
    rights = [True, True, True, False, True, True, False, True, False, True, False, False, True, False, False]
    model.oof = [(1 - k / 20, right) for k, right in enumerate(rights)]
    model.wanted = sum(rights) + 3
    thresholds = [model.fitted_threshold(beta)[0] for beta in (0.3, 0.5, 1.0, 2.0)]
    assert thresholds == sorted(thresholds, reverse=True) and thresholds[0] > thresholds[-1]
    assert model.fitted_threshold()[0] == model.fitted_threshold(evidence_model.BETA)[0]


def test_a_keyword_found_mostly_in_works_without_its_technique_is_dropped():
    texts = ["we use ablation and probes", "an ablation study", "ablation of heads", "linear probes"]
    labels = {"probing": np.array([1, 0, 0, 1])}
    patterns = {"probing": [tagging._pattern("probes"), tagging._pattern("ablation")]}
    kept = evidence_model.prune_keywords(texts, labels, patterns)
    assert [p.pattern for p in kept["probing"]] == [patterns["probing"][0].pattern]


def test_a_phrase_of_many_subjects_counts_only_beside_its_ancestor_when_the_fitting_set_says_so():
    texts = [
        "pruning by the gradient of the loss",
        "we prune weights with gradient scores",
        "a gradient-free pruning rule",
        "gradient descent on probes",
        "the gradient of a probe's loss",
    ]
    labels = {"gradient-based-pruning": np.array([1, 1, 0, 0, 0]), "probing": np.array([0, 0, 0, 1, 1])}
    keywords = {
        "gradient-based-pruning": [tagging.phrase_pattern("gradient")],
        "probing": [tagging.phrase_pattern("probe")],
    }
    contexts = {slug: [tagging.phrase_pattern("pruning"), tagging.phrase_pattern("prune")] for slug in keywords}
    gated = evidence_model.context_gates(texts, labels, keywords, contexts)
    assert list(gated) == ["gradient-based-pruning"]  # probing's phrase needs no context: F1 would fall with it


def test_a_fitted_tagger_ignores_a_gated_phrase_in_a_text_that_names_no_ancestor():
    techniques = [
        {"slug": "pruning", "name": "Pruning", "keywords": ["prune"]},
        {"slug": "gradient-pruning", "name": "Gradient pruning", "parent": "pruning", "keywords": ["gradient"]},
        {"slug": "probing", "name": "Linear probing", "keywords": ["probe"]},
    ]
    abstracts = {
        "gradient-pruning": ["Pruning by the gradient of the loss.", "We prune weights by gradient scores."],
        "probing": ["A probe trained by gradient descent.", "The gradient of a probe's loss."],
    }
    works = [
        {
            "id": f"{slug}-{i}",
            "title": "A study",
            "abstract": text,
            "abstract_source": "arXiv v1",
            "techniques": [{"slug": slug, "by": "curator"}],
            "motivations": [],
        }
        for slug, texts in abstracts.items()
        for i, text in enumerate(texts)
    ]
    tagger = EvidenceTagger(techniques, TAXONOMY[1]).fit(works)

    def found(text):
        return {(p.slug, p.evidence) for p in tagger.propose(text) if p.kind == "technique"}

    assert ("gradient-pruning", "gradient") not in found("We follow the gradient of a reward.")
    assert ("gradient-pruning", "gradient") in found("Pruning heads: we rank them by their gradient.")


@pytest.mark.parametrize(
    "phrase, text",
    [
        ("sparse autoencoder", "we train sparse auto-encoders on"),
        ("difference-in-means", "the difference in means direction"),
        ("orthogonalisation", "weight orthogonalization removes it"),
        ("mean-centring", "mean centring the activations"),
        ("subgraph", "a sub-graph of heads"),
    ],
)
def test_a_taxonomy_phrase_is_found_in_its_other_spellings(phrase, text):
    assert tagging.phrase_pattern(phrase).search(text)


def test_a_spelling_variant_does_not_stretch_a_phrase_into_other_words():
    assert not tagging.phrase_pattern("probes").search("probabilistic")
    assert not tagging.phrase_pattern("circuit").search("short-circuits")
    assert not tagging.phrase_pattern("SAE").search("sae")  # an acronym is matched as written


def test_an_acronym_the_text_spells_out_as_something_else_names_no_technique():
    lat = {"slug": "lat", "name": "Linear Artificial Tomography", "keywords": ["LAT"]}
    tagger = EvidenceTagger([lat], TAXONOMY[1])
    other = "We apply latent adversarial training (LAT) to remove backdoors. LAT works."
    same = "We read concepts with Linear Artificial Tomography (LAT). LAT works."
    assert "lat" not in {p.slug for p in tagger.propose(other) if p.kind == "technique"}
    assert "lat" in {p.slug for p in tagger.propose(same) if p.kind == "technique"}
    assert "lat" in {p.slug for p in tagger.propose("LAT finds the direction.") if p.kind == "technique"}


def test_a_run_of_hyphens_before_an_acronym_is_read_in_one_pass():
    # one pattern for the words and the parenthesis backtracked without end on a run of hyphens with no closing
    # parenthesis after it (22 hyphens: 2 s; 40: hours); a feed's "-----" rule or an ASCII table is enough
    lat = {"slug": "lat", "name": "Linear Artificial Tomography", "keywords": ["LAT"]}
    tagger = EvidenceTagger([lat], TAXONOMY[1])
    text = "LAT works. " + "-" * 40 + " (LAT"
    assert "lat" in {p.slug for p in tagger.propose(text) if p.kind == "technique"}
    spelled = "Notes " + "-" * 40 + " latent adversarial training (LAT). LAT works."
    assert "lat" not in {p.slug for p in tagger.propose(spelled) if p.kind == "technique"}


def test_a_phrase_inside_a_longer_phrase_of_an_unrelated_technique_names_only_that_one():
    techniques = [
        {"slug": "circuit-analysis", "name": "Circuit analysis", "keywords": ["circuit"]},
        {"slug": "representation-rerouting", "name": "Representation rerouting", "keywords": ["circuit breakers"]},
        {"slug": "pruning", "name": "Pruning", "keywords": ["pruning"]},
        {"slug": "structured-pruning", "name": "Structured", "parent": "pruning", "keywords": ["structured pruning"]},
    ]
    tagger = EvidenceTagger(techniques, TAXONOMY[1])

    def found(text):
        return {p.slug: p.evidence for p in tagger.propose(text) if p.kind == "technique"}

    assert found("We train circuit breakers against jailbreaks.") == {"representation-rerouting": "circuit breakers"}
    # the same word standing alone elsewhere in the text still names its own technique
    assert found("Circuit breakers fail; we find the circuit behind it.")["circuit-analysis"] == "circuit"
    # a technique's ancestor is named inside its descendant's phrase too
    assert set(found("We apply structured pruning.")) == {"pruning", "structured-pruning"}


def shipped_tagger() -> EvidenceTagger:
    """The evidence-first tagger over the shipped taxonomy, unfitted: every phrase as written."""
    import tomllib

    from tests.conftest import REPO

    taxonomy = tomllib.loads((REPO / "data" / "taxonomy.toml").read_text())
    return EvidenceTagger(taxonomy["technique"], taxonomy["motivation"])


@pytest.mark.parametrize(
    "text, technique",
    [
        ("We stress-test chain-of-thought monitoring against deliberate evasion.", "ai-control"),
        ("Reasoning models can evade a CoT monitor.", "ai-control"),
        ("We train crosscoders on the base and the chat model.", "sparse-autoencoders"),
        ("Transcoders replace the MLP with a sparse, wide layer.", "sparse-autoencoders"),
        ("Lie detectors flag the policy's deceptive answers.", "probing"),
        ("LLMs linearly encode truthfulness.", "representation-reading"),
        ("We add control vectors to the residual stream at inference time.", "representation-control"),
        ("Hidden states are shifted along a learned editing direction.", "representation-control"),
    ],
)
def test_the_shipped_taxonomy_names_field_terms_for_its_techniques(text, technique):
    assert technique in {p.slug for p in shipped_tagger().propose(text) if p.kind == "technique"}


@pytest.mark.parametrize(
    "text",
    [
        "Our steering intervention shifts activations along a truthful direction at inference time.",
        "Intervening on the residual stream with a steering vector changes the refusal rate.",
        "Knowledge editing updates a fact; activation editing changes a behaviour.",
        "Ablating these concepts during fine-tuning steers generalisation.",
    ],
)
def test_a_steering_intervention_an_edit_or_an_ablated_concept_is_no_causal_intervention(text):
    assert "causal-intervention" not in {p.slug for p in shipped_tagger().propose(text) if p.kind == "technique"}


def test_perturbing_weights_or_inputs_is_no_representation_control():
    text = "We prune by the loss change under a small perturbation of the weights."
    assert "representation-control" not in {p.slug for p in shipped_tagger().propose(text) if p.kind == "technique"}


@pytest.mark.parametrize("sentence", ["Power seeking AI could disempower us.", "This x risk is real.", "A take-over."])
def test_a_stakes_phrase_is_found_with_a_space_or_a_hyphen_between_its_words(sentence):
    assert tagging._STAKES.search(sentence)  # the lists say "power-seeking", "x-risk", "takeover" and "take over"


def test_wilson_interval_matches_the_published_formula():
    assert tagging.wilson(15, 22) == (0.473, 0.836)
    assert tagging.wilson(0, 0) is None
    low, high = tagging.wilson(5, 5)
    assert high == 1.0 and 0.5 < low < 0.6


def test_the_logistic_regression_orders_what_it_was_shown():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] - X[:, 1] + rng.normal(scale=0.5, size=200) > 0).astype(float)
    p = evidence_model.Logistic().fit(X, y).predict(np.array([[2.0, -2.0, 0.0], [-2.0, 2.0, 0.0]]))
    assert p[0] > 0.9 and p[1] < 0.1


def test_kb_tag_eval_says_how_the_split_was_made_and_which_figures_are_a_training_score(kb):
    held_out = kb("tag", "eval", "--rules-only")
    assert held_out.exit_code == 0
    assert "held-out part (not fitted on)" in held_out.stdout
    assert "0 mod 3 are held out; the tagger learns from the others only" in held_out.stdout
    assert "Wilson" in held_out.stdout and "cross-validated (5 folds" not in held_out.stdout
    tuning = kb("tag", "eval", "--rules-only", "--part", "tuning").stdout
    assert "tuning part (a training score)" in tuning and "the tuning part cross-validated" in tuning
    figures = json.loads(kb("tag", "eval", "--rules-only", "--part", "tuning", "--json").stdout)["evidence-first"]
    assert {"precision_ci", "recall_ci"} <= set(figures["stated"]) and "cross_validated" in figures


def test_kb_tag_eval_works_from_a_file_measures_the_evidence_first_tagger_on_those_works_alone(kb, tmp_path):
    listed = tmp_path / "added.txt"
    listed.write_text("# works added after the freeze\ncoup-probes-2023\n\nlat-paper-2023  # a comment\n")
    result = kb("tag", "eval", "--rules-only", "--works-from", str(listed), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["evidence-first"]["part"] == "added" and report["technique"]["works"] == 2
    printed = kb("tag", "eval", "--rules-only", "--works-from", str(listed)).stdout
    assert "added part (not fitted on); 2 works named as added" in printed
    listed.write_text("coup-probes-2023\n# a comment\nno-such-work\n")
    missing = kb("tag", "eval", "--rules-only", "--works-from", str(listed))
    assert missing.exit_code == 1 and f"{listed}:3: no work 'no-such-work'" in missing.stderr
    listed.write_text("# nothing but comments\n\n")
    empty = kb("tag", "eval", "--rules-only", "--works-from", str(listed))
    assert empty.exit_code == 2 and "names no work" in empty.stderr  # not the whole split, silently
    both = kb("tag", "eval", "--rules-only", "--work", "coup-probes-2023", "--part", "tuning")
    assert both.exit_code == 2 and "--part" in both.stderr  # one or the other, never one silently ignored


def test_the_recall_ceiling_counts_only_quotes_that_stand_in_the_text_the_tagger_reads():
    said = "Such a model could cause a catastrophe."
    motivation = lambda slug, quote, where="abstract": {  # noqa: E731
        "slug": slug,
        "status": "stated",
        "by": "curator",
        "quote": quote,
        "where": where,
    }
    works = [
        {  # the quote in the abstract, though a line break splits it there: found
            "id": "a",
            "title": "Probing things",
            "abstract": "We train linear probes.\nSuch a model could\ncause a catastrophe.",
            "abstract_source": "arXiv v1",
            "techniques": [{"slug": "probing", "by": "curator"}],
            "motivations": [motivation("monitoring", said), motivation("monitoring", "Elsewhere.", "post")],
        },
        {  # quoted from the introduction, which the tagger does not read; the technique named by no phrase
            "id": "b",
            "title": "Reading minds",
            "abstract": "We read activations.",
            "abstract_source": "arXiv v1",
            "techniques": [{"slug": "probing", "by": "curator"}],
            "motivations": [motivation("deception", said, "section: Introduction"), motivation("control", "")],
        },
        {  # no text at all: counted only among all the labels
            "id": "c",
            "title": "A post",
            "techniques": [],
            "motivations": [motivation("control", said, "post")],
        },
    ]
    c = tagging.recall_ceiling(works, *TAXONOMY)
    assert (c["quotes_found"], c["positives"]) == (1, 3)  # a work's two quotes for one motivation count once
    assert (c["quotes_found_all"], c["positives_all"]) == (1, 4)
    assert (c["named"], c["labels"]) == (1, 2)


def test_kb_tag_eval_prints_the_recall_ceiling(kb):
    result = kb("tag", "eval", "--rules-only")
    assert result.exit_code == 0
    assert "recall ceiling: quotes found in the text the tagger reads: " in result.stdout
    ceiling = json.loads(kb("tag", "eval", "--rules-only", "--json").stdout)["evidence-first"]["ceiling"]
    assert 0 <= ceiling["quotes_found"] <= ceiling["positives"] <= ceiling["positives_all"]
    assert f"{ceiling['quotes_found']} of {ceiling['positives']}" in result.stdout


def test_an_abstract_splits_into_sentences_at_their_ends_not_at_abbreviations():
    text = (
        "Models such as GPT-4, e.g. the largest, may deceive. Their reasoning, i.e. the chain of thought, can be"
        ' monitored. Smith et al. (2022) disagree! "Probes work." J. Smith said so.\nA line break ends one. 3 remain.'
    )
    assert sentences(text) == [
        "Models such as GPT-4, e.g. the largest, may deceive.",
        "Their reasoning, i.e. the chain of thought, can be monitored.",
        "Smith et al. (2022) disagree!",
        '"Probes work."',
        "J. Smith said so.",
        "A line break ends one.",
        "3 remain.",
    ]
    assert sentences("A lower-case word. continues the sentence.") == ["A lower-case word. continues the sentence."]
