"""What the technique pages say about a methods result: where it was found, what the model can show, how to rerun."""

import json

from tests.test_site import build


def test_a_technique_page_names_the_setting_and_what_a_sentence_embedding_model_can_show(data, tmp_path):
    folder = tmp_path / "results" / "probes-vs-lat"
    folder.mkdir(parents=True)
    note = (
        "all-MiniLM-L6-v2 is a small sentence-embedding model (BertModel, 6 layers, 384 dimensions), trained so that "
        "sentences of similar meaning lie close together; it is not a language model."
    )
    (folder / "result.json").write_text(
        json.dumps(
            {
                "experiment": "probes-vs-lat",
                "title": "Probes versus LAT",
                "techniques": ["lat"],
                "works": ["lat-paper-2023", "not-in-this-catalogue-2020"],
                "run": {
                    "finished": "2026-11-25T06:00:00",
                    "model": "all-MiniLM-L6-v2",
                    "layer": 4,
                    "pooling": "mean",
                    "seed_values": [0, 1, 2],
                    "model_note": note,
                    "rerun": "kb methods run probes-vs-lat --model DIR --layer N --pooling last",
                },
                "claims": [
                    {
                        "text": "Truth is linearly readable",
                        "verdict": "not reproduced",
                        "evidence": "negated 0.06 [0.04, 0.08] [all-MiniLM-L6-v2, layer 4, mean pooling]",
                        "rule": "reproduced when the interval lies above 0.9",
                    },
                    {"text": "MD at least LAT", "verdict": "not testable", "evidence": "coincide", "rule": "margin"},
                ],
                "figures": [],
            }
        )
    )
    out = tmp_path / "_site"
    build(data, out, results_dir=tmp_path / "results")
    html = (out / "techniques" / "lat.html").read_text()
    assert "model all-MiniLM-L6-v2, layer 4, mean pooling · seeds 0, 1, 2" in html
    assert "small sentence-embedding model" in html and "it is not a language model" in html
    assert "<code>kb methods run probes-vs-lat --model DIR --layer N --pooling last</code>" in html
    assert "not reproduced" in html and "[all-MiniLM-L6-v2, layer 4, mean pooling]" in html
    # each claim's rule beside it, and the fourth verdict styled as its own
    assert '<span class="rule">Rule: reproduced when the interval lies above 0.9.</span>' in html
    assert '<li class="verdict-not-testable"><strong>not testable</strong>: MD at least LAT' in html
    assert "corrected resampled t" in html
    # the works whose claims are re-tested are named and linked; one the catalogue lacks is left out
    assert 'The works behind these claims: <a href="../works/lat-paper-2023.html">' in html
    assert "not-in-this-catalogue" not in html


def test_an_older_result_without_the_new_fields_still_renders(data, tmp_path):
    folder = tmp_path / "results" / "probes-vs-lat"
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(
        json.dumps({"experiment": "probes-vs-lat", "title": "Old", "techniques": ["lat"], "run": {"model": "m"}})
    )
    out = tmp_path / "_site"
    build(data, out, results_dir=tmp_path / "results")
    html = (out / "techniques" / "lat.html").read_text()
    assert "model m" in html and "layer" not in html.split("model m")[1].split("</p>")[0]
