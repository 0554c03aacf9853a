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


def _results(tmp_path, note: str) -> object:
    """Two experiments on one demo model (the same note), both re-testing lat-paper-2023's claims."""
    for name, techniques, verdicts in (
        ("probes-vs-lat", ["lat"], ["reproduced", "inconclusive", "reproduced"]),
        ("coup-probes", ["probing", "lat"], ["not reproduced"]),
    ):
        folder = tmp_path / "results" / name
        folder.mkdir(parents=True)
        (folder / "result.json").write_text(
            json.dumps(
                {
                    "experiment": name,
                    "title": f"Title of {name}",
                    "techniques": techniques,
                    "works": ["lat-paper-2023"],
                    "run": {"finished": "2026-11-25", "model": "m", "model_note": note},
                    "claims": [{"text": f"claim {i}", "verdict": v} for i, v in enumerate(verdicts)],
                    "figures": [],
                }
            )
        )
    return tmp_path / "results"


def test_a_technique_page_opens_with_its_works_and_says_a_model_s_caveat_once(data, tmp_path):
    note = "m is a small sentence-embedding model; it is not a language model."
    out = tmp_path / "_site"
    build(data, out, results_dir=_results(tmp_path, note))
    html = (out / "techniques" / "lat.html").read_text()
    assert html.index('id="works-h"') < html.index('id="impl-h"')  # the literature first, the re-tests after
    assert html.count(note) == 1 and html.count("judged by its 95% interval") == 1
    assert html.count('class="experiment"') == 2
    # filters by kind and by whether the authors state an x-risk motivation, when the works differ in them
    probing = (out / "techniques" / "representation-reading.html").read_text()
    assert 'data-filter-key="kind"' in probing and '<option value="post">post</option>' in probing
    assert 'data-filter-key="motivation"' in probing
    assert 'data-kind="post"' in probing and 'data-motivation="stated"' in probing
    assert 'data-motivation="none-stated"' in probing


def test_a_work_page_names_techniques_not_aliases_and_links_the_experiments_testing_its_claims(data, tmp_path):
    out = tmp_path / "_site"
    build(data, out, results_dir=_results(tmp_path, "a note"))
    html = (out / "works" / "lat-paper-2023.html").read_text()
    assert "Also known as" not in html
    assert '<a href="../methods.html#probes-vs-lat">Title of probes-vs-lat</a>' in html
    assert "<strong>2 reproduced</strong>" in html and "<strong>1 inconclusive</strong>" in html
    assert '<a href="../methods.html#coup-probes">Title of coup-probes</a>' in html
    assert "Also known as" not in (out / "works" / "coup-probes-2023.html").read_text()


def test_the_methods_page_lists_every_experiment_with_its_verdicts_and_is_in_the_navigation(data, tmp_path):
    out = tmp_path / "_site"
    build(data, out, results_dir=_results(tmp_path, "the note"))
    html = (out / "methods.html").read_text()
    for name in ("probes-vs-lat", "coup-probes"):
        assert f'id="{name}"' in html and f'href="#{name}"' in html
    assert html.count("<strong>reproduced</strong>") == 2 and "<strong>not reproduced</strong>" in html
    assert "<strong>2 reproduced</strong>" in html and "<strong>1 not reproduced</strong>" in html  # the index
    assert html.count("the note") == 1 and 'href="works/lat-paper-2023.html"' in html
    assert 'href="methods.html">Methods</a>' in (out / "index.html").read_text()
    assert 'href="../methods.html">Methods</a>' in (out / "works" / "coup-probes-2023.html").read_text()
    empty = tmp_path / "_empty"
    build(data, empty)
    assert "No experiment has been run yet" in (empty / "methods.html").read_text()
