"""`kb tag eval` on held-out works: the figures for works the taxonomy's keywords were not written for."""

import json

import numpy as np

from kb import tagging
from tests.test_tagging import MOTIVATIONS, TECHNIQUES  # its tags without works here are not scored


def corpus(n=40):
    works = []
    for i in range(n):
        probing = i % 2 == 0
        # the second half never names its technique: only a learned tagger could find it there
        title = f"{'Probing' if probing else 'Pruning'} study {i}" if i < n // 2 else f"A study, number {i}"
        works.append(
            {
                "id": f"w{i}",
                "title": title,
                "abstract": "",
                "summary": None,
                "techniques": [{"slug": "probing" if probing else "pruning", "by": "curator"}],
                "motivations": [],
            }
        )
    return works


def test_the_model_is_trained_on_the_other_works_only(monkeypatch):
    rng = np.random.default_rng(0)
    memory = {}

    def embed(texts):
        return np.stack([memory.setdefault(t, rng.normal(size=16)) for t in texts])

    seen = []
    fit = tagging.ModelTagger.fit

    def spy(self, X, labels):
        seen.append({tuple(row) for row in X})
        return fit(self, X, labels)

    monkeypatch.setattr(tagging.ModelTagger, "fit", spy)
    works = corpus()
    held_out = {w["id"] for w in works[10:30]}
    result = tagging.evaluate_held_out(works, TECHNIQUES, MOTIVATIONS, embed, held_out)

    assert result["technique"]["works"] == 20 and result["technique"]["trained_on"] == 20
    held_out_vectors = {tuple(memory[w["title"]]) for w in works if w["id"] in held_out}
    assert seen and all(rows and not rows & held_out_vectors for rows in seen)


def test_rules_score_the_held_out_works_alone_with_the_taxonomy_as_it_is():
    works = corpus()
    held_out = {w["id"] for w in works[10:30]}  # ten that name their technique, ten that do not
    result = tagging.evaluate_held_out(works, TECHNIQUES, MOTIVATIONS, None, held_out)
    rows = {r["tag"]: r for r in result["technique"]["tags"]}
    assert rows["probing"]["positives"] == 10  # w10..w28, even: held-out positives only
    assert rows["probing"]["rule_p"] == 1.0
    assert rows["probing"]["rule_r"] == 0.5  # five of the ten say "probing"
    assert rows["representation-reading"]["positives"] == 10  # labels count for ancestors
    assert "model_f1" not in rows["probing"]  # no embeddings, no model columns
    assert result["technique"]["macro_f1"]["rule"] == round(np.mean([r["rule_f1"] for r in rows.values()]), 3)


def new_work(i: int, title: str) -> str:
    record = {
        "id": f"zz-new-{i}-2030",
        "kind": "paper",
        "title": title,
        "year": 2030,
        "techniques": ["probing"],
        "motivations": [{"slug": "monitoring", "status": "inferred", "reasoning": "Probes used as monitors."}],
        "provenance": [{"source": "curated", "fetched_at": "2030-01-02"}],
    }
    return json.dumps(record) + "\n"


def test_kb_tag_eval_added_since_measures_the_works_added_from_that_day(data, kb):
    path = data / "works" / "papers.jsonl"
    titles = ["Linear probing for monitoring", "Linear probing of sentiment", "Reading truth from activations"]
    path.write_text(path.read_text() + "".join(new_work(i, t) for i, t in enumerate(titles)))

    result = kb("tag", "eval", "--rules-only", "--added-since", "2030-01-01", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["technique"]["works"] == 3
    rows = {r["tag"]: r for r in report["technique"]["tags"]}
    assert rows["probing"]["positives"] == 3
    assert rows["probing"]["rule_r"] == round(2 / 3, 3)  # the third title does not name the technique

    everything = json.loads(kb("tag", "eval", "--rules-only", "--json").stdout)
    assert report["technique"]["trained_on"] == everything["technique"]["works"] - 3

    one = json.loads(kb("tag", "eval", "--rules-only", "--work", "zz-new-0-2030", "--json").stdout)
    assert one["technique"]["works"] == 1


def test_kb_tag_eval_names_what_it_cannot_find_or_read(kb):
    missing = kb("tag", "eval", "--rules-only", "--work", "no-such-work")
    assert missing.exit_code != 0 and "no-such-work" in missing.output
    bad_date = kb("tag", "eval", "--added-since", "last tuesday")
    assert bad_date.exit_code == 2 and "last tuesday" in bad_date.output
