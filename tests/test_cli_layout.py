"""What people read in a terminal: 80 columns suffice, numbers are written for their scale."""

import pytest

from kb.cli.output import number


@pytest.mark.parametrize(
    "args",
    [
        ("search", "probe"),
        ("search", "classifier"),
        ("list",),
        ("similar", "coup-probes-2023"),
        ("show", "coup-probes-2023"),
    ],
)
@pytest.mark.slow
def test_listings_and_a_work_fit_in_80_columns(kb, monkeypatch, args):
    monkeypatch.setenv("COLUMNS", "80")
    result = kb(*args)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) > 2
    assert max(len(line) for line in lines) <= 80
    assert "coup-probes-2023" in result.stdout


def test_a_narrow_listing_shows_whole_titles_and_plain_snippets(kb, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = kb("search", "classifier").stdout
    assert "Coup probes catch catastrophes" in out
    assert "linear classifier" in " ".join(out.split()) and "*linear*" not in out


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1e-6, "1e-6"),
        (1e-5, "1e-5"),
        (1e-4, "1e-4"),
        (0.00012345, "1.23e-4"),
        (0.0005, "5e-4"),
        (0.847, "0.847"),
        (1.0, "1.000"),
        (12.5, "12.5"),
        (3.2e7, "3.2e7"),
        (0.0, "0"),
        (-2e-5, "-2e-5"),
        (float("nan"), "nan"),
        (3, "3"),
    ],
)
def test_numbers_are_written_for_their_scale(value, shown):
    assert number(value) == shown


def test_no_small_nonzero_number_is_written_as_zero():
    for exponent in range(-12, 0):
        assert float(number(10.0**exponent)) == pytest.approx(10.0**exponent)
