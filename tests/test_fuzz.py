"""A small sample of bench/fuzz.py in the suite: every parser and `kb validate` on byte-mutated real inputs, no
crash. The long run (10,000 cases each) is `python bench/fuzz.py`, outside CI's time."""

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("fuzz", Path(__file__).parent.parent / "bench" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["fuzz"] = fuzz
_spec.loader.exec_module(fuzz)

SAMPLE = {"feed": 150, "arxiv": 150, "forum": 100, "openalex": 100, "frontmatter": 300, "query": 300, "validate": 40}


@pytest.mark.parametrize("name", list(SAMPLE))
def test_a_sample_of_mutated_real_inputs_never_crashes(name):
    (target,) = fuzz.targets([name])
    try:
        result = fuzz.fuzz(target, SAMPLE[name], seed=1)
    finally:
        if hasattr(target, "close"):
            target.close()
    crashes = {kind: text for kind, (_, _, text) in result["crashes"].items()}
    assert crashes == {}, crashes
    assert result.get("ok", 0) + result.get("rejected", 0) == SAMPLE[name]


def test_the_mutator_changes_its_input_and_repeats_itself_for_a_seed():
    import random

    body = b"<feed><entry><title>x</title></entry></feed>"
    first = [fuzz.mutate(random.Random(3), body) for _ in range(5)]
    assert first == [fuzz.mutate(random.Random(3), body) for _ in range(5)]
    assert any(m != body for m in first)


def test_a_crash_is_counted_with_its_kind_and_a_first_example():
    def run(body: bytes) -> None:
        if body[:1] == b"!":
            raise KeyError("boom")
        raise ValueError("rejected")

    result = fuzz.fuzz(fuzz.Target("toy", [b"!abc", b"?abc"], run, (ValueError,)), 200, seed=0)
    assert result["crashed"] > 0 and result["rejected"] > 0
    assert result["crashed"] + result["rejected"] == 200
    (kind,) = result["crashes"]
    assert kind.startswith("KeyError at test_fuzz.py:")
