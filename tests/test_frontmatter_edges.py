"""Front matter as editors really write it: a byte-order mark before the '---', and a key given twice."""

import pytest

from kb.store import datadir, frontmatter, validate
from tests.conftest import SUMMARY

BOM = "\ufeff"


def problems(data):
    return [str(p) for p in validate.check(datadir.load(data))]


def test_a_leading_byte_order_mark_is_dropped_and_the_lines_stay_where_they_were():
    plain = frontmatter.parse(SUMMARY)
    marked = frontmatter.parse(BOM + SUMMARY)
    assert marked == plain and marked.key_lines["work"] == 2


def test_a_byte_order_mark_is_dropped_only_at_the_start():
    doc = frontmatter.parse("---\nwork: x\n---\n\n" + BOM + "Body\n")
    assert doc.body == BOM + "Body\n"  # inside the text it is the text's business (kb validate's checks on prose)


def test_kb_validate_accepts_a_summary_saved_with_a_byte_order_mark(kb, data):
    # Windows Notepad's 'UTF-8' writes the mark before the first byte
    (data / "summaries" / "coup-probes-2023.md").write_bytes(BOM.encode() + SUMMARY.encode())
    result = kb("validate")
    assert result.exit_code == 0, result.output
    assert "1 summaries" in result.stdout


def test_a_key_given_twice_is_an_error_on_the_line_of_the_second():
    text = "---\nwork: x\nstatus: draft\ncontributors: [Me]\nstatus: reviewed\n---\nBody\n"
    with pytest.raises(frontmatter.FrontMatterError) as e:
        frontmatter.parse(text)
    assert e.value.line == 5
    assert str(e.value) == "status: given twice in the front matter, on line 3 and again here"


@pytest.mark.parametrize(
    ("front", "line"),
    [
        ("a: {x: 1, x: 2}", 2),  # one line, a flow mapping
        ("a:\n  x: 1\n  y: 2\n  x: 3", 5),  # nested
        ("a:\n  - k: 1\n    k: 2", 4),  # in a list
    ],
)
def test_a_key_given_twice_in_a_nested_mapping_is_an_error_too(front, line):
    with pytest.raises(frontmatter.FrontMatterError) as e:
        frontmatter.parse(f"---\n{front}\n---\nBody\n")
    assert e.value.line == line and "given twice" in str(e.value)


@pytest.mark.parametrize(
    "front",
    [
        "status: draft\nStatus: reviewed",  # YAML keys are case-sensitive: two keys
        "1: a\n'1': b",  # the number 1 and the string '1'
        "base: &b {status: draft}\n<<: *b\nstatus: reviewed",  # a merged key overridden, as YAML means it to be
        "a: &a {x: 1}\nb: *a",  # an alias repeats a mapping, not a key
    ],
)
def test_keys_that_only_look_alike_are_not_duplicates(front):
    assert frontmatter.parse(f"---\n{front}\n---\nBody\n").meta


def test_kb_validate_names_the_file_line_and_key_given_twice(kb, data):
    text = SUMMARY.replace("status: reviewed\n", "status: draft\n").replace("xrisk:", "status: reviewed\nxrisk:")
    (data / "summaries" / "coup-probes-2023.md").write_text(text)
    assert text.splitlines()[6] == "status: reviewed"  # line 7 of the file
    expected = "data/summaries/coup-probes-2023.md:7: status: given twice in the front matter, on line 3 and again here"
    assert expected in problems(data)
    result = kb("validate")
    assert result.exit_code == 1
    assert expected in result.stderr


def test_a_key_given_twice_is_named_without_its_control_characters():
    with pytest.raises(frontmatter.FrontMatterError) as e:
        frontmatter.parse('---\n"a\\e[2J": 1\n"a\\e[2J": 2\n---\nBody\n')
    assert e.value.line == 3 and str(e.value).startswith("'a\\x1b[2J': given twice")
